// JSON-RPC over newline-delimited stdio: the hot path of every test.
// Written by hand rather than with the SDK's Client because the SDK validates every message with zod and
// writes once per message, which caps it well below the servers it should be loading (see bench/).
// Requests are written in batches (one write per turn of the event loop), answers matched by id, and
// timeouts swept by one timer instead of one timer per request.
import type { Readable, Writable } from 'node:stream';

export interface Message {
  jsonrpc?: string;
  id?: number | string | null;
  method?: string;
  params?: any;
  result?: any;
  error?: { code: number; message: string; data?: unknown };
}

/** What became of one request: the answer, or why there is none. */
export type Outcome =
  // http: set by an HTTP transport (a 429 comes with a synthesized message.error); absent on stdio.
  | { kind: 'answer'; message: Message; latencyMs: number; http?: { status: number; retryAfter?: string } }
  | { kind: 'timeout' }
  | { kind: 'closed' };

/** Called once with what became of a request. */
export type Done = (o: Outcome) => void;

/** A request in flight. The records are reused: a million requests make no million of them. */
interface Pending {
  done: Done;
  /** The batch it leaves in: the requests of one write share the time of that write. */
  batch: Batch;
}

/** When a batch of requests was written (Infinity until it is). */
interface Batch {
  sentAt: number;
}

export interface ConnectionStats {
  /** Lines on stdout that were not JSON (banners, logs): they corrupt real clients. */
  nonJsonLines: number;
  nonJsonSample: string[];
  /** Answers whose id matched no request in flight. */
  unknownIds: number;
  notifications: number;
  /** Requests from the server (ping, roots/list, sampling) and how they were answered. */
  serverRequests: Record<string, number>;
  /** The largest single message received, in bytes. */
  largestMessage: number;
  /** HTTP only: the MCP sessions opened and ended (see http.ts). */
  sessions?: SessionStats;
}

export interface SessionStats {
  /** A new session every this many requests; undefined: one session for the run. */
  requestsPerSession?: number;
  /** Sessions whose initialize was answered. */
  opened: number;
  /** Sessions ended by mcp-hammer and acknowledged (DELETE answered, or the event stream closed). */
  ended: number;
  /** Sessions the server ended on its own (404 for the session id, or its event stream closed). */
  lost: number;
  /** DELETEs the server refused (e.g. 405): those sessions live on until the server expires them. */
  endRefused: number;
  /** The server gave no session id: every request stands alone. */
  stateless: boolean;
}

export interface Connection {
  /**
   * Send a request; `done` is called once with its outcome, never before send returns. paramsJson is
   * already serialised (arguments are fixed, so it is built once). The load loop's way: no promise, no
   * microtask per request.
   */
  send(method: string, paramsJson: string | undefined, done: Done): void;
  /** The same as a promise, for the handshake and other requests off the hot path. */
  request(method: string, paramsJson?: string): Promise<Outcome>;
  notify(method: string, paramsJson?: string): void;
  inFlight(): number;
  /** The per-request timeout from now on (the handshake may wait longer than a request under load). */
  setTimeoutMs(ms: number): void;
  stats: ConnectionStats;
  /** Fails every request in flight; called when the server exits. */
  close(): void;
}

export interface ConnectionOptions {
  timeoutMs: number;
  /** Called for each request the server sends us; its result is the answer (undefined: method not found). */
  onServerRequest?: (method: string) => unknown;
  now?: () => number;
}

/** Answers to requests a server may send a client mid-run. We declare no sampling or elicitation. */
export function answerServerRequest(method: string): unknown {
  if (method === 'ping') return {};
  if (method === 'roots/list') return { roots: [] };
  return undefined;
}

/**
 * A message the server sent us that is not an answer: a notification is counted; a request is counted and
 * answered (the reply's JSON is returned; the transport sends it).
 */
export function fromServer(msg: Message, stats: ConnectionStats, onServerRequest: (method: string) => unknown): string | null {
  if (msg.id === undefined || msg.id === null) {
    stats.notifications++;
    return null;
  }
  const method = msg.method!;
  stats.serverRequests[method] = (stats.serverRequests[method] ?? 0) + 1;
  const result = onServerRequest(method);
  return JSON.stringify(result === undefined
    ? { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `Method not found: ${method}` } }
    : { jsonrpc: '2.0', id: msg.id, result });
}

const NEWLINE = 10;
const MAX_LINE = 256 * 1024 * 1024;
export const CLOSED: Outcome = Object.freeze({ kind: 'closed' });

/** request() on top of send(), shared by the transports. */
export function promised(send: Connection['send']): Connection['request'] {
  return (method, paramsJson) => new Promise((resolve) => send(method, paramsJson, resolve));
}

const settled: Done = () => {};

export function connectStdio(input: Readable, output: Writable, options: ConnectionOptions): Connection {
  const now = options.now ?? (() => performance.now());
  const onServerRequest = options.onServerRequest ?? answerServerRequest;
  // Requests in flight: id -> slot, in the order sent (the sweeper finds the expired ones first). The map holds
  // slot numbers, not the records: V8 links each outgrown table of a Map to its successor, and a dead table
  // already moved to the old generation keeps what it references alive through later scavenges. With the
  // records as values, every request's promise, answer and parsed message were copied and promoted, and
  // garbage collection took a third of the tester's time (see bench/).
  const pending = new Map<number, number>();
  const slots: Pending[] = [];
  const freeSlots: number[] = [];
  /** Ends a request: takes it out of the map, frees its slot, and hands back its callback. */
  const settle = (id: number, slot: number) => {
    pending.delete(id);
    const p = slots[slot];
    const done = p.done;
    p.done = settled; // let go of the caller's closure
    freeSlots.push(slot);
    return done;
  };
  const stats: ConnectionStats = {
    nonJsonLines: 0, nonJsonSample: [], unknownIds: 0, notifications: 0, serverRequests: {}, largestMessage: 0,
  };
  let nextId = 1;
  let closed = false;

  // Lines wait here until the end of this turn of the event loop and leave in one write: one system call
  // (and one wake-up of the server) per batch rather than per request. Requests in the batch are stamped
  // with the time of that write, so the latency is the server's and the pipe's, not our own queueing.
  let queue = '';
  let batch: Batch = { sentAt: Infinity };
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (closed || queue === '') return;
    const text = queue;
    queue = '';
    batch.sentAt = now();
    batch = { sentAt: Infinity };
    output.write(text);
  };
  const send = (line: string) => {
    queue += line;
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  // A request line is '{"jsonrpc":"2.0","id":' + id + tail; the tail is built once for a run of equal calls.
  let tailMethod = '';
  let tailParams: string | undefined;
  let tail = '';
  const tailFor = (method: string, paramsJson: string | undefined) => {
    if (method !== tailMethod || paramsJson !== tailParams || tail === '') {
      tailMethod = method;
      tailParams = paramsJson;
      tail = `,"method":${JSON.stringify(method)}${paramsJson === undefined ? '' : `,"params":${paramsJson}`}}\n`;
    }
    return tail;
  };

  const handle = (msg: Message, receivedAt: number) => {
    if (msg.method !== undefined) {
      const reply = fromServer(msg, stats, onServerRequest);
      if (reply) send(reply + '\n');
      return;
    }
    const slot = typeof msg.id === 'number' ? pending.get(msg.id) : undefined;
    if (slot === undefined) {
      stats.unknownIds++;
      return;
    }
    const latencyMs = receivedAt - slots[slot].batch.sentAt;
    settle(msg.id as number, slot)({ kind: 'answer', message: msg, latencyMs });
  };

  const parseLine = (line: string, receivedAt: number) => {
    if (line.length > stats.largestMessage) stats.largestMessage = line.length;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch {
      msg = undefined;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
      if (line.trim() === '') return;
      stats.nonJsonLines++;
      if (stats.nonJsonSample.length < 3) stats.nonJsonSample.push(line.slice(0, 200));
      return;
    }
    handle(msg as Message, receivedAt);
  };

  // A chunk is decoded once, up to its last newline (a newline byte never falls inside a UTF-8 character,
  // so the cut is always clean), and cut into lines as a string. What follows the last newline waits for
  // the next chunk: lines may span chunks (a 12 MB answer arrives in hundreds); the pieces are joined once.
  let partial: Buffer[] = [];
  let partialBytes = 0;
  input.on('data', (chunk: Buffer) => {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last !== -1) {
      // Every answer in the chunk arrived together: one clock reading for all of them.
      const receivedAt = now();
      let text: string;
      if (partial.length) {
        partial.push(chunk.subarray(0, last));
        text = Buffer.concat(partial).toString('utf8');
        partial = [];
        partialBytes = 0;
      } else {
        text = chunk.toString('utf8', 0, last);
      }
      let start = 0;
      let nl = text.indexOf('\n');
      while (nl !== -1) {
        parseLine(text.slice(start, nl), receivedAt);
        start = nl + 1;
        nl = text.indexOf('\n', start);
      }
      parseLine(start === 0 ? text : text.slice(start), receivedAt);
    }
    if (last + 1 < chunk.length) {
      partial.push(chunk.subarray(last + 1));
      partialBytes += chunk.length - last - 1;
      if (partialBytes > MAX_LINE) {
        // A message this large would exhaust our memory, not the server's: drop it and count it.
        partial = [];
        partialBytes = 0;
        stats.nonJsonLines++;
      }
    }
  });

  let timeoutMs = options.timeoutMs;
  let sweeper: NodeJS.Timeout | undefined;
  const startSweeper = () => {
    clearInterval(sweeper);
    sweeper = setInterval(() => {
      const cutoff = now() - timeoutMs;
      // Requests are in the map in the order they were sent, so the expired ones come first (and those not
      // yet written, stamped Infinity, last).
      for (const [id, slot] of pending) {
        if (slots[slot].batch.sentAt > cutoff) break;
        settle(id, slot)({ kind: 'timeout' });
      }
    }, Math.max(5, Math.min(100, timeoutMs / 10)));
    sweeper.unref();
  };
  startSweeper();

  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(sweeper);
    for (const [id, slot] of pending) settle(id, slot)(CLOSED);
  };
  input.on('close', close);

  const sendRequest: Connection['send'] = (method, paramsJson, done) => {
    if (closed) {
      setImmediate(done, CLOSED);
      return;
    }
    const id = nextId++;
    send('{"jsonrpc":"2.0","id":' + id + tailFor(method, paramsJson));
    let slot = freeSlots.pop();
    if (slot === undefined) slot = slots.push({ done: settled, batch }) - 1;
    slots[slot].done = done;
    slots[slot].batch = batch;
    pending.set(id, slot);
  };

  return {
    send: sendRequest,
    request: promised(sendRequest),
    notify(method, paramsJson) {
      send(paramsJson === undefined
        ? `{"jsonrpc":"2.0","method":"${method}"}\n`
        : `{"jsonrpc":"2.0","method":"${method}","params":${paramsJson}}\n`);
    },
    inFlight: () => pending.size,
    setTimeoutMs(ms) {
      timeoutMs = ms;
      startSweeper();
    },
    stats,
    close,
  };
}

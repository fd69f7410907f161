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

interface Pending {
  resolve: (o: Outcome) => void;
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
  /** Send a request; paramsJson is already serialised (arguments are fixed, so it is built once). */
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

const NEWLINE = 10;
const MAX_LINE = 256 * 1024 * 1024;

export function connectStdio(input: Readable, output: Writable, options: ConnectionOptions): Connection {
  const now = options.now ?? (() => performance.now());
  const onServerRequest = options.onServerRequest ?? answerServerRequest;
  const pending = new Map<number, Pending>();
  const stats: ConnectionStats = {
    nonJsonLines: 0, nonJsonSample: [], unknownIds: 0, notifications: 0, serverRequests: {}, largestMessage: 0,
  };
  let nextId = 1;
  let closed = false;

  let queue: string[] = [];
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (closed || queue.length === 0) return;
    const text = queue.length === 1 ? queue[0] : queue.join('');
    queue = [];
    output.write(text);
  };
  const send = (line: string) => {
    queue.push(line);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  const handle = (msg: Message) => {
    if (msg.method !== undefined) {
      if (msg.id === undefined || msg.id === null) {
        stats.notifications++;
        return;
      }
      stats.serverRequests[msg.method] = (stats.serverRequests[msg.method] ?? 0) + 1;
      const result = onServerRequest(msg.method);
      const reply = result === undefined
        ? { jsonrpc: '2.0', id: msg.id, error: { code: -32601, message: `Method not found: ${msg.method}` } }
        : { jsonrpc: '2.0', id: msg.id, result };
      send(JSON.stringify(reply) + '\n');
      return;
    }
    const p = typeof msg.id === 'number' ? pending.get(msg.id) : undefined;
    if (!p) {
      stats.unknownIds++;
      return;
    }
    pending.delete(msg.id as number);
    p.resolve({ kind: 'answer', message: msg, latencyMs: now() - p.sentAt });
  };

  const parseLine = (line: string) => {
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
    handle(msg as Message);
  };

  // Lines may span chunks (a 12 MB answer arrives in hundreds); keep the pieces and join once.
  let partial: Buffer[] = [];
  let partialBytes = 0;
  input.on('data', (chunk: Buffer) => {
    let start = 0;
    let nl = chunk.indexOf(NEWLINE, start);
    while (nl !== -1) {
      let line: string;
      if (partial.length) {
        partial.push(chunk.subarray(start, nl));
        line = Buffer.concat(partial).toString('utf8');
        partial = [];
        partialBytes = 0;
      } else {
        line = chunk.toString('utf8', start, nl);
      }
      parseLine(line);
      start = nl + 1;
      nl = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      partial.push(chunk.subarray(start));
      partialBytes += chunk.length - start;
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
      // Requests are in the map in the order they were sent, so the expired ones come first.
      for (const [id, p] of pending) {
        if (p.sentAt > cutoff) break;
        pending.delete(id);
        p.resolve({ kind: 'timeout' });
      }
    }, Math.max(5, Math.min(100, timeoutMs / 10)));
    sweeper.unref();
  };
  startSweeper();

  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(sweeper);
    for (const p of pending.values()) p.resolve({ kind: 'closed' });
    pending.clear();
  };
  input.on('close', close);

  return {
    request(method, paramsJson) {
      if (closed) return Promise.resolve({ kind: 'closed' });
      const id = nextId++;
      send(paramsJson === undefined
        ? `{"jsonrpc":"2.0","id":${id},"method":"${method}"}\n`
        : `{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${paramsJson}}\n`);
      return new Promise<Outcome>((resolve) => pending.set(id, { resolve, sentAt: now() }));
    },
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

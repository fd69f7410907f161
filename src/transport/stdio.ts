// JSON-RPC over newline-delimited stdio: the hot path of every test.
// Written by hand rather than with the SDK's Client because the SDK validates every message with zod and
// writes once per message, which caps it well below the servers it should be loading (see bench/).
// Requests are written in batches (one write per turn of the event loop) and answers matched by id.
import type { Readable, Writable } from 'node:stream';
import {
  answerServerRequest, countNonJson, fromServer, inFlight, newStats, notificationJson, promised, CLOSED,
  type Connection, type ConnectionOptions, type Done, type Message, type Outcome,
} from './connection.js';
import { newEvents, Varied, type ClientEvents } from '../clients/mix.js';
import { perCall, withMeta, type Envelope } from './era.js';

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

const NEWLINE = 10;
const MAX_LINE = 256 * 1024 * 1024;

const settled: Done = () => {};

// One function holding the connection's state in closures: the hot path (send, the chunk reader, the
// answer handler) reads them without a property lookup per request.
export function connectStdio(input: Readable, output: Writable, options: ConnectionOptions): Connection {
  const now = options.now ?? (() => performance.now());
  const onServerRequest = options.onServerRequest ?? answerServerRequest;
  // Requests in flight: id -> slot. The table holds slot numbers, not the records: V8 links each outgrown
  // table of a Map to its successor, and a dead table already moved to the old generation keeps what it
  // references alive through later scavenges. With the records as values, every request's promise, answer
  // and parsed message were copied and promoted, and garbage collection took a third of the tester's time.
  const slots: Pending[] = [];
  const freeSlots: number[] = [];
  const pending = inFlight<number>({
    timeoutMs: options.timeoutMs, now, sentAt: (slot) => slots[slot].batch.sentAt,
    expire: (id, slot, outcome) => settle(id, slot)(outcome),
  });
  const table = pending.table;
  /** Ends a request: takes it out of the table, frees its slot, and hands back its callback. */
  const settle = (id: number, slot: number) => {
    table.delete(id);
    const p = slots[slot];
    const done = p.done;
    p.done = settled; // let go of the caller's closure
    freeSlots.push(slot);
    return done;
  };
  const stats = newStats();
  let nextId = 1;

  // Lines wait here until the end of this turn of the event loop and leave in one write: one system call
  // (and one wake-up of the server) per batch rather than per request. Requests in the batch are stamped
  // with the time of that write, so the latency is the server's and the pipe's, not our own queueing.
  let queue = '';
  let batch: Batch = { sentAt: Infinity };
  let flushScheduled = false;
  const flush = () => {
    flushScheduled = false;
    if (pending.closed() || queue === '') return;
    const text = queue;
    queue = '';
    batch.sentAt = now();
    batch = { sentAt: Infinity };
    output.write(text);
  };
  const write = (line: string) => {
    queue += line;
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  };

  // A request line is '{"jsonrpc":"2.0","id":' + id + tail; the tail is built once per call (method and
  // params), not per request. In the 2026-07-28 era the envelope is spliced into the params there, once.
  let envelope: Envelope | undefined;
  const buildTail = (method: string, paramsJson: string | undefined) => {
    const params = envelope ? withMeta(paramsJson, envelope.meta) : paramsJson;
    return `,"method":${JSON.stringify(method)}${params === undefined ? '' : `,"params":${params}`}}\n`;
  };
  let tailFor = perCall(buildTail);

  const handle = (msg: Message, receivedAt: number) => {
    if (msg.method !== undefined) {
      const reply = fromServer(msg, stats, onServerRequest);
      if (reply) write(reply + '\n');
      return;
    }
    const slot = typeof msg.id === 'number' ? table.get(msg.id) : undefined;
    if (slot === undefined) {
      if (cancelled.delete(msg.id as number)) stats.answeredAfterCancel = (stats.answeredAfterCancel ?? 0) + 1;
      else stats.unknownIds++;
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
      if (line.trim() !== '') countNonJson(stats, line);
      return;
    }
    handle(msg as Message, receivedAt);
  };

  input.on('data', lineReader(parseLine, now, () => stats.nonJsonLines++));
  input.on('close', () => pending.close());

  const sendRequest: Connection['send'] = (method, paramsJson, done) => {
    if (pending.closed()) {
      setImmediate(done, CLOSED);
      return;
    }
    const id = nextId++;
    write('{"jsonrpc":"2.0","id":' + id + tailFor(method, paramsJson));
    let slot = freeSlots.pop();
    if (slot === undefined) slot = slots.push({ done: settled, batch }) - 1;
    slots[slot].done = done;
    slots[slot].batch = batch;
    table.set(id, slot);
  };

  // The client mix over stdio: a share of the calls cancelled in flight (notifications/cancelled right after
  // the request, in the same write), and the caller told at once. The server may still answer: counted.
  const cancelled = new Set<number>();
  let varied: Varied | undefined;
  let events: ClientEvents | undefined;
  let share = 0;
  const sendMixed: Connection['send'] = (method, paramsJson, done) => {
    share += varied!.current.cancel;
    if (share < 100 || pending.closed()) return sendRequest(method, paramsJson, done);
    share -= 100;
    const id = nextId++;
    write('{"jsonrpc":"2.0","id":' + id + tailFor(method, paramsJson)
      + `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":${id},"reason":"mcp-hammer: the client cancelled the call"}}\n`);
    cancelled.add(id);
    // Bounded: a server may rightly never answer a cancelled call.
    if (cancelled.size > 10_000) cancelled.delete(cancelled.values().next().value!);
    events!.cancelled++;
    setImmediate(done, ABANDONED);
  };

  const conn: Connection = {
    send: sendRequest,
    request: promised(sendRequest),
    mix(mix) {
      varied = new Varied(mix);
      events = newEvents();
      conn.events = events;
      conn.nextBlock = () => void varied!.next();
      conn.fixMix = (m) => varied!.fix(m);
      conn.send = sendMixed;
    },
    notify: (method, paramsJson) => write(notificationJson(method, paramsJson) + '\n'),
    inFlight: () => table.size,
    setTimeoutMs: pending.setTimeoutMs,
    setEnvelope(e) {
      envelope = e;
      tailFor = perCall(buildTail);
    },
    stats,
    close: () => { pending.close(); },
  };
  return conn;
}

const ABANDONED: Outcome = Object.freeze({ kind: 'abandoned', how: 'cancel' });

/**
 * Chunks of a byte stream in, lines out. A chunk is decoded once, up to its last newline (a newline byte
 * never falls inside a UTF-8 character, so the cut is always clean), and cut into lines as a string. What
 * follows the last newline waits for the next chunk: lines may span chunks (a 12 MB answer arrives in
 * hundreds); the pieces are joined once. Every line of a chunk arrived together: one clock reading for all.
 */
function lineReader(onLine: (line: string, receivedAt: number) => void, now: () => number, onOversized: () => void): (chunk: Buffer) => void {
  let partial: Buffer[] = [];
  let partialBytes = 0;
  return (chunk) => {
    const last = chunk.lastIndexOf(NEWLINE);
    if (last !== -1) {
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
        onLine(text.slice(start, nl), receivedAt);
        start = nl + 1;
        nl = text.indexOf('\n', start);
      }
      onLine(start === 0 ? text : text.slice(start), receivedAt);
    }
    if (last + 1 < chunk.length) {
      partial.push(chunk.subarray(last + 1));
      partialBytes += chunk.length - last - 1;
      if (partialBytes > MAX_LINE) {
        // A message this large would exhaust our memory, not the server's: drop it and count it.
        partial = [];
        partialBytes = 0;
        onOversized();
      }
    }
  };
}

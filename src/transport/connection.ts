// What every transport offers the tests (stdio and HTTP alike): a Connection that sends a request and
// calls back once with its outcome, and the pieces they share: the table of requests in flight with its
// timeout sweep, the answers to requests the server sends a client, and the counters of what came back.
import type { ConnectionChurn, SessionStats } from '../results.js';
import type { Envelope } from './era.js';
import type { ClientEvents, Mix } from '../clients/mix.js';

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
  // http: set by an HTTP transport (a status other than 2xx comes with a synthesized message.error, and
  // http.error holds the JSON-RPC error its body carried, if any); absent on stdio.
  | { kind: 'answer'; message: Message; latencyMs: number; http?: HttpInfo }
  | { kind: 'timeout' }
  | { kind: 'closed' }
  // The client gave up on purpose (the client mix): cancelled the call, or hung up before the answer.
  | { kind: 'abandoned'; how: Abandon };

/** How a client gives up on a request: notifications/cancelled (or, in 2026-07-28, closing its stream), or hanging up. */
export type Abandon = 'cancel' | 'hangup';

export interface HttpInfo {
  status: number;
  retryAfter?: string;
  /** The JSON-RPC error in the body of a non-2xx answer (a 2026-07-28 server refuses with one: -32022, -32021). */
  error?: Message['error'];
}

/** Called once with what became of a request. */
export type Done = (o: Outcome) => void;

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
  /** Requests answered after the client had cancelled them (the answer came anyway). */
  answeredAfterCancel?: number;
  /** HTTP only: every HTTP request sent (calls, and the initialize, DELETE, GET and notifications around them). */
  httpRequests?: number;
  /** HTTP only: the MCP sessions opened and ended (see http.ts), or in the 2026-07-28 era the connections. */
  sessions?: SessionStats;
  connections?: ConnectionChurn;
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
  /**
   * stdio: from now on every request carries this 2026-07-28 envelope (undefined: none, the 2025 era).
   * Over HTTP the era is the connection's own (stateless.ts), fixed when it is made.
   */
  setEnvelope?(e: Envelope | undefined): void;
  stats: ConnectionStats;
  /** Fails every request in flight; called when the server exits. */
  close(): void;
  /** From the next request on, act as the clients of this mix (clients/mix.ts): what a transport can. */
  mix?(mix: Mix): void;
  /** With a client mix: what the clients did besides calling, counted from the start. */
  events?: ClientEvents;
  /** With a client mix: draw the next block's shares (the load calls it at every block boundary). */
  nextBlock?(): void;
  /** With a client mix: hold these shares until told otherwise (null: vary again). */
  fixMix?(mix: Mix | null): void;
  /**
   * With a client mix, at a block boundary once the calls in flight are done: what the clients left open or
   * on its way is ended or waited for (briefly), so that every floor is read in the same state.
   */
  settle?(): Promise<void>;
}

export interface ConnectionOptions {
  timeoutMs: number;
  /** Called for each request the server sends us; its result is the answer (undefined: method not found). */
  onServerRequest?: (method: string) => unknown;
  now?: () => number;
}

export const CLOSED: Outcome = Object.freeze({ kind: 'closed' });
const TIMEOUT: Outcome = Object.freeze({ kind: 'timeout' });

export function newStats(sessions?: SessionStats): ConnectionStats {
  return { nonJsonLines: 0, nonJsonSample: [], unknownIds: 0, notifications: 0, serverRequests: {}, largestMessage: 0, ...(sessions ? { sessions } : {}) };
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

/** A line that is not a JSON-RPC message: counted, and the first few kept to show. */
export function countNonJson(stats: ConnectionStats, text: string): void {
  stats.nonJsonLines++;
  if (stats.nonJsonSample.length < 3) stats.nonJsonSample.push(text.slice(0, 200));
}

/** request() on top of send(), shared by the transports. */
export function promised(send: Connection['send']): Connection['request'] {
  return (method, paramsJson) => new Promise((resolve) => send(method, paramsJson, resolve));
}

/** The JSON of a request, around its id: built by hand, the params being serialised once for many requests. */
export function requestJson(id: number, method: string, paramsJson: string | undefined): string {
  return paramsJson === undefined
    ? `{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)}}`
    : `{"jsonrpc":"2.0","id":${id},"method":${JSON.stringify(method)},"params":${paramsJson}}`;
}

export function notificationJson(method: string, paramsJson: string | undefined): string {
  return paramsJson === undefined
    ? `{"jsonrpc":"2.0","method":${JSON.stringify(method)}}`
    : `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${paramsJson}}`;
}

export interface InFlight<V> {
  /** Requests in flight, by id, in the order sent: the sweeper finds the expired ones first. */
  readonly table: Map<number, V>;
  /** The per-request timeout from now on. */
  setTimeoutMs(ms: number): void;
  /** Stop sweeping and end every request in flight as closed. False when it was closed already. */
  close(): boolean;
  closed(): boolean;
}

/**
 * The table of requests in flight, one timer sweeping out those past their timeout (one timer for the
 * table rather than one per request), and the close that fails the rest. `expire` takes a request out of
 * the table and calls its callback with the outcome; the transport decides what its values hold.
 */
export function inFlight<V>(o: { timeoutMs: number; now: () => number; sentAt: (v: V) => number; expire: (id: number, v: V, outcome: Outcome) => void }): InFlight<V> {
  const table = new Map<number, V>();
  let timeoutMs = o.timeoutMs;
  let closed = false;
  let sweeper: NodeJS.Timeout | undefined;
  const start = () => {
    clearInterval(sweeper);
    sweeper = setInterval(() => {
      const cutoff = o.now() - timeoutMs;
      // In the order sent (those not yet written, stamped Infinity, last), so the expired ones come first.
      for (const [id, v] of table) {
        if (o.sentAt(v) > cutoff) break;
        o.expire(id, v, TIMEOUT);
      }
    }, Math.max(5, Math.min(100, timeoutMs / 10)));
    sweeper.unref();
  };
  start();
  return {
    table,
    setTimeoutMs(ms) {
      timeoutMs = ms;
      if (!closed) start();
    },
    close() {
      if (closed) return false;
      closed = true;
      clearInterval(sweeper);
      for (const [id, v] of table) o.expire(id, v, CLOSED);
      table.clear();
      return true;
    },
    closed: () => closed,
  };
}

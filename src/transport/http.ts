// JSON-RPC to an MCP server over HTTP, behind the same Connection as stdio, so that the load loop and the
// handshake do not know the difference. This file holds the connection and its sessions as they come and
// go, for Streamable HTTP (streamable.ts) and HTTP+SSE (2024-11-05) (sse.ts) alike; post.ts sends the messages
// and reads their answers. Each transport brings its own way of opening, answering and ending a session
// (a Flavour).
// Written on node:http with one keep-alive Agent rather than the SDK's client, which costs ~7x the CPU per
// call and adds an abort listener per request to one shared signal.
// Session churn: with requestsPerSession, after that many requests a new session is opened (the handshake's
// initialize replayed) and the old one is ended once its last request has been answered. In the 2026-07-28
// era there are no sessions: each HTTP connection carries that many requests and is closed (churnBy below).
import http from 'node:http';
import https from 'node:https';
import {
  answerServerRequest, inFlight, newStats, notificationJson, promised, CLOSED,
  type Connection, type ConnectionOptions, type Outcome,
} from './connection.js';
import type { ConnectionChurn, SessionStats, StreamKind } from '../results.js';
import { CannotRun } from '../errors.js';
import { close, endSession, post, retire, sendRequest, settle } from './post.js';
import type { Flavour, Http, Pending, Session } from './httpstate.js';
import { askReclaimed, fleetSend, newFleet, settleFleet, type Fleet, type Reclaim } from './fleet.js';

export interface HttpOptions extends ConnectionOptions {
  url: URL;
  /** Extra headers from the user (authorisation): sent on every request, their values never shown. */
  headers?: Record<string, string>;
  /** Open a new session every this many requests (default: one session for the whole run). */
  requestsPerSession?: number;
}

export interface HttpConnection extends Connection {
  /** With the client mix: the statuses of the refused requests, by what was wrong with them. */
  refusals?(): Record<string, Record<string, number>>;
  /** With the client mix: whether the server offers the event stream clients keep, and which it is (streams.ts). */
  getStream?(): 'unknown' | 'offered' | 'none';
  streamKind?(): StreamKind;
  /** With the client mix: what asking for abandoned sessions again found, and the session cap if one was met. */
  reclaim?(): Reclaim & { capAt?: number };
  /** The first failure below MCP, as a sentence for the user (nothing listening, a 404, an HTML page). */
  problem(): string | undefined;
  /** End the session (DELETE, or close its stream), then the connection; takes at most about a second. */
  end(): Promise<void>;
}

/** Enough sockets for any sane concurrency; a cap so that an open-loop flood cannot exhaust descriptors. */
const MAX_SOCKETS = 256;

/** Connects (legacy: opens the event stream); the handshake is then done over the connection as on stdio. */
export async function connectHttp(o: HttpOptions, flavour: Flavour): Promise<HttpConnection> {
  const secure = o.url.protocol === 'https:';
  const base = secure ? https : http;
  // Every HTTP request the clients send goes through here and is counted: the driver's true rate.
  // Every request here passes options and at most a callback (no URL string): two arguments, no rest array.
  const lib = { ...base, request: ((options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void) => {
    stats.httpRequests!++;
    return base.request(options, callback);
  }) as typeof http.request };
  const agent = new base.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const userHeaders = o.headers ?? {};
  const stateless = flavour.stateless === true;
  const sessions: SessionStats = { requestsPerSession: o.requestsPerSession, opened: 0, ended: 0, lost: 0, endRefused: 0, stateless: false };
  const stats = stateless ? newStats() : newStats(sessions);
  stats.httpRequests = 0;
  if (stateless) stats.connections = churnBy(agent, o.requestsPerSession);
  const h = {
    url: o.url, flavour, lib, agent, userHeaders, headerNames: Object.keys(userHeaders),
    base: { agent, hostname: o.url.hostname.replace(/^\[|\]$/g, ''), port: o.url.port || (secure ? 443 : 80) },
    now: o.now ?? (() => performance.now()),
    onServerRequest: o.onServerRequest ?? answerServerRequest,
    stats, sessions, statusInfo: new Map(), live: new Set(), ending: new Set(),
    waiting: [], opening: null, nextId: 1, timeoutMs: o.timeoutMs, requestsPerSession: stateless ? undefined : o.requestsPerSession,
    cancelled: new Set(), initsInFlight: 0, lingering: new Map(), sideways: new Set(),
  } as Omit<Http, 'pending' | 'current'> as Http;
  let fleet: Fleet | null = null;
  h.pending = inFlight<Pending>({
    timeoutMs: o.timeoutMs, now: h.now, sentAt: (p) => p.sentAt,
    expire: (id, p, outcome) => {
      h.pending.table.delete(id);
      if (outcome.kind === 'timeout') settle(h, p);
      p.req?.destroy();
      p.done(outcome);
    },
  });
  h.current = await flavour.open(h);

  const call: Connection['send'] = (method, paramsJson, done) => {
    if (h.pending.closed()) {
      setImmediate(done, CLOSED);
      return;
    }
    if (method === 'initialize') {
      h.initParams = paramsJson;
      sendRequest(h, h.current, method, paramsJson, true, done);
      return;
    }
    if (fleet) return fleetSend(h, fleet, method, paramsJson, done);
    if (h.opening || needsNew(h, h.current)) {
      h.waiting.push({ method, paramsJson, done });
      if (!h.opening) h.opening = rotate(h);
      return;
    }
    sendRequest(h, h.current, method, paramsJson, false, done);
  };

  const conn: HttpConnection = {
    send: call,
    request: promised(call),
    notify(method, paramsJson) {
      if (!h.pending.closed()) post(h, h.current, undefined, notificationJson(method, paramsJson));
    },
    inFlight: () => h.pending.table.size - h.initsInFlight + h.waiting.length + (fleet?.shortWaiting.length ?? 0),
    mix(mix) {
      const f = newFleet(h, mix);
      fleet = f;
      conn.events = h.events;
      conn.nextBlock = () => {
        f.varied.next();
        askReclaimed(h, f);
      };
      conn.reclaim = () => ({ ...f.reclaim, ...(f.capAt !== undefined ? { capAt: f.capAt } : {}) });
      conn.refusals = () => f.refusals;
      conn.fixMix = (m) => f.varied.fix(m);
      conn.settle = () => settleFleet(h);
      conn.getStream = () => f.streams.offered;
      conn.streamKind = () => (flavour.sse ? 'SSE' : flavour.stateless ? 'subscriptions/listen' : 'GET');
    },
    setTimeoutMs(ms) {
      h.timeoutMs = ms;
      h.pending.setTimeoutMs(ms);
    },
    stats: h.stats,
    close: () => close(h),
    problem: () => h.firstProblem,
    async end() {
      if (h.pending.closed()) return;
      for (const s of [...h.live]) endSession(h, s);
      await Promise.race([Promise.all(h.ending), new Promise((r) => setTimeout(r, 1000).unref())]);
      close(h);
    },
  };
  return conn;
}

// ---- connections (2026-07-28) ----

/**
 * Counts the agent's connections and, with n, closes each after its n-th answer, as a fleet of stateless
 * clients would that each send n requests and go (the agent opens a new one for the next request). A
 * connection whose n-th answer leaves it free is destroyed before the agent can reuse or pool it.
 */
function churnBy(agent: http.Agent, n: number | undefined): ConnectionChurn {
  const churn: ConnectionChurn = { requestsPerConnection: n, opened: 0, closed: 0 };
  const used = new WeakMap<object, number>();
  const create = (agent as any).createConnection;
  (agent as any).createConnection = function (this: http.Agent, ...args: unknown[]) {
    churn.opened++;
    const socket = create.apply(this, args);
    socket.once('close', () => { churn.closed++; });
    return socket;
  };
  if (n !== undefined) {
    agent.prependListener('free', (socket) => {
      const count = (used.get(socket) ?? 0) + 1;
      used.set(socket, count);
      if (count >= n) socket.destroy();
    });
  }
  return churn;
}

// ---- sessions ----

function needsNew(h: Http, s: Session): boolean {
  return s.lost || s.retired || (h.requestsPerSession !== undefined && s.used >= h.requestsPerSession);
}

/** Retire the current session and open another, replaying the handshake's initialize. */
async function rotate(h: Http): Promise<void> {
  retire(h, h.current);
  let outcome: Outcome;
  try {
    h.current = await h.flavour.open(h);
    outcome = await new Promise<Outcome>((resolve) => sendRequest(h, h.current, 'initialize', h.initParams, true, resolve));
  } catch (err) {
    if (!(err instanceof CannotRun)) throw err;
    outcome = { kind: 'answer', message: { jsonrpc: '2.0', error: { code: 0, message: err.message } }, latencyMs: 0, http: { status: 0 } };
  }
  h.opening = null;
  if (outcome.kind === 'answer' && !outcome.message.error) {
    post(h, h.current, undefined, notificationJson('notifications/initialized', undefined));
    release(h);
    return;
  }
  // The new session could not be opened: the requests that waited for it fail the same way, and the
  // next request tries again.
  retire(h, h.current);
  const failing = h.waiting;
  h.waiting = [];
  for (const w of failing) w.done(copyFailure(outcome));
}

function release(h: Http): void {
  while (h.waiting.length && !needsNew(h, h.current)) {
    const w = h.waiting.shift()!;
    sendRequest(h, h.current, w.method, w.paramsJson, false, w.done);
  }
  if (h.waiting.length && !h.opening) h.opening = rotate(h);
}

/** A failure to open a session, for each request that waited for it. */
function copyFailure(o: Outcome): Outcome {
  if (o.kind !== 'answer') return o;
  const e = o.message.error!;
  return { ...o, latencyMs: 0, message: { jsonrpc: '2.0', error: { code: e.code, message: `could not open a new session: ${e.message}` } } };
}


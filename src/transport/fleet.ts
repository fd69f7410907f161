// The client mix over HTTP (clients/mix.ts): many clients on one connection. Long-lived sessions carry most
// calls and keep their GET event stream open, dropping it now and then (the connection reset) and opening
// it again as clients do; short sessions are opened as the run goes and, after their calls, left without
// DELETE or ended with it; calls are cancelled or hung up on in flight; a trickle of requests is refused
// (an unknown session id, none, a wrong method). What the clients did is counted in `events`.
// In 2026-07-28 there are no sessions, DELETE or GET stream: long-lived subscriptions/listen streams take
// the GET stream's place (streams.ts), calls are cancelled by closing their stream, hung up on, and refused
// requests carry a wrong method. Over HTTP+SSE a session is its event stream.
import { notificationJson, CLOSED, type Abandon, type Done, type Outcome } from './connection.js';
import { endSession, post, sendRequest } from './post.js';
import { dropStream, openListeners, openStream, type Streams } from './streams.js';
import type { Http, Session, Waiting } from './httpstate.js';
import { newEvents, Varied, type Mix } from '../clients/mix.js';

export interface Fleet {
  varied: Varied;
  /** The handshake's session has been given its GET stream. */
  started: boolean;
  /** Long-lived sessions ready for calls, and how many are being opened. */
  long: Session[];
  openingLong: number;
  /** The short session in use, the calls it has left, and the requests waiting for the next one. */
  short: Session | null;
  shortLeft: number;
  shortWaiting: (Waiting & { how?: Abandon })[];
  /**
   * Short sessions opened ahead of need, ready for calls, and how many are being opened: a call never waits
   * for an initialize, as it would not with many clients starting on their own. How many are kept ahead
   * grows by one whenever a call had to wait after all (a short session's calls can be spent in less than
   * the time an initialize takes).
   */
  ready: Session[];
  openingShort: number;
  ahead: number;
  next: number;
  /** Accumulators: a behaviour happens when its share adds up to a whole (an even spread, no randomness). */
  acc: { churn: number; abandon: number; drop: number; cancel: number; hangup: number; refused: number };
  /** The event streams clients keep open (GET, or subscriptions/listen in 2026-07-28). */
  streams: Streams;
  /** The statuses refused requests got, by what was wrong with them. */
  refusals: Record<string, Record<string, number>>;
  refusalKind: number;
  /** Abandoned sessions waiting to be asked whether the server still holds them: their ids and when. */
  abandonedIds: { id: string; at: number }[];
  reclaim: Reclaim;
  /** The server refused a new session (503, as a server at its session cap does): how many were open then. */
  capAt?: number;
}

/** What asking for abandoned sessions again found: freed (404) or still held, and at what age. */
export interface Reclaim {
  probes: number;
  freed: number;
  held: number;
  /** The youngest abandoned session found freed, and the oldest found still held, in seconds since abandoned. */
  youngestFreedSeconds?: number;
  oldestHeldSeconds?: number;
}

/**
 * Abandoned sessions kept to ask about: one every half second, for the last two minutes. The first asked
 * about is a second old, each next twice as old as the oldest found still held: an idle timeout is found
 * within a factor of two, in a handful of asks.
 */
const RECLAIM_KEEP = 240;
const RECLAIM_EVERY_MS = 500;
const RECLAIM_MIN_AGE_MS = 1000;

export function newFleet(h: Http, mix: Mix): Fleet {
  h.events = newEvents();
  return {
    varied: new Varied(mix), started: false, long: [h.current], openingLong: 0, short: null, shortLeft: 0, shortWaiting: [], ready: [], openingShort: 0, ahead: 1,
    next: 0, acc: { churn: 0, abandon: 0, drop: 0, cancel: 0, hangup: 0, refused: 0 }, streams: { offered: 'unknown', listeners: [] }, refusals: {}, refusalKind: 0,
    abandonedIds: [], reclaim: { probes: 0, freed: 0, held: 0 },
  };
}

/** A whole has added up: take it away and say so. */
function due(acc: Fleet['acc'], key: keyof Fleet['acc'], share: number, whole = 100): boolean {
  acc[key] += share;
  if (acc[key] < whole) return false;
  acc[key] -= whole;
  return true;
}

/** Send a call as one of the fleet's clients. */
export function fleetSend(h: Http, f: Fleet, method: string, paramsJson: string | undefined, done: Done): void {
  if (!f.started) {
    f.started = true;
    if (h.flavour.stateless) void openListeners(h, f.streams, f.varied.base.sessions);
    else openStream(h, f.streams, h.current);
  }
  const mix = f.varied.current;
  if (due(f.acc, 'refused', mix.refused)) refuse(h, f);
  if (due(f.acc, 'drop', mix.drop, 1000)) dropStream(h, f.streams, h.flavour.stateless ? f.streams.listeners : f.long);
  const how: Abandon | undefined = due(f.acc, 'cancel', mix.cancel) ? 'cancel' : due(f.acc, 'hangup', mix.hangup) ? 'hangup' : undefined;
  if (f.capAt === undefined && !h.flavour.stateless && due(f.acc, 'churn', mix.churn)) return onShort(h, f, { method, paramsJson, done }, how);
  const s = longSession(h, f);
  // Every long-lived session gone (the server ended them): the call waits for a new session as a short one would.
  if (!s) return h.flavour.stateless ? void setImmediate(done, CLOSED) : onShort(h, f, { method, paramsJson, done }, how);
  sendRequest(h, s, method, paramsJson, false, done, how);
}

const gone = (s: Session) => s.lost || s.ended;

/** The next long-lived session, round robin; one more is opened while there are fewer than the mix asks. */
function longSession(h: Http, f: Fleet): Session | null {
  // The list is cleaned only when round robin comes to a session that is gone, not on every call.
  if (f.long.length && gone(f.long[f.next % f.long.length])) f.long = f.long.filter((s) => !gone(s));
  if (!h.flavour.stateless && f.long.length + f.openingLong < f.varied.base.sessions) {
    f.openingLong++;
    void openSession(h, f, 'long').then((s) => {
      f.openingLong--;
      if (s) f.long.push(s);
    });
  }
  if (!f.long.length) return h.current.lost || h.current.ended ? null : h.current;
  return f.long[f.next++ % f.long.length];
}

/** Short sessions kept opened ahead at most. */
const MAX_AHEAD = 8;

/** A call for the short session: sent on it, or queued until the next one is open. */
function onShort(h: Http, f: Fleet, w: Waiting, how: Abandon | undefined): void {
  if (!f.short || f.shortLeft === 0 || f.short.lost) takeShort(h, f);
  const s = f.short;
  if (!s) {
    if (!f.shortWaiting.length && f.ahead < MAX_AHEAD) f.ahead++;
    f.shortWaiting.push({ ...w, how });
    openAhead(h, f);
    return;
  }
  f.shortLeft--;
  sendRequest(h, s, w.method, w.paramsJson, false, w.done, how);
  if (f.shortLeft === 0) endShort(h, f, s);
}

/** The next short session opened ahead becomes the one in use (none: null), and another is opened. */
function takeShort(h: Http, f: Fleet): void {
  f.short = null;
  for (let s = f.ready.shift(); s; s = f.ready.shift()) {
    if (s.lost || s.ended) continue;
    h.events!.opened++;
    f.short = s;
    f.shortLeft = f.varied.base.length;
    break;
  }
  openAhead(h, f);
}

function openAhead(h: Http, f: Fleet): void {
  while (f.ready.length + f.openingShort < f.ahead && f.capAt === undefined && !h.pending.closed()) {
    f.openingShort++;
    void openSession(h, f, 'short').then((s) => {
      f.openingShort--;
      if (s) f.ready.push(s);
      // None to be had (a cap, the connection closing): the calls waiting for one end as closed.
      else if (f.openingShort > 0 || f.ready.length) return;
      const waiting = f.shortWaiting;
      f.shortWaiting = [];
      for (const q of waiting) {
        if (s) onShort(h, f, q, q.how);
        else q.done(CLOSED);
      }
    });
  }
}

/** A short session's calls are spent: left without DELETE, or ended with it, once its last call is answered. */
function endShort(h: Http, f: Fleet, s: Session): void {
  f.short = null;
  s.retired = true;
  if (due(f.acc, 'abandon', f.varied.current.abandon)) {
    s.abandoned = true;
    h.events!.abandoned++;
    h.sessions.abandoned = (h.sessions.abandoned ?? 0) + 1;
    const last = f.abandonedIds.at(-1);
    if (s.id && (!last || h.now() - last.at >= RECLAIM_EVERY_MS)) {
      f.abandonedIds.push({ id: s.id, at: h.now() });
      if (f.abandonedIds.length > RECLAIM_KEEP) f.abandonedIds.shift();
    }
  } else {
    h.events!.deleted++;
  }
  if (s.inFlight === 0) endSession(h, s);
}

/** Open a session (the handshake's initialize replayed), and its GET stream. Null when the server would not. */
async function openSession(h: Http, f: Fleet, kind: 'long' | 'short'): Promise<Session | null> {
  let s: Session;
  try {
    s = await h.flavour.open(h);
  } catch {
    return null;
  }
  s.kind = kind;
  const outcome = await new Promise<Outcome>((resolve) => sendRequest(h, s, 'initialize', h.initParams, true, resolve));
  if (outcome.kind !== 'answer' || outcome.message.error || h.pending.closed()) {
    // 503: the server holds as many sessions as it will (a cap); short sessions stop, the calls go on.
    if (outcome.kind === 'answer' && outcome.http?.status === 503 && f.capAt === undefined) f.capAt = h.sessions.opened - h.sessions.ended;
    s.retired = true;
    endSession(h, s);
    return null;
  }
  // On the next turn, once the initialize's socket is back in the agent's pool (see deleteSession), and
  // before any call on the session.
  await new Promise((resolve) => setImmediate(resolve));
  if (h.pending.closed()) return null;
  post(h, s, undefined, notificationJson('notifications/initialized', undefined));
  openStream(h, f.streams, s);
  return s;
}

/**
 * Ask the server about an abandoned session (a ping with its id): 404 says it was freed, an answer that it
 * is still held. One ask per block, each session asked about once (the ask itself uses it), at ages that
 * bracket the server's idle time ever closer.
 */
export function askReclaimed(h: Http, f: Fleet): void {
  const now = h.now();
  const r = f.reclaim;
  if (h.flavour.sse || h.pending.closed()) return;
  const held = r.oldestHeldSeconds ?? 0;
  // Twice the oldest still held until one is found freed; then halfway between, until the two are close.
  let wanted = Math.max(RECLAIM_MIN_AGE_MS, 2000 * held);
  if (r.youngestFreedSeconds !== undefined) {
    if (r.youngestFreedSeconds - held <= Math.max(0.5, 0.2 * r.youngestFreedSeconds)) return;
    wanted = 500 * (held + r.youngestFreedSeconds);
  }
  // The youngest kept that is old enough; each is asked about once.
  let at = -1;
  for (let i = f.abandonedIds.length - 1; i >= 0; i--) if (now - f.abandonedIds[i].at >= wanted) { at = i; break; }
  if (at < 0) return;
  const [next] = f.abandonedIds.splice(at, 1);
  const age = (now - next.at) / 1000;
  const headers = { ...(h.current.post.headers as Record<string, string>), 'mcp-session-id': next.id };
  f.reclaim.probes++;
  const req = h.lib.request({ ...h.current.post, headers }, (res) => {
    if (res.statusCode === 404) {
      r.freed++;
      r.youngestFreedSeconds = Math.min(r.youngestFreedSeconds ?? Infinity, age);
    } else if (res.statusCode && res.statusCode < 300) {
      r.held++;
      r.oldestHeldSeconds = Math.max(r.oldestHeldSeconds ?? 0, age);
    }
    res.resume();
  });
  req.on('error', () => {});
  sideways(h, req);
  req.end('{"jsonrpc":"2.0","id":"mcp-hammer-reclaim","method":"ping"}');
}

/** Requests besides the calls (refused ones, asks about abandoned sessions) counted until they end. */
function sideways(h: Http, req: { once(e: 'close', f: () => void): unknown }): void {
  const ended = new Promise<void>((resolve) => req.once('close', resolve));
  h.sideways.add(ended);
  void ended.then(() => h.sideways.delete(ended));
}

/**
 * At a block boundary: cancelled calls' requests still open are closed (as their clients would by now), and
 * DELETEs and the other requests on their way waited for, 200 ms at most.
 */
export async function settleFleet(h: Http): Promise<void> {
  for (const req of h.lingering.values()) req.destroy();
  h.lingering.clear();
  await Promise.race([Promise.all([...h.ending, ...h.sideways]), new Promise((r) => setTimeout(r, 200).unref())]);
}

const REFUSALS = ['unknown session id', 'no session id', 'wrong method'] as const;

/**
 * A request the server should refuse, of each kind in turn: a call with a session id it never gave, a call
 * without one (2025 era), a method the endpoint does not serve. Counted, with the status it got.
 */
function refuse(h: Http, f: Fleet): void {
  const kinds = h.flavour.stateless ? (['wrong method'] as const) : REFUSALS;
  const kind = kinds[f.refusalKind++ % kinds.length];
  const headers = { ...(h.current.post.headers as Record<string, string>) };
  let method = 'POST';
  // HTTP+SSE names the session in the path's query (sessionId=...), Streamable HTTP in a header.
  let path = h.current.post.path ?? '';
  const unknown = `mcp-hammer-unknown-${h.events!.refused}`;
  if (kind === 'unknown session id') {
    if (h.flavour.sse) path = path.replace(/sessionId=[^&]*/, `sessionId=${unknown}`);
    else headers['mcp-session-id'] = unknown;
  }
  if (kind === 'no session id') {
    if (h.flavour.sse) path = path.replace(/[?&]sessionId=[^&]*/, '');
    else delete headers['mcp-session-id'];
  }
  if (kind === 'wrong method') method = 'PUT';
  h.events!.refused++;
  const req = h.lib.request({ ...h.current.post, path, method, headers }, (res) => {
    const by = (f.refusals[kind] ??= {});
    by[String(res.statusCode)] = (by[String(res.statusCode)] ?? 0) + 1;
    res.resume();
  });
  req.on('error', () => {});
  sideways(h, req);
  req.end('{"jsonrpc":"2.0","id":0,"method":"tools/list"}');
}

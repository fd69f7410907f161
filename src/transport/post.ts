// Messages POSTed to an MCP server over HTTP and their answers read back, for Streamable HTTP and legacy
// HTTP+SSE alike: requests sent on a connection's sessions (httpstate.ts), the answers (JSON or an event
// stream) matched to them, failures below MCP turned into outcomes, and sessions taken out of use.
import http from 'node:http';
import { countNonJson, fromServer, notificationJson, requestJson, CLOSED, type Abandon, type Done, type Message } from './connection.js';
import { problem, type Http, type Pending, type Session } from './httpstate.js';
import { eventReader } from './eventstream.js';
import { bodyText, networkProblem, statusProblem, typeProblem, UNREACHABLE } from './httperrors.js';

// ---- sending ----

export function post(h: Http, s: Session, id: number | undefined, body: string, options = s.post, retried = false, how?: Abandon): void {
  const req = h.lib.request(options, (res) => answered(h, res, s, id, req));
  req.on('error', (err) => failed(h, err, req, s, id, body, options, retried));
  if (id !== undefined) h.pending.table.get(id)!.req = req;
  // Given up on once it has reached the server: cancelled at once with a notification, or hung up on a moment
  // later (at once, the server would often never see the request at all); one answered meanwhile is not.
  if (how && id !== undefined) {
    req.once('finish', () => (how === 'cancel' ? giveUp(h, s, id, req, how) : setTimeout(() => giveUp(h, s, id, req, how), HANG_UP_AFTER_MS)));
  }
  req.end(body);
}

export function sendRequest(h: Http, s: Session, method: string, paramsJson: string | undefined, init: boolean, done: Done, how?: Abandon): void {
  const id = h.nextId++;
  if (!init) s.used++;
  else h.initsInFlight++;
  s.inFlight++;
  h.pending.table.set(id, { done, sentAt: h.now(), session: s, init });
  const framed = h.flavour.frame?.(h, s, method, paramsJson);
  if (framed) post(h, s, id, requestJson(id, method, framed.params), framed.options, false, how);
  else post(h, s, id, requestJson(id, method, paramsJson), s.post, false, how);
}

/** How long the answer to a cancelled call is waited for before its connection is closed, as a client that gave up would. */
const CANCELLED_GRACE_MS = 1000;
/** How long after its request is sent a call is hung up on. */
const HANG_UP_AFTER_MS = 2;

/**
 * The client gives up on a request it has sent: it hangs up (the connection is closed before the answer),
 * or it cancels the call (notifications/cancelled in the 2025 era; in 2026-07-28, where a cancellation is
 * the client closing the answer's stream, a hang-up). The caller is told at once; an answer that comes to
 * a cancelled call anyway is counted.
 */
function giveUp(h: Http, s: Session, id: number, req: http.ClientRequest, how: Abandon): void {
  const p = h.pending.table.get(id);
  if (!p || p.req !== req) return;
  h.pending.table.delete(id);
  settle(h, p);
  const events = h.events!;
  if (how === 'cancel' && !h.flavour.stateless) {
    events.cancelled++;
    post(h, s, undefined, notificationJson('notifications/cancelled', `{"requestId":${id},"reason":"mcp-hammer: the client cancelled the call"}`));
    h.cancelled.add(id);
    h.lingering.set(id, req);
    // Let go of the request as soon as it closes (answered, the usual case), not after the grace: requests
    // held for a second, hundreds a second, cost the driver a sixth of its rate in garbage collection. The
    // timer holds the id alone; an answer on the event stream (HTTP+SSE) is counted for the whole grace.
    req.once('close', () => h.lingering.delete(id));
    setTimeout(() => {
      h.cancelled.delete(id);
      h.lingering.get(id)?.destroy();
      h.lingering.delete(id);
    }, CANCELLED_GRACE_MS).unref();
  } else {
    if (how === 'cancel') events.cancelled++;
    else events.hungUp++;
    req.destroy();
  }
  p.done({ kind: 'abandoned', how });
}

// ---- answers ----

export function settle(h: Http, p: Pending): void {
  p.session.inFlight--;
  if (p.init) h.initsInFlight--;
  if (p.session.retired && p.session.inFlight === 0) endSession(h, p.session);
}

/**
 * Fail one request with a synthesized JSON-RPC error carrying the HTTP status (0: no HTTP answer), and the
 * JSON-RPC error the body held, if any.
 */
function fail(h: Http, id: number, status: number, text: string, retryAfter?: string, error?: Message['error']): void {
  const p = h.pending.table.get(id);
  if (!p) return;
  h.pending.table.delete(id);
  settle(h, p);
  p.done({
    kind: 'answer',
    message: { jsonrpc: '2.0', id, error: { code: status, message: text } },
    latencyMs: h.now() - p.sentAt,
    http: { status, ...(retryAfter === undefined ? {} : { retryAfter }), ...(error ? { error } : {}) },
  });
}

function handle(h: Http, msg: Message, s: Session, status: number): void {
  if (msg.method !== undefined) {
    const reply = fromServer(msg, h.stats, h.onServerRequest);
    if (reply) post(h, s, undefined, reply);
    return;
  }
  const p = typeof msg.id === 'number' ? h.pending.table.get(msg.id) : undefined;
  if (!p) {
    if (typeof msg.id === 'number' && h.cancelled.delete(msg.id)) h.stats.answeredAfterCancel = (h.stats.answeredAfterCancel ?? 0) + 1;
    // The end of a subscriptions/listen stream (streams.ts) answers a request of the clients', not a call.
    else if (!(typeof msg.id === 'string' && msg.id.startsWith('mcp-hammer-'))) h.stats.unknownIds++;
    return;
  }
  h.pending.table.delete(msg.id as number);
  if (p.init && !msg.error) {
    p.session.opened = true;
    h.sessions.opened++;
    h.flavour.started(h, p.session, msg);
  }
  settle(h, p);
  let info = h.statusInfo.get(status);
  if (!info) h.statusInfo.set(status, (info = Object.freeze({ status })));
  p.done({ kind: 'answer', message: msg, latencyMs: h.now() - p.sentAt, http: info });
}

/** One body or event: a message, or (Streamable HTTP allows it) an array of them. */
export function receive(h: Http, text: string, s: Session, status: number): void {
  if (text.length > h.stats.largestMessage) h.stats.largestMessage = text.length;
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    msg = undefined;
  }
  if (Array.isArray(msg)) {
    for (const m of msg) if (m && typeof m === 'object') handle(h, m, s, status);
  } else if (msg && typeof msg === 'object') {
    handle(h, msg as Message, s, status);
  } else if (text.trim()) {
    countNonJson(h.stats, text);
  }
}

function answered(h: Http, res: http.IncomingMessage, s: Session, id: number | undefined, req: http.ClientRequest): void {
  const status = res.statusCode ?? 0;
  if (id === undefined) {
    // A notification or a reply to the server: 202 expected, nothing to wait for.
    res.resume();
    return;
  }
  const p = h.pending.table.get(id);
  if (!p || p.req !== req) {
    res.resume(); // timed out meanwhile
    return;
  }
  if (p.init) {
    const sid = h.flavour.sessionId?.(res);
    if (sid) s.id = sid;
  }
  const sse = h.flavour.sse;
  const type = res.headers['content-type'] ?? '';
  if (status < 200 || status > 299) {
    readText(res, (text) => {
      // A 404 for a request that carried a session id: the server has ended the session.
      if (status === 404 && s.opened) markLost(h, s);
      const said = bodyText(text);
      problem(h, statusProblem(h.url, status, said, { sse, method: 'POST', headerNames: h.headerNames }));
      fail(h, id, status, `${http.STATUS_CODES[status] ?? 'HTTP error'}${said ? `: ${said}` : ''}`, header(res, 'retry-after'), rpcError(text));
    });
    return;
  }
  if (h.flavour.answersOnStream) {
    res.resume(); // accepted; the answer comes on the event stream
    return;
  }
  // 'close' follows 'end', and also comes alone when the answer is cut off; either way a request still
  // waiting then has had all the answer it will get. (An 'error' on the answer is followed by 'close'.)
  res.on('error', ignore);
  if (type.startsWith('text/event-stream')) {
    res.setEncoding('utf8');
    res.on('data', eventReader((e) => { if (e.event === 'message') receive(h, e.data, s, status); }));
    res.on('close', () => unanswered(h, id, req, 'the event stream ended without the answer'));
    return;
  }
  if (type.startsWith('application/json')) {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => receive(h, chunks.length === 1 ? chunks[0].toString() : Buffer.concat(chunks).toString(), s, status));
    res.on('close', () => unanswered(h, id, req, 'the HTTP answer held no answer to the request'));
    return;
  }
  readText(res, () => {
    problem(h, typeProblem(h.url, type, { sse }));
    fail(h, id, 0, `an answer of content type ${type || 'none'}, not JSON or an event stream`);
  });
}

function unanswered(h: Http, id: number, req: http.ClientRequest, text: string): void {
  if (h.pending.table.get(id)?.req === req) fail(h, id, 0, text);
}

function failed(h: Http, err: NodeJS.ErrnoException, req: http.ClientRequest, s: Session, id: number | undefined, body: string,
  options: http.RequestOptions, retried: boolean): void {
  if (h.pending.closed()) return;
  if (id === undefined) {
    if (UNREACHABLE.has(err.code ?? '')) lose(h, err);
    return;
  }
  const p = h.pending.table.get(id);
  if (!p || p.req !== req) return; // timed out: the sweeper destroyed it
  // A kept-alive socket the server closed just as we reused it: the request never reached the server
  // (the case Node documents req.reusedSocket for), so it is sent once more on a fresh socket.
  if (!retried && req.reusedSocket && err.code === 'ECONNRESET') {
    post(h, s, id, body, options, true);
    return;
  }
  problem(h, networkProblem(h.url, err));
  if (UNREACHABLE.has(err.code ?? '')) lose(h, err);
  else fail(h, id, 0, `no HTTP answer (${err.code ?? err.message})`);
}

/** Nothing listens any more (or never did): every request would fail, so the connection is closed. */
export function lose(h: Http, err: NodeJS.ErrnoException): void {
  problem(h, networkProblem(h.url, err));
  close(h);
}

/** Fail every request still owed an answer on session s. */
export function failSession(h: Http, s: Session, text: string): void {
  for (const [id, p] of h.pending.table) if (p.session === s) fail(h, id, 0, text);
}

export function close(h: Http): void {
  if (!h.pending.close()) return;
  for (const w of h.waiting) w.done(CLOSED);
  h.waiting = [];
  for (const s of h.live) s.stream?.destroy();
  h.agent.destroy();
}

// ---- sessions taken out of use ----

export function markLost(h: Http, s: Session): void {
  if (s.lost || s.ended) return;
  s.lost = true;
  h.sessions.lost++;
}

export function retire(h: Http, s: Session): void {
  if (s.retired) return;
  s.retired = true;
  if (s.inFlight === 0) endSession(h, s);
}

export function endSession(h: Http, s: Session): void {
  if (s.ended) return;
  s.ended = true;
  h.live.delete(s);
  // Ended with DELETE (when the server gave an id), or left without: either way its client closes its GET
  // stream, as a client that closes its transport does.
  if (!s.abandoned) h.flavour.end(h, s);
  s.stream?.destroy();
}

// ---- small things ----

/** The JSON-RPC error an error body carries (a 2026-07-28 server refuses with one), or undefined. */
function rpcError(text: string): Message['error'] {
  try {
    const e = JSON.parse(text)?.error;
    return e && typeof e === 'object' && typeof e.code === 'number' && typeof e.message === 'string' ? e : undefined;
  } catch {
    return undefined;
  }
}

export function ignore(): void {}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The body of an answer that is not a message (an error page), up to 64 KB. */
export function readText(res: http.IncomingMessage, done: (text: string) => void): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (t: string) => { if (text.length < 65536) text += t; });
  res.on('end', () => done(text));
  res.on('error', () => done(text));
}

// JSON-RPC to an MCP server over HTTP, behind the same Connection as stdio, so that the load loop and the
// handshake do not know the difference. Two transports:
//   Streamable HTTP: every message is POSTed; a request's answer comes back as JSON or as an event stream;
//     the session id from the initialize answer (Mcp-Session-Id) and the protocol version go on every later
//     request; DELETE ends the session, so that a well-behaved server can free it.
//   Legacy HTTP+SSE (--sse): a GET opens an event stream whose `endpoint` event says where to POST; POSTs
//     are accepted (202) and answers arrive on the stream. Closing the stream ends the session.
// Written on node:http with one keep-alive Agent rather than the SDK's client, which costs ~7x the CPU per
// call and adds an abort listener per request to one shared signal. Timeouts are swept by one timer.
// Session churn: with requestsPerSession, after that many requests a new session is opened (the handshake's
// initialize replayed) and the old one is ended once its last request has been answered.
import http from 'node:http';
import https from 'node:https';
import { answerServerRequest, CLOSED, fromServer, promised, type Connection, type ConnectionOptions, type ConnectionStats, type Done, type Message, type Outcome } from './client.js';
import { eventReader } from './eventstream.js';
import { CannotRun } from './errors.js';
import { bodyText, networkProblem, statusProblem, typeProblem, UNREACHABLE } from './httperrors.js';

export interface HttpOptions extends ConnectionOptions {
  url: URL;
  /** The legacy HTTP+SSE transport instead of Streamable HTTP. */
  sse?: boolean;
  /** Extra headers from the user (authorisation): sent on every request, their values never shown. */
  headers?: Record<string, string>;
  /** Open a new session every this many requests (default: one session for the whole run). */
  requestsPerSession?: number;
}

export interface HttpConnection extends Connection {
  /** The first failure below MCP, as a sentence for the user (nothing listening, a 404, an HTML page). */
  problem(): string | undefined;
  /** End the session (DELETE, or close its stream), then the connection; takes at most about a second. */
  end(): Promise<void>;
}

interface Session {
  id?: string;
  /** Options for POSTing a message: the path (legacy: the one the endpoint event named) and the headers. */
  post: http.RequestOptions;
  used: number;
  inFlight: number;
  /** Its initialize was answered. */
  opened: boolean;
  /** The server ended it (404 for its id, or its stream closed): the next request opens another. */
  lost: boolean;
  /** No new requests (its budget is spent, or it could not be opened); ended when its last one is answered. */
  retired: boolean;
  ended: boolean;
  /** Legacy: the GET request whose answer is the event stream. */
  stream?: http.ClientRequest;
}

interface Pending {
  done: Done;
  sentAt: number;
  session: Session;
  req?: http.ClientRequest;
  init: boolean;
}

interface Waiting {
  method: string;
  paramsJson?: string;
  done: Done;
}

const ACCEPT = 'application/json, text/event-stream';
/** Enough sockets for any sane concurrency; a cap so that an open-loop flood cannot exhaust descriptors. */
const MAX_SOCKETS = 256;

/** Connects (legacy: opens the event stream); the handshake is then done over the connection as on stdio. */
export async function connectHttp(o: HttpOptions): Promise<HttpConnection> {
  const { url } = o;
  const sse = o.sse ?? false;
  const secure = url.protocol === 'https:';
  const lib = secure ? https : http;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: MAX_SOCKETS });
  const userHeaders = o.headers ?? {};
  const headerNames = Object.keys(userHeaders);
  const base = { agent, hostname: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || (secure ? 443 : 80) };
  const now = o.now ?? (() => performance.now());
  const onServerRequest = o.onServerRequest ?? answerServerRequest;
  const pending = new Map<number, Pending>();
  const sessions = { requestsPerSession: o.requestsPerSession, opened: 0, ended: 0, lost: 0, endRefused: 0, stateless: false };
  const stats: ConnectionStats = {
    nonJsonLines: 0, nonJsonSample: [], unknownIds: 0, notifications: 0, serverRequests: {}, largestMessage: 0, sessions,
  };
  const statusInfo = new Map<number, { status: number }>();
  const live = new Set<Session>();
  const ending = new Set<Promise<void>>();
  let waiting: Waiting[] = [];
  let opening: Promise<void> | null = null;
  let initParams: string | undefined;
  let firstProblem: string | undefined;
  let nextId = 1;
  let closed = false;
  let timeoutMs = o.timeoutMs;

  const problem = (text: string) => { firstProblem ??= text; };

  const newSession = (path: string): Session => {
    const s: Session = {
      post: { ...base, path, method: 'POST', headers: { ...userHeaders, 'content-type': 'application/json', accept: ACCEPT } },
      used: 0, inFlight: 0, opened: false, lost: false, retired: false, ended: false,
    };
    live.add(s);
    return s;
  };

  // ---- sending ----

  const send = (s: Session, id: number | undefined, body: string, retried = false): void => {
    const req = lib.request(s.post, (res) => answered(res, s, id, req));
    req.on('error', (err) => failed(err, req, s, id, body, retried));
    if (id !== undefined) pending.get(id)!.req = req;
    req.end(body);
  };

  const sendRequest = (s: Session, method: string, paramsJson: string | undefined, init: boolean, done: Done): void => {
    const id = nextId++;
    if (!init) s.used++;
    s.inFlight++;
    const body = paramsJson === undefined
      ? `{"jsonrpc":"2.0","id":${id},"method":"${method}"}`
      : `{"jsonrpc":"2.0","id":${id},"method":"${method}","params":${paramsJson}}`;
    pending.set(id, { done, sentAt: now(), session: s, init });
    send(s, id, body);
  };

  const notifyOn = (s: Session, method: string, paramsJson?: string) => {
    send(s, undefined, paramsJson === undefined
      ? `{"jsonrpc":"2.0","method":"${method}"}`
      : `{"jsonrpc":"2.0","method":"${method}","params":${paramsJson}}`);
  };

  // ---- answers ----

  const settle = (p: Pending) => {
    p.session.inFlight--;
    if (p.session.retired && p.session.inFlight === 0) endSession(p.session);
  };

  /** Fail one request with a synthesized JSON-RPC error carrying the HTTP status (0: no HTTP answer). */
  const fail = (id: number, status: number, text: string, retryAfter?: string) => {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    settle(p);
    p.done({
      kind: 'answer',
      message: { jsonrpc: '2.0', id, error: { code: status, message: text } },
      latencyMs: now() - p.sentAt,
      http: retryAfter === undefined ? { status } : { status, retryAfter },
    });
  };

  const handle = (msg: Message, s: Session, status: number) => {
    if (msg.method !== undefined) {
      const reply = fromServer(msg, stats, onServerRequest);
      if (reply) send(s, undefined, reply);
      return;
    }
    const p = typeof msg.id === 'number' ? pending.get(msg.id) : undefined;
    if (!p) {
      stats.unknownIds++;
      return;
    }
    pending.delete(msg.id as number);
    if (p.init && !msg.error) started(p.session, msg);
    settle(p);
    let info = statusInfo.get(status);
    if (!info) statusInfo.set(status, (info = Object.freeze({ status })));
    p.done({ kind: 'answer', message: msg, latencyMs: now() - p.sentAt, http: info });
  };

  /** One body or event: a message, or (Streamable HTTP allows it) an array of them. */
  const receive = (text: string, s: Session, status: number) => {
    if (text.length > stats.largestMessage) stats.largestMessage = text.length;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      msg = undefined;
    }
    if (Array.isArray(msg)) {
      for (const m of msg) if (m && typeof m === 'object') handle(m, s, status);
    } else if (msg && typeof msg === 'object') {
      handle(msg as Message, s, status);
    } else if (text.trim()) {
      stats.nonJsonLines++;
      if (stats.nonJsonSample.length < 3) stats.nonJsonSample.push(text.slice(0, 200));
    }
  };

  /** The initialize answer: the session's id and protocol version go on every later request. */
  const started = (s: Session, msg: Message) => {
    s.opened = true;
    sessions.opened++;
    const headers = s.post.headers as Record<string, string>;
    if (s.id) headers['mcp-session-id'] = s.id;
    else if (!sse) sessions.stateless = true;
    const version = msg.result?.protocolVersion;
    if (!sse && typeof version === 'string') headers['mcp-protocol-version'] = version;
  };

  const answered = (res: http.IncomingMessage, s: Session, id: number | undefined, req: http.ClientRequest) => {
    const status = res.statusCode ?? 0;
    if (id === undefined) {
      // A notification or a reply to the server: 202 expected, nothing to wait for.
      res.resume();
      return;
    }
    const p = pending.get(id);
    if (!p || p.req !== req) {
      res.resume(); // timed out meanwhile
      return;
    }
    if (p.init && !sse) {
      const sid = res.headers['mcp-session-id'];
      if (typeof sid === 'string' && sid) s.id = sid;
    }
    const type = res.headers['content-type'] ?? '';
    if (status < 200 || status > 299) {
      readText(res, (text) => {
        // A 404 for a request that carried a session id: the server has ended the session.
        if (status === 404 && s.opened) markLost(s);
        const said = bodyText(text);
        problem(statusProblem(o.url, status, said, { sse, method: 'POST', headerNames }));
        fail(id, status, `${http.STATUS_CODES[status] ?? 'HTTP error'}${said ? `: ${said}` : ''}`, header(res, 'retry-after'));
      });
      return;
    }
    if (sse) {
      res.resume(); // accepted; the answer comes on the event stream
      return;
    }
    // 'close' follows 'end', and also comes alone when the answer is cut off; either way a request still
    // waiting then has had all the answer it will get. (An 'error' on the answer is followed by 'close'.)
    res.on('error', ignore);
    if (type.startsWith('text/event-stream')) {
      res.setEncoding('utf8');
      res.on('data', eventReader((e) => { if (e.event === 'message') receive(e.data, s, status); }));
      res.on('close', () => unanswered(id, req, 'the event stream ended without the answer'));
      return;
    }
    if (type.startsWith('application/json')) {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => receive(chunks.length === 1 ? chunks[0].toString() : Buffer.concat(chunks).toString(), s, status));
      res.on('close', () => unanswered(id, req, 'the HTTP answer held no answer to the request'));
      return;
    }
    readText(res, () => {
      problem(typeProblem(o.url, type, { sse }));
      fail(id, 0, `an answer of content type ${type || 'none'}, not JSON or an event stream`);
    });
  };

  const unanswered = (id: number, req: http.ClientRequest, text: string) => {
    if (pending.get(id)?.req === req) fail(id, 0, text);
  };

  const failed = (err: NodeJS.ErrnoException, req: http.ClientRequest, s: Session, id: number | undefined, body: string, retried: boolean) => {
    if (closed) return;
    if (id === undefined) {
      if (UNREACHABLE.has(err.code ?? '')) lose(err);
      return;
    }
    const p = pending.get(id);
    if (!p || p.req !== req) return; // timed out: the sweeper destroyed it
    // A kept-alive socket the server closed just as we reused it: the request never reached the server
    // (the case Node documents req.reusedSocket for), so it is sent once more on a fresh socket.
    if (!retried && req.reusedSocket && err.code === 'ECONNRESET') {
      send(s, id, body, true);
      return;
    }
    problem(networkProblem(o.url, err));
    if (UNREACHABLE.has(err.code ?? '')) lose(err);
    else fail(id, 0, `no HTTP answer (${err.code ?? err.message})`);
  };

  /** Nothing listens any more (or never did): every request would fail, so the connection is closed. */
  const lose = (err: NodeJS.ErrnoException) => {
    problem(networkProblem(o.url, err));
    close();
  };

  // ---- sessions ----

  const needsNew = (s: Session) => s.lost || s.retired || (o.requestsPerSession !== undefined && s.used >= o.requestsPerSession);

  const markLost = (s: Session) => {
    if (s.lost || s.ended) return;
    s.lost = true;
    sessions.lost++;
  };

  const retire = (s: Session) => {
    if (s.retired) return;
    s.retired = true;
    if (s.inFlight === 0) endSession(s);
  };

  const endSession = (s: Session) => {
    if (s.ended) return;
    s.ended = true;
    live.delete(s);
    if (sse) {
      if (s.opened && !s.lost) sessions.ended++;
      s.stream?.destroy();
      return;
    }
    if (!s.id || !s.opened || s.lost) return; // stateless, never opened, or already ended by the server
    const done = new Promise<void>((resolve) => {
      const req = lib.request({ ...s.post, method: 'DELETE' }, (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        // 404: the server had already forgotten it, which is what ending asks for.
        if ((status >= 200 && status < 300) || status === 404) sessions.ended++;
        else sessions.endRefused++;
        resolve();
      });
      req.on('error', () => resolve());
      req.end();
    });
    ending.add(done);
    done.then(() => ending.delete(done));
  };

  let current: Session = sse ? await openStream() : newSession(o.url.pathname + o.url.search);

  /** Retire the current session and open another, replaying the handshake's initialize. */
  const rotate = async () => {
    retire(current);
    let outcome: Outcome;
    try {
      current = sse ? await openStream() : newSession(o.url.pathname + o.url.search);
      outcome = await new Promise<Outcome>((resolve) => sendRequest(current, 'initialize', initParams, true, resolve));
    } catch (err) {
      if (!(err instanceof CannotRun)) throw err;
      outcome = { kind: 'answer', message: { jsonrpc: '2.0', error: { code: 0, message: err.message } }, latencyMs: 0, http: { status: 0 } };
    }
    opening = null;
    if (outcome.kind === 'answer' && !outcome.message.error) {
      notifyOn(current, 'notifications/initialized');
      release();
      return;
    }
    // The new session could not be opened: the requests that waited for it fail the same way, and the
    // next request tries again.
    retire(current);
    const failing = waiting;
    waiting = [];
    for (const w of failing) w.done(copyFailure(outcome));
  };

  const release = () => {
    while (waiting.length && !needsNew(current)) {
      const w = waiting.shift()!;
      sendRequest(current, w.method, w.paramsJson, false, w.done);
    }
    if (waiting.length && !opening) opening = rotate();
  };

  /** Legacy: GET the event stream and wait for the endpoint event that says where to POST. */
  function openStream(): Promise<Session> {
    return new Promise((resolve, reject) => {
      const s = newSession('');
      let ready = false;
      const give = (err: CannotRun) => {
        clearTimeout(timer);
        if (!ready) reject(err);
        ready = true;
      };
      const timer = setTimeout(() => {
        give(new CannotRun(`the event stream at ${o.url.origin}${o.url.pathname} sent no endpoint event within ${timeoutMs / 1000} s: is it an MCP HTTP+SSE endpoint?`));
        req.destroy();
      }, timeoutMs);
      const req = lib.request({ ...base, path: o.url.pathname + o.url.search, method: 'GET', headers: { ...userHeaders, accept: 'text/event-stream' } }, (res) => {
        const status = res.statusCode ?? 0;
        const type = res.headers['content-type'] ?? '';
        if (status !== 200) return readText(res, (text) => give(new CannotRun(statusProblem(o.url, status, bodyText(text), { sse, method: 'GET', headerNames }))));
        if (!type.startsWith('text/event-stream')) return readText(res, () => give(new CannotRun(typeProblem(o.url, type, { sse }))));
        res.setEncoding('utf8');
        res.on('data', eventReader((e) => {
          if (e.event === 'endpoint') {
            const to = new URL(e.data.trim(), o.url);
            // Headers (credentials) go only where the user pointed: never to another origin.
            if (to.origin !== o.url.origin) return give(new CannotRun(`the server's endpoint event points to another origin (${to.origin}); mcp-hammer posts only to ${o.url.origin}`));
            s.post.path = to.pathname + to.search;
            clearTimeout(timer);
            ready = true;
            resolve(s);
          } else if (e.event === 'message') {
            receive(e.data, s, 200);
          }
        }));
        res.on('error', ignore);
        res.on('close', () => streamClosed(s));
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        give(new CannotRun(networkProblem(o.url, err)));
        if (ready && UNREACHABLE.has(err.code ?? '')) lose(err);
        streamClosed(s);
      });
      s.stream = req;
      req.end();
    });
  }

  /** Legacy: the stream is gone, and with it every answer still owed on it. */
  const streamClosed = (s: Session) => {
    if (s.ended) return;
    if (s.opened) markLost(s);
    else s.retired = true;
    for (const [id, p] of pending) if (p.session === s) fail(id, 0, 'the server closed the event stream');
  };

  // ---- timeouts and the end ----

  let sweeper: NodeJS.Timeout | undefined;
  const startSweeper = () => {
    clearInterval(sweeper);
    sweeper = setInterval(() => {
      const cutoff = now() - timeoutMs;
      // In the map in the order sent (a retry keeps its place), so the expired ones come first.
      for (const [id, p] of pending) {
        if (p.sentAt > cutoff) break;
        pending.delete(id);
        settle(p);
        p.req?.destroy();
        p.done({ kind: 'timeout' });
      }
    }, Math.max(5, Math.min(100, timeoutMs / 10)));
    sweeper.unref();
  };
  startSweeper();

  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(sweeper);
    for (const p of pending.values()) {
      p.req?.destroy();
      p.done(CLOSED);
    }
    pending.clear();
    for (const w of waiting) w.done(CLOSED);
    waiting = [];
    for (const s of live) s.stream?.destroy();
    agent.destroy();
  };

  const call: Connection['send'] = (method, paramsJson, done) => {
    if (closed) {
      setImmediate(done, CLOSED);
      return;
    }
    if (method === 'initialize') {
      initParams = paramsJson;
      sendRequest(current, method, paramsJson, true, done);
      return;
    }
    if (opening || needsNew(current)) {
      waiting.push({ method, paramsJson, done });
      if (!opening) opening = rotate();
      return;
    }
    sendRequest(current, method, paramsJson, false, done);
  };

  return {
    send: call,
    request: promised(call),
    notify(method, paramsJson) {
      if (!closed) notifyOn(current, method, paramsJson);
    },
    inFlight: () => pending.size + waiting.length,
    setTimeoutMs(ms) {
      timeoutMs = ms;
      startSweeper();
    },
    stats,
    close,
    problem: () => firstProblem,
    async end() {
      if (closed) return;
      for (const s of [...live]) endSession(s);
      await Promise.race([Promise.all(ending), new Promise((r) => setTimeout(r, 1000).unref())]);
      close();
    },
  };
}

function ignore(): void {}

/** A failure to open a session, for each request that waited for it. */
function copyFailure(o: Outcome): Outcome {
  if (o.kind !== 'answer') return o;
  const e = o.message.error!;
  return { ...o, latencyMs: 0, message: { jsonrpc: '2.0', error: { code: e.code, message: `could not open a new session: ${e.message}` } } };
}

function header(res: http.IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The body of an answer that is not a message (an error page), up to 64 KB. */
function readText(res: http.IncomingMessage, done: (text: string) => void): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (t: string) => { if (text.length < 65536) text += t; });
  res.on('end', () => done(text));
  res.on('error', () => done(text));
}

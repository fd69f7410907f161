// Streamable HTTP: every message is POSTed to one address; a request's answer comes back as JSON or as an
// event stream. The session id from the initialize answer (Mcp-Session-Id) and the protocol version go on
// every later request; DELETE ends the session, so that a well-behaved server can free it.
import { connectHttp, type HttpConnection, type HttpOptions } from './http.js';
import { newSession, type Flavour, type Http, type Session } from './httpstate.js';

const streamable: Flavour = {
  sse: false,
  answersOnStream: false,
  open: (h) => newSession(h, h.url.pathname + h.url.search),
  sessionId(res) {
    const sid = res.headers['mcp-session-id'];
    return typeof sid === 'string' && sid ? sid : undefined;
  },
  started(h, s, msg) {
    const headers = s.post.headers as Record<string, string>;
    if (s.id) headers['mcp-session-id'] = s.id;
    else h.sessions.stateless = true;
    const version = msg.result?.protocolVersion;
    if (typeof version === 'string') headers['mcp-protocol-version'] = version;
  },
  end: deleteSession,
};

export function connectStreamable(o: HttpOptions): Promise<HttpConnection> {
  return connectHttp(o, streamable);
}

/** DELETE the session, counting whether the server let it go. */
function deleteSession(h: Http, s: Session): void {
  if (!s.id || !s.opened || s.lost) return; // stateless, never opened, or already ended by the server
  const done = new Promise<void>((resolve) => {
    // Sent on the next turn: a session often ends as its last answer is read, whose socket goes back to the
    // agent's pool only then; sent at once, the DELETE would take a socket of its own, and with the client
    // mix's churn the pool would grow with every session.
    setImmediate(() => {
      if (h.pending.closed()) return resolve();
      const req = h.lib.request({ ...s.post, method: 'DELETE' }, (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        // 404: the server had already forgotten it, which is what ending asks for.
        if ((status >= 200 && status < 300) || status === 404) h.sessions.ended++;
        else h.sessions.endRefused++;
        resolve();
      });
      req.on('error', () => resolve());
      req.end();
    });
  });
  h.ending.add(done);
  done.then(() => h.ending.delete(done));
}

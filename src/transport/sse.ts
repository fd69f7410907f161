// HTTP+SSE (2024-11-05) (--sse): a GET opens an event stream whose `endpoint` event says where to POST; POSTs
// are accepted (202) and their answers arrive on the stream. Closing the stream ends the session.
import { CannotRun } from '../errors.js';
import { eventReader } from './eventstream.js';
import { networkProblem, statusProblem, typeProblem, UNREACHABLE, bodyText } from './httperrors.js';
import { connectHttp, type HttpConnection, type HttpOptions } from './http.js';
import { failSession, ignore, lose, markLost, readText, receive } from './post.js';
import { newSession, type Flavour, type Http, type Session } from './httpstate.js';

const sse: Flavour = {
  sse: true,
  answersOnStream: true,
  open: openStream,
  started() {},
  end(h, s) {
    if (s.opened && !s.lost) h.sessions.ended++;
    s.stream?.destroy();
  },
};

export function connectSse(o: HttpOptions): Promise<HttpConnection> {
  return connectHttp(o, sse);
}

/** GET the event stream and wait for the endpoint event that says where to POST. */
function openStream(h: Http): Promise<Session> {
  const { url } = h;
  return new Promise((resolve, reject) => {
    const s = newSession(h, '');
    let ready = false;
    const give = (err: CannotRun) => {
      clearTimeout(timer);
      if (!ready) reject(err);
      ready = true;
    };
    const timer = setTimeout(() => {
      give(new CannotRun(`the event stream at ${url.origin}${url.pathname} sent no endpoint event within ${h.timeoutMs / 1000} s: is it an MCP HTTP+SSE endpoint?`));
      req.destroy();
    }, h.timeoutMs);
    const headers = { ...h.userHeaders, accept: 'text/event-stream' };
    const req = h.lib.request({ ...h.base, path: url.pathname + url.search, method: 'GET', headers }, (res) => {
      const status = res.statusCode ?? 0;
      const type = res.headers['content-type'] ?? '';
      if (status !== 200) {
        return readText(res, (text) => give(new CannotRun(statusProblem(url, status, bodyText(text), { sse: true, method: 'GET', headerNames: h.headerNames }))));
      }
      if (!type.startsWith('text/event-stream')) return readText(res, () => give(new CannotRun(typeProblem(url, type, { sse: true }))));
      s.streaming = true;
      res.setEncoding('utf8');
      res.on('data', eventReader((e) => {
        if (e.event === 'endpoint') {
          const to = new URL(e.data.trim(), url);
          // Headers (credentials) go only where the user pointed: never to another origin.
          if (to.origin !== url.origin) return give(new CannotRun(`the server's endpoint event points to another origin (${to.origin}); mcp-hammer posts only to ${url.origin}`));
          s.post.path = to.pathname + to.search;
          clearTimeout(timer);
          ready = true;
          resolve(s);
        } else if (e.event === 'message') {
          receive(h, e.data, s, 200);
        }
      }));
      res.on('error', ignore);
      res.on('close', () => streamClosed(h, s));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      give(new CannotRun(networkProblem(url, err)));
      if (ready && UNREACHABLE.has(err.code ?? '')) lose(h, err);
      streamClosed(h, s);
    });
    s.stream = req;
    req.end();
  });
}

/** The stream is gone, and with it every answer still owed on it. */
function streamClosed(h: Http, s: Session): void {
  if (s.ended) return;
  if (s.opened) markLost(h, s);
  else s.retired = true;
  failSession(h, s, 'the server closed the event stream');
}

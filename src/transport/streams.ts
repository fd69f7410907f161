// The event streams the client mix's clients keep open, dropped now and then (the connection reset: a
// network change, a laptop's sleep, a proxy's time-out) and opened again, as clients do. In the 2025 era
// each session's GET stream; in 2026-07-28, which has neither sessions nor the GET stream, long-lived
// `subscriptions/listen` streams in its place; over HTTP+SSE the session is its event stream. Each is
// opened on a connection of its own, so that dropping it resets that connection alone.
import { eventReader } from './eventstream.js';
import { markLost, receive, settle } from './post.js';
import type { Http, Session } from './httpstate.js';

export interface Streams {
  /** Whether the server offers the stream: unknown until the first one is asked for. */
  offered: 'unknown' | 'offered' | 'none';
  /** 2026-07-28: the sessions (in name only: the era has none) that hold a subscriptions/listen stream. */
  listeners: Session[];
}

/** Listen requests' ids: the answer comes only when the server ends the stream, and is not a call's (post.ts knows them). */
const OWN_ID = 'mcp-hammer-';
/** Every change a server can announce; it acknowledges the part it serves. */
const LISTEN_PARAMS = '{"notifications":{"toolsListChanged":true,"promptsListChanged":true,"resourcesListChanged":true}}';

/** 2026-07-28: `count` long-lived listeners, each with its subscriptions/listen stream. */
export async function openListeners(h: Http, st: Streams, count: number): Promise<void> {
  for (let i = 0; i < count && st.offered !== 'none'; i++) {
    const s = await h.flavour.open(h);
    st.listeners.push(s);
    openStream(h, st, s);
  }
}

/** The session's event stream: GET in the 2025 era, subscriptions/listen in 2026-07-28; not where the server refuses it. */
export function openStream(h: Http, st: Streams, s: Session): void {
  if (h.flavour.sse || st.offered === 'none' || s.ended || s.abandoned || h.pending.closed()) return;
  const listen = h.flavour.stateless ? h.flavour.frame!(h, s, 'subscriptions/listen', LISTEN_PARAMS) : undefined;
  const options = listen?.options ?? s.post;
  const headers: Record<string, string> = { ...(options.headers as Record<string, string>), accept: listen ? 'application/json, text/event-stream' : 'text/event-stream' };
  if (!listen) delete headers['content-type'];
  const req = h.lib.request({ ...options, agent: false, method: listen ? 'POST' : 'GET', headers }, (res) => {
    if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
      res.resume();
      // 409: the stream just dropped is still open on the server's side (one per session): again, later.
      if (res.statusCode === 409 && st.offered === 'offered') setTimeout(() => openStream(h, st, s), 200).unref();
      else if (st.offered !== 'offered') st.offered = 'none';
      return;
    }
    st.offered = 'offered';
    s.streaming = true;
    h.events!.streams++;
    res.setEncoding('utf8');
    res.on('data', eventReader((e) => { if (e.event === 'message') receive(h, e.data, s, 200); }));
    res.on('error', () => {});
  });
  req.on('error', () => {});
  s.stream = req;
  if (!listen) return void req.end();
  req.end(`{"jsonrpc":"2.0","id":"${OWN_ID}listen-${h.events!.streams}","method":"subscriptions/listen","params":${listen.params}}`);
}

/** Drop one of the sessions' streams by resetting its connection, and open it again, as a client would. */
export function dropStream(h: Http, st: Streams, sessions: Session[]): void {
  const open = (x: Session) => x.streaming && x.stream && !x.stream.destroyed;
  const s = sessions.find((x) => open(x) && x !== h.current) ?? sessions.find(open);
  if (!s || !s.stream) return;
  s.streaming = false;
  h.events!.dropped++;
  // HTTP+SSE: the session is its stream, and the calls in flight on it go with it, given up by the client.
  if (h.flavour.sse) {
    for (const [id, p] of h.pending.table) {
      if (p.session !== s) continue;
      h.pending.table.delete(id);
      settle(h, p);
      p.done({ kind: 'abandoned', how: 'hangup' });
    }
  }
  const socket = s.stream.socket;
  if (socket && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  s.stream.destroy();
  setTimeout(() => openStream(h, st, s), 50).unref();
  if (h.flavour.sse) markLost(h, s);
}

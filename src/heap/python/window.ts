// After the run, on a Python server: the run's calls again in short loads, with tracemalloc off, then on
// (the traced window, whose survivors are what each call keeps), then off again. tracemalloc with frames
// deep enough to reach the server's own line makes every allocation many times slower (measured: 6 to 20
// times fewer calls per second on the SDK's stdio server), so it runs only for this window, not through
// the run whose memory decides the verdict. The untraced loads on either side give the speed without it,
// on the same warm server at the same moment, so the slowdown shown is tracing's alone.
import { finished, hammer, type HammerResult } from '../../load/closedloop.js';
import type { TraceOptions } from '../trace.js';

/** The traced window: long enough for a few hundred calls of a slowed server, at most this many. */
export const WINDOW_SECONDS = 5;
export const WINDOW_REQUESTS = 2000;
/** Each untraced load around it. */
export const BURST_SECONDS = 1.5;

/** Loads continuing the run's numbering of calls (the cache test's flood goes on with new keys). */
export class Loads {
  /** Requests sent since the run, all loads together. */
  sent = 0;

  constructor(private readonly o: TraceOptions) {}

  /** One load of at most `seconds` (and `maxRequests`); throws when it is cut short. */
  async run(seconds: number, maxRequests?: number): Promise<HammerResult> {
    const offset = this.o.requests + this.sent;
    const r = await hammer({
      conn: this.o.target.conn,
      callFor: (i) => this.o.callFor(offset + i),
      concurrency: this.o.concurrency,
      maxSeconds: seconds,
      maxRequests,
      timeoutMs: this.o.timeoutMs,
      blockMs: seconds * 2000,
      sampleMs: 1000,
      sampler: async () => ({ anon: 0, rss: 0, pids: [] }),
      signal: this.o.signal,
      serverExited: this.o.target.server.exited,
    });
    this.sent += r.requests;
    if (!finished(r.stopReason)) throw new Error(`the load after the run did not finish (${r.stopReason})`);
    return r;
  }

  /** The next request's number, counted from the start of the run. */
  get at(): number {
    return this.o.requests + this.sent;
  }
}

// --heap on a Python server: tracemalloc in the serving process, over the private channel (channel.ts).
// The run itself is not traced, so that its speed and its memory, which decide the verdict, are what they
// would be without --heap. After it, the calls go on for a short window with tracing on (window.ts): the
// blocks allocated in the window and still allocated after a full collection are what the calls keep,
// the question the Node.js diff asks of the objects numbered since its baseline. They are grouped by the
// server's own line (frames.ts); the largest group is followed back to the global that holds it.
import type { HeapProbe } from '../probe.js';
import type { TraceOptions } from '../trace.js';
import type { HeapResults } from '../../results.js';
import { round } from '../../format.js';
import type { Hello, PyChannel } from './channel.js';
import { pythonGrowth, type PyGrowth, type PySnapshot } from './frames.js';
import { BURST_SECONDS, Loads, WINDOW_REQUESTS, WINDOW_SECONDS } from './window.js';

/**
 * Frames kept per traceback: the SDK's stack from the event loop down to a tool is 23 frames over stdio and
 * 36 over Streamable HTTP (mcp 2.3), an allocation may be a few frames below the tool's line, and only a
 * complete traceback shows where the program entered the event loop (frames.ts). Measured, the cost hardly
 * differs from 24 frames up; from 1 frame to 8 it triples.
 */
export const FRAMES = 64;

/**
 * Below this a line's blocks are noise. Lower than a Node.js heap's threshold: the window is a few hundred
 * to two thousand calls, not the whole run (a clean SDK server leaves a few KB; see the tests).
 */
export const MIN_PYTHON_BYTES = 64 * 1024;

const EVIDENCE = 'Python memory blocks allocated during the traced window after the run (tracemalloc), still allocated after a full collection';

export class PyHeapWatch implements HeapProbe {
  readonly finishing = 'Heap: the calls again with tracemalloc on, then the snapshot...';
  private readonly results: HeapResults;

  constructor(private readonly channel: PyChannel, hello: Hello) {
    this.results = {
      runtime: 'cpython', pid: hello.pid, evidence: EVIDENCE, series: [], traceRequests: 0, growth: [],
      minBytes: MIN_PYTHON_BYTES, seconds: { snapshots: 0, gc: 0, trace: 0 }, tracemalloc: { python: hello.python, frames: FRAMES },
    };
  }

  watching(): boolean {
    return true;
  }

  /** Nothing during the run: tracing would slow it many times over. */
  async atFloor(): Promise<void> {}

  ready(): boolean {
    return true;
  }

  async finish(o: TraceOptions): Promise<HeapResults> {
    const loads = new Loads(o);
    const t0 = performance.now();
    try {
      const before = await loads.run(BURST_SECONDS);
      await this.channel.request('start', { frames: FRAMES }, 30_000);
      this.results.baseline = { requests: loads.at, bytes: 0 };
      const traced = await loads.run(WINDOW_SECONDS, WINDOW_REQUESTS);
      this.results.traceRequests = traced.requests;
      this.results.seconds.trace = round(traced.durationSeconds, 2);
      const t = performance.now();
      const snapshot = (await this.channel.request('snapshot', {}, 300_000)) as unknown as PySnapshot;
      this.results.seconds.snapshots = round((performance.now() - t) / 1000, 2);
      this.results.end = { requests: loads.at, bytes: snapshot.traced };
      const growth = pythonGrowth(snapshot, { minBytes: MIN_PYTHON_BYTES, top: 5, cwd: process.cwd() });
      this.keep(growth, snapshot, Math.max(1, traced.requests));
      if (growth.length) await this.heldBy(growth[0]);
      await this.channel.request('stop', {}, 30_000);
      const after = await loads.run(BURST_SECONDS);
      this.results.tracemalloc!.slowdown = {
        withoutTracing: round((before.requestsPerSecond + after.requestsPerSecond) / 2, 1),
        withTracing: round(traced.requestsPerSecond, 1),
        seconds: round((performance.now() - t0) / 1000, 2),
      };
    } catch (err) {
      this.results.problem ??= `tracemalloc stopped: ${(err as Error).message}`;
    }
    return this.results;
  }

  partial(why: string): HeapResults {
    this.results.problem ??= why;
    return this.results;
  }

  private keep(growth: PyGrowth[], snapshot: PySnapshot, requests: number): void {
    this.results.growth = growth.map(({ stat: _, ...g }) => ({
      ...g, perRequest: round(g.bytes / requests, 1), countPerRequest: round(g.count / requests, 3),
    }));
    Object.assign(this.results.tracemalloc!, {
      tracedBytes: snapshot.traced, overheadBytes: snapshot.overhead,
      ...(snapshot.omitted.stats ? { omitted: { tracebacks: snapshot.omitted.stats, bytes: snapshot.omitted.size } } : {}),
    });
  }

  /** The global that holds the largest group, when the server finds it in time (it is only a hint). */
  private async heldBy(g: PyGrowth): Promise<void> {
    try {
      const r = await this.channel.request('retainer', { stat: g.stat, seconds: 3 }, 30_000);
      if (typeof r.retainedBy === 'string') this.results.growth[0].retainedBy = r.retainedBy;
    } catch {
      // no path: the list says where, not who holds it
    }
  }
}

// --heap: name what grew in a Node.js server's heap. The live heap (live.ts) is measured after a forced GC
// at every block boundary; on top of it, inside the warm-up, one heap snapshot marks which objects exist,
// and after the run a short trace repeats the requests with allocation tracking on and a last snapshot
// shows every object that appeared since the baseline and survived, where it was allocated (trace.ts).
import type { Inspector } from './inspector.js';
import { collectAndMeasure, type LiveHeap } from './live.js';
import { takeSnapshot, traceLoad, traceRequests, trackAllocations, type TraceOptions } from './trace.js';
import { heapGrowth, highestObjectId } from './diff.js';
import type { Snapshot } from './snapshot.js';
import type { HeapProbe } from './probe.js';
import type { HeapResults } from '../results.js';
import { finished } from '../load/closedloop.js';
import { round } from '../format.js';

export type { TraceOptions } from './trace.js';

/** Below this a group of new objects is noise (a clean SDK server leaves well under it; see the tests). */
export const MIN_GROWTH_BYTES = 256 * 1024;

/** Heap measurements after the baseline before a run that lasts until decided may stop. */
export const FLOORS_AFTER_BASELINE = 6;

/**
 * The baseline snapshot is taken at the first block boundary past a fifth of a run of set length (of the
 * cache test's control phase), and at most six seconds in: early, so that the memory the snapshot itself
 * leaves with the server's allocator (tens of MB) falls in the warm-up the verdict leaves out.
 */
export const heapBaselineDue = (p: { fraction: number; seconds: number }): boolean => p.fraction >= 0.2 || p.seconds >= 6;

export class HeapWatch implements HeapProbe {
  readonly finishing = 'Heap: tracing where allocations come from, then the end snapshot...';
  /** The first object id after the baseline snapshot: objects above it are new. */
  private sinceId = 0;
  private profiling = false;
  private gcMs = 0;
  private snapshotMs = 0;
  private readonly results: HeapResults = {
    runtime: 'node',
    evidence: 'JavaScript heap and ArrayBuffers of the process serving the requests, after a forced full GC',
    series: [], traceRequests: 0, growth: [], minBytes: MIN_GROWTH_BYTES, seconds: { snapshots: 0, gc: 0, trace: 0 },
  };

  constructor(private readonly live: LiveHeap) {}

  /** A Node.js process of the tree is watched. */
  watching(): boolean {
    return this.live.inspectors.candidates.length > 0;
  }

  /**
   * At a block boundary, once the live heap has been measured (bytes, after a forced GC): the series, and
   * the baseline snapshot if `baseline` and it has not been taken yet. `requests` counts from the start.
   */
  async atFloor(p: { requests: number; baseline: boolean; bytes?: number }): Promise<void> {
    const serving = this.live.serving();
    if (!serving || this.results.problem || p.bytes === undefined) return;
    this.results.pid = serving.pid;
    this.results.series.push([p.requests, p.bytes]);
    if (this.sinceId || !p.baseline) return;
    try {
      if (!this.profiling) await serving.inspector.send('HeapProfiler.enable');
      this.profiling = true;
      this.sinceId = highestObjectId(await this.snapshot(serving.inspector));
      this.results.baseline = { requests: p.requests, bytes: p.bytes };
    } catch (err) {
      this.stop(`heap profiling stopped: ${(err as Error).message}`);
    }
  }

  /**
   * Whether a run that lasts until decided may stop: the baseline snapshot is taken and the heap measured at
   * a few floors since, or there is nothing to watch. A leak decided before then would have no growth list.
   */
  ready(): boolean {
    if (!this.live.watching() || this.results.problem) return true;
    const { baseline, series } = this.results;
    return (baseline ? series.filter(([requests]) => requests > baseline.requests).length : 0) >= FLOORS_AFTER_BASELINE;
  }

  /** After a run that finished: the trace, the end snapshot and what grew. Null when not watching. */
  async finish(o: TraceOptions): Promise<HeapResults | null> {
    if (!this.watching()) return null;
    const serving = this.live.serving();
    if (!serving || this.results.problem) return this.done();
    const baseline = this.results.baseline;
    if (!this.sinceId || !baseline) {
      this.stop('the run ended before the heap baseline was taken');
      return this.done();
    }
    const inspector = serving.inspector;
    try {
      const trackedSince = await trackAllocations(inspector);
      const t = performance.now();
      const trace = await traceLoad(o, traceRequests(o.requests - baseline.requests));
      this.results.seconds.trace = round((performance.now() - t) / 1000, 2);
      this.results.traceRequests = trace.requests;
      if (!finished(trace.stopReason)) {
        this.stop(`the trace after the run did not finish (${trace.stopReason})`);
        return this.done();
      }
      const bytes = await this.heapAfterGc(inspector);
      const requests = o.requests + trace.requests;
      this.results.end = { requests, bytes };
      const end = await this.snapshot(inspector);
      const since = Math.max(1, requests - baseline.requests);
      this.results.growth = heapGrowth(end, this.sinceId, { trackedSince, minBytes: MIN_GROWTH_BYTES, top: 5, cwd: process.cwd() })
        .map((g) => ({ ...g, perRequest: round(g.bytes / since, 1), countPerRequest: round(g.count / since, 3) }));
    } catch (err) {
      this.stop(`heap profiling stopped: ${(err as Error).message}`);
    }
    return this.done();
  }

  /** After a run that ended early: what was measured so far, saying why it stops there. Null when not watching. */
  partial(why: string): HeapResults | null {
    if (!this.watching()) return null;
    this.stop(why);
    return this.done();
  }

  private stop(why: string): void {
    if (!this.results.problem) this.results.problem = why;
  }

  private done(): HeapResults {
    this.results.seconds = { snapshots: round(this.snapshotMs / 1000, 2), gc: round(this.gcMs / 1000, 2), trace: this.results.seconds.trace };
    return this.results;
  }

  private async heapAfterGc(inspector: Inspector): Promise<number> {
    const t = performance.now();
    try {
      return await collectAndMeasure(inspector);
    } finally {
      this.gcMs += performance.now() - t;
    }
  }

  private async snapshot(inspector: Inspector): Promise<Snapshot> {
    const t = performance.now();
    try {
      return await takeSnapshot(inspector);
    } finally {
      this.snapshotMs += performance.now() - t;
    }
  }
}

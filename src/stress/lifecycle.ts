// The life of a memory or cache run around the test's own load: the server started with its watchers (the
// heap's inspector with --heap), ended on every path, and the run concluded the same way for both tests:
// the results filled, the one verdict pipeline (judge/pipeline.ts) run on what was measured, the handle
// counts judged, the verdict written. Each test gives its load and its rule; this does the rest once.
import type { Floor, HammerResult } from '../load/closedloop.js';
import { finished } from '../load/closedloop.js';
import { endServer } from '../server/process.js';
import { openTarget, type Target } from '../server/open.js';
import { heapWatch, type HeapWatch, type TraceOptions } from '../heap/watch.js';
import { conclude, type Rule } from '../judge/pipeline.js';
import type { CacheResults, HeapResults, MemoryResults, StopReason } from '../results.js';
import type { Options } from '../options.js';
import type { RunContext } from './context.js';
import { assign, describeTarget, fillRun, runFacts } from './fill.js';
import { fillHandles } from './handles.js';
import { runLength } from './length.js';

/** What a test's load measured, and how it is judged. T: the test's trend (a Trend, or the cache test's). */
export interface Loaded<T> {
  /** The load whose counts, rates and errors the results give (the cache test's: the flood's, if it began). */
  load: HammerResult;
  /** Every floor of the run, all phases in order, requests counted from the start (for the handle counts). */
  floors: Floor[];
  /** What --heap measured; undefined without --heap. */
  heap?: HeapResults | null;
  /** The trend of the process memory, and of the heap after GC from its series. */
  trend: T | null;
  heapTrend(series: [number, number][]): T | null;
  rule: Rule<T>;
  /** The test's own sections of the results. */
  fill(trend: T | null): void;
}

type Results = MemoryResults | CacheResults;

/**
 * Start the server (with the inspector on for --heap), describe it, run the test's load, end the server
 * and conclude. The server is ended on every path, a failure of the load included.
 */
export async function runWithServer<T>(opts: Options, ctx: RunContext, results: Results,
  load: (target: Target, heap: HeapWatch | null) => Promise<Loaded<T>>): Promise<void> {
  const heap = opts.heap ? heapWatch() : null;
  const target = await openTarget(opts.command, opts.serverArgs, { ...opts, signal: ctx.signal, ...heap?.spawn });
  try {
    describeTarget(results, target);
    results.warnings.push(...(await heap?.attach())?.warnings ?? []);
    const loaded = await load(target, heap);
    heap?.close();
    await endServer(target.server);
    results.stderrTail = target.server.stderrTail();
    fillRun(results, loaded.load, target);
    loaded.fill(loaded.trend);
    if (loaded.heap) results.heap = loaded.heap;
    results.stopReason = runLength(opts).open && loaded.load.stopReason === 'duration' ? 'cap' : loaded.load.stopReason;
    const heapTrend = loaded.heap ? loaded.heapTrend(loaded.heap.series) : undefined;
    const handles = fillHandles(results, loaded.floors, target.server);
    const { judged, decidedBy } = conclude(runFacts(loaded.load, results, opts.timeoutMs), { process: loaded.trend, heap: heapTrend },
      loaded.rule, handles, Boolean(results.server.exit));
    if (loaded.heap && decidedBy && results.memory) results.memory.decidedBy = decidedBy;
    assign(results, judged);
  } finally {
    heap?.close();
    await endServer(target.server);
  }
}

/**
 * With --heap, after the load: the trace and the end snapshot if the load finished, else what was measured
 * so far and why it stops there. Undefined without --heap.
 */
export async function heapAfterLoad(heap: HeapWatch | null, ctx: RunContext, stopReason: StopReason, trace: TraceOptions): Promise<HeapResults | null | undefined> {
  if (!heap) return undefined;
  if (!finished(stopReason)) return heap.partial(`the run ended early (${stopReason}), so there was no end snapshot`);
  if (heap.watching()) ctx.say('Heap: tracing where allocations come from, then the end snapshot...');
  return heap.finish(trace);
}

// The life of a memory or cache run around the test's own load: the server started with its watchers (the
// inspector of a Node.js server, for the heap after forced GCs and --heap; with --heap, the Python hook for
// tracemalloc), ended on every path, and the run concluded the same way for both tests: the results
// filled, the one verdict pipeline (judge/pipeline.ts) run on what was measured, the handle counts judged,
// the verdict written. Each test gives its load and its rule; this does the rest once.
import type { Floor, HammerOptions, HammerResult } from '../load/closedloop.js';
import { finished } from '../load/closedloop.js';
import { endServer } from '../server/process.js';
import { openTarget, type Target } from '../server/open.js';
import type { TraceOptions } from '../heap/watch.js';
import type { HeapProbe } from '../heap/probe.js';
import { chooseHeap } from '../heap/choose.js';
import { pythonEnv } from '../heap/python/channel.js';
import { LiveHeap } from '../heap/live.js';
import { runtimeOf, type Runtime } from '../sampling/runtime.js';
import { conclude, type Rule } from '../judge/pipeline.js';
import type { CacheResults, HeapResults, MemoryResults, StopReason } from '../results.js';
import type { Options } from '../options.js';
import type { RunContext } from './context.js';
import { assign, describeTarget, fillRun, runFacts } from './fill.js';
import { fillHandles } from './handles.js';
import { runLength } from './length.js';

/** What is known of the server besides its process: its runtime, for Node.js the live heap, and --heap (Node.js or Python). */
export interface Watchers {
  runtime: Runtime;
  live: LiveHeap | null;
  heap: HeapProbe | null;
}

/** What a test's load measured, and how it is judged. T: the test's trend (a Trend, or the cache test's). */
export interface Loaded<T> {
  /** The load whose counts, rates and errors the results give (the cache test's: the flood's, if it began). */
  load: HammerResult;
  /** Every floor of the run, all phases in order, requests counted from the start (for the handle counts). */
  floors: Floor[];
  /** What --heap measured; undefined without --heap. */
  heap?: HeapResults | null;
  /** The trend of the process memory, and of the heap after GC (undefined: the heap was not watched). */
  trend: T | null;
  heapTrend?: T | null;
  rule: Rule<T>;
  /** The test's own sections of the results, given the trend of the process memory and the one that decided. */
  fill(trend: T | null, deciding: T | null): void;
}

/**
 * Start the server (with the inspector on for --heap), describe it, run the test's load, end the server
 * and conclude. The server is ended on every path, a failure of the load included.
 */
export async function runWithServer<T>(opts: Options, ctx: RunContext, results: MemoryResults | CacheResults,
  load: (target: Target, watchers: Watchers) => Promise<Loaded<T>>): Promise<void> {
  // The inspector is turned on for a server mcp-hammer starts (its environment is mcp-hammer's to set); with
  // --heap, the Python hook too, with its private channel (the runtime is known only once it runs).
  const python = opts.heap && Boolean(opts.command);
  const env = python ? pythonEnv(process.env) : process.env;
  const live = opts.inspector && (opts.command || !opts.url) ? new LiveHeap(env) : null;
  const spawn = { env, ...live?.spawn, channel: python };
  const target = await openTarget(opts.command, opts.serverArgs, { ...opts, signal: ctx.signal, ...spawn });
  try {
    describeTarget(results, target);
    results.warnings.push(...(await live?.attach()) ?? []);
    const runtime = runtimeOf(target.server.knownPids);
    if (runtime !== 'unknown') results.server.runtime = runtime;
    const { heap, warning } = opts.heap ? await chooseHeap({ live, server: target.server, runtime }) : { heap: null };
    if (warning) results.warnings.push(warning);
    const loaded = await load(target, { runtime, live: live?.watching() ? live : null, heap });
    live?.close();
    await endServer(target.server);
    results.stderrTail = target.server.stderrTail();
    fillRun(results, loaded.load, target);
    const handles = fillHandles(results, loaded.floors, target.server);
    const { judged, decidedBy, deciding } = conclude(runFacts(loaded.load, results, opts.timeoutMs), { process: loaded.trend, heap: loaded.heapTrend },
      loaded.rule, handles, Boolean(results.server.exit));
    loaded.fill(loaded.trend, deciding);
    if (loaded.heap) results.heap = loaded.heap;
    results.stopReason = runLength(opts).open && loaded.load.stopReason === 'duration' ? 'cap' : loaded.load.stopReason;
    if (decidedBy && results.memory) results.memory.decidedBy = decidedBy;
    assign(results, judged);
  } finally {
    live?.close();
    await endServer(target.server);
  }
}

/**
 * The closed loop's hooks for the watchers: at every block boundary the live heap after a forced GC (and
 * --heap's baseline snapshot when due), and blocks long enough for the forced GCs to stay a small part of
 * the run. offset: the requests before this phase (the cache test's flood continues its control phase).
 */
export function floorHooks(w: Watchers, blockMs: number, offset: number, baselineDue: (p: { fraction: number; seconds: number }) => boolean)
  : Pick<HammerOptions, 'atFloor' | 'blockMs'> {
  const { live, heap } = w;
  if (!live && !heap) return { blockMs };
  return {
    blockMs: live ? () => live.blockMs(blockMs) : blockMs,
    atFloor: async (p) => {
      const bytes = await live?.measure();
      // A Node.js heap whose measuring failed has nothing to add; a Python server has no live heap.
      if (heap && (bytes !== undefined || !live)) await heap.atFloor({ requests: offset + p.requests, baseline: baselineDue(p), bytes });
      return bytes;
    },
  };
}

/**
 * With --heap, after the load: the trace and the end snapshot if the load finished, else what was measured
 * so far and why it stops there. Undefined without --heap.
 */
export async function heapAfterLoad(heap: HeapProbe | null, ctx: RunContext, stopReason: StopReason, trace: TraceOptions): Promise<HeapResults | null | undefined> {
  if (!heap) return undefined;
  if (!finished(stopReason)) return heap.partial(`the run ended early (${stopReason}), so there was no end snapshot`);
  if (heap.watching()) ctx.say(heap.finishing);
  return heap.finish(trace);
}

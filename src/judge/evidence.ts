// Which evidence decides the verdict when --heap adds a second kind to the process memory: the JavaScript
// heap after a forced GC, read at every block boundary. Pure: trends in, a choice out.
//
// The heap series (the JavaScript heap and the ArrayBuffers it keeps) has almost no noise (no garbage,
// no allocator slack), so it shows a JavaScript leak sooner and more surely; but it cannot see memory
// that native code or other processes of the tree keep, which the process memory does. So the run fails when either
// keeps rising, and the results say which one did.
import { DEFAULT_BUDGETS, memoryTrend, type Budgets, type Point, type Trend } from './trend.js';
import { cacheTrend, type CacheTrend } from './cache.js';
import type { Judged } from './run.js';
import { lookAt, type Decision, type LeakTarget } from './stopping.js';

/** What decided a verdict: the process tree's memory, the JavaScript heap after forced GCs, or both. */
export type EvidenceName = 'process memory' | 'heap after GC' | 'both';

/**
 * The budgets for the heap after GC. Every point is read after a full collection, so there is no saw-tooth
 * whose rising stretch could pass for a leak, no free heap space in which a leak can hide, and the scatter
 * is tens of KB rather than tens of MB. Growth under 2 MB is not called a leak: a clean SDK server's heap
 * after GC climbs a few hundred KB over its first thousand requests, then stays within ~100 KB. No leak is
 * called before 10,000 requests: a server may keep a bounded log of its last few thousand requests, which
 * climbs as a leak does until it is full (the process memory waits 20,000, for V8's own warm-up).
 */
export const HEAP_BUDGETS: Budgets = {
  ...DEFAULT_BUDGETS, minSignificantBytes: 2 * 1024 * 1024, sawTooth: false, hiddenBytes: 0, settleRequests: 10_000, minPlateauRequests: 5_000,
};

/** The trend of the heap after GC, by the same rule as the process memory, with the heap's budgets. */
export function heapTrend(points: Point[]): Trend {
  return memoryTrend(points, HEAP_BUDGETS);
}

/** The heap after GC of both cache phases judged by the cache rule, the flood's requests counted in keys. */
export function heapCacheTrend(control: Point[], flood: Point[]): CacheTrend | null {
  return flood.length ? cacheTrend(control, flood, HEAP_BUDGETS) : null;
}

/** The floors' live heap after GC as points, where it was measured. */
export function heapPoints(floors: { requests: number; seconds: number; heap?: number }[]): Point[] {
  return floors.flatMap((f) => (f.heap === undefined ? [] : [{ requests: f.requests, bytes: f.heap, seconds: f.seconds }]));
}

/**
 * The process memory's growth is explained when the heap after GC rules the leak out: it does not rise,
 * and what it grew per request after its warm-up is within the leak size (V8's own heap settling, what the
 * heap measured). Anything more is growth a PASS must not stand beside.
 */
function explained(process: Trend, target: LeakTarget): boolean {
  return (process.shape === 'flat' || process.shape === 'levels off' || process.shape === 'unclear') && process.bytesPerRequest <= target.bytesPerRequest;
}

/**
 * The evidence that decides, and its trend. Either rising decides (both: the heap's cleaner numbers are
 * quoted). Neither rising: the heap after GC decides when it rules out the leak size and the process
 * memory's growth is explained; else the process memory, by its own rule.
 */
export function chooseEvidence(memory: Trend, heap: Trend | null, target: LeakTarget): { trend: Trend; decidedBy: EvidenceName } {
  if (!heap || heap.shape === 'too short') return { trend: memory, decidedBy: 'process memory' };
  const memoryRises = memory.shape === 'rising';
  const heapRises = heap.shape === 'rising';
  if (memoryRises && heapRises) return { trend: heap, decidedBy: 'both' };
  if (memoryRises) return { trend: memory, decidedBy: 'process memory' };
  if (heapRises) return { trend: heap, decidedBy: 'heap after GC' };
  if (lookAt(heap, target) === 'pass' && explained(memory, target)) return { trend: heap, decidedBy: 'heap after GC' };
  return { trend: memory, decidedBy: memory.shape === 'too short' ? 'heap after GC' : 'both' };
}

/** One look with both kinds of evidence: a leak in either is a FAIL; a PASS needs the chosen evidence to rule the leak out. */
export function lookAtEvidence(memory: Trend, heap: Trend | null, target: LeakTarget): { decision: Decision; ruledOut: number } {
  const { trend } = chooseEvidence(memory, heap, target);
  return { decision: lookAt(trend, target), ruledOut: trend.ruledOutBytesPerRequest };
}

/**
 * The verdict's first reason, told which evidence showed the leak where the two disagree. exited: the
 * server exited, so a flat heap says nothing about where the growth was.
 */
export function withEvidence(judged: Judged, decidedBy: EvidenceName, heap: Trend | null, exited: boolean): Judged {
  if (judged.verdict !== 'fail' || !judged.reasons.length) return judged;
  const [first, ...rest] = judged.reasons;
  if (decidedBy === 'heap after GC') {
    return { ...judged, reasons: [`${first} (the JavaScript heap after forced GCs; the process memory alone did not show it)`, ...rest] };
  }
  if (decidedBy === 'process memory' && heap && heap.shape !== 'too short' && !exited) {
    return { ...judged, reasons: [`${first}; the JavaScript heap and its Buffers stayed flat, so the growth is outside them (native code, other processes)`, ...rest] };
  }
  return judged;
}

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

/** What decided a verdict: the process tree's memory, the JavaScript heap after forced GCs, or both. */
export type EvidenceName = 'process memory' | 'heap after GC' | 'both';

/**
 * The budgets for the heap after GC. Every point is read after a full collection, so there is no saw-tooth
 * whose rising stretch could pass for a leak, and the scatter is a few hundred KB rather than tens of MB.
 * Growth under 2 MB is not called a leak: a clean SDK server's heap after GC stays within ~1 MB after
 * warm-up (see the --heap tests).
 */
export const HEAP_BUDGETS: Budgets = { ...DEFAULT_BUDGETS, minSignificantBytes: 2 * 1024 * 1024, sawTooth: false, hiddenBytes: 0 };

const points = (series: [number, number][], from = 0): Point[] => series.map(([requests, bytes]) => ({ requests: requests - from, bytes }));

/** The trend of [requests, heap bytes after GC] points, by the same rule as the process memory. */
export function heapTrend(series: [number, number][]): Trend {
  return memoryTrend(points(series), HEAP_BUDGETS);
}

/**
 * The same series judged by the cache rule: its points up to the first new key are the control phase,
 * the rest the flood, counted in keys.
 */
export function heapCacheTrend(series: [number, number][], controlRequests: number): CacheTrend | null {
  const flood = series.filter(([r]) => r >= controlRequests);
  return flood.length ? cacheTrend(points(series.filter(([r]) => r <= controlRequests)), points(flood, controlRequests), HEAP_BUDGETS) : null;
}

export function chooseEvidence(memory: Trend, heap: Trend | null): { trend: Trend; decidedBy: EvidenceName } {
  if (!heap || heap.shape === 'too short' || memory.shape === 'too short') return { trend: memory, decidedBy: 'process memory' };
  const memoryRises = memory.shape === 'rising';
  const heapRises = heap.shape === 'rising';
  // Both rising: the heap's numbers are the cleaner ones to quote.
  if (memoryRises === heapRises) return { trend: heapRises ? heap : memory, decidedBy: 'both' };
  return memoryRises ? { trend: memory, decidedBy: 'process memory' } : { trend: heap, decidedBy: 'heap after GC' };
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

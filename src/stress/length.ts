// How long a memory or cache run lasts and what it must rule out: the user's --duration or --requests, or
// until decided within --max-duration; the length of a block; the leak a PASS must rule out; the budgets
// below which growth is never called a leak.
import { DEFAULT_BUDGETS, type Budgets } from '../judge/trend.js';
import type { LeakTarget } from '../judge/stopping.js';
import type { Options } from '../options.js';
import type { Runtime } from '../sampling/runtime.js';

/**
 * Blocks of ~1/48 of a run of set length, by time and by count, whichever ends first (at least 250 ms or
 * 100 requests); half a second in a run that lasts until decided. Sampled a few times each.
 */
export function blockTiming(durationSeconds?: number, requests?: number): { blockMs: number; sampleMs: number; blockRequests?: number } {
  const blockMs = durationSeconds ? Math.max(250, Math.round((durationSeconds * 1000) / 48)) : 500;
  const blockRequests = requests ? Math.max(100, Math.round(requests / 48)) : undefined;
  return { blockMs, blockRequests, sampleMs: Math.min(200, Math.max(20, Math.round(blockMs / 3))) };
}

/** The length of a run: the user's (--duration, --requests), or until decided within --max-duration. */
export function runLength(opts: Options): { maxSeconds?: number; maxRequests?: number; open: boolean } {
  const open = opts.durationSeconds === undefined && opts.requests === undefined;
  return { maxSeconds: open ? opts.maxDurationSeconds : opts.durationSeconds, maxRequests: opts.requests, open };
}

/** What a PASS must rule out: --leak-size per request, and 16 KB per session with churn. */
export function leakTarget(opts: Options): LeakTarget {
  return { bytesPerRequest: opts.leakBytesPerRequest, ...(opts.requestsPerSession ? { bytesPerSession: 16 * 1024, requestsPerSession: opts.requestsPerSession } : {}) };
}

/** The cache test's target: --leak-size per new key. */
export function perKey(opts: Options): LeakTarget {
  return { bytesPerRequest: opts.leakBytesPerRequest };
}

/**
 * The process memory budgets of a run. With session churn, growth of 2 KB per session is never called
 * allocator drift, however many requests a session holds: the per-request budget comes down to match.
 * CPython frees an object as its last reference goes, and its cyclic collector runs every few hundred
 * allocations: its memory has no saw-tooth to wait out (measured: floors flat to the KB with 1 MB of garbage
 * per call, or 100 KB per call held in reference cycles), nor the free heap space V8 fills before it grows.
 */
export function memoryBudgets(opts: Options, runtime: Runtime = 'unknown'): Budgets {
  const perRequest = opts.requestsPerSession ? Math.min(DEFAULT_BUDGETS.bytesPerRequest, 2048 / opts.requestsPerSession) : DEFAULT_BUDGETS.bytesPerRequest;
  const own = runtime === 'cpython' ? CPYTHON_BUDGETS : DEFAULT_BUDGETS;
  return { ...own, bytesPerRequest: perRequest };
}

/**
 * CPython's process memory: no saw-tooth, no hidden free heap space beyond what the noise shows. No leak is
 * called before 10,000 requests, as for the heap after GC: a bounded log of the last few thousand requests
 * climbs as a leak does until it is full.
 */
export const CPYTHON_BUDGETS: Budgets = { ...DEFAULT_BUDGETS, sawTooth: false, hiddenBytes: 0, settleRequests: 10_000, minPlateauRequests: 5_000 };

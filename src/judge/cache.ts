// The cache test's rule. Floods carry a new argument value in every request, so requests are keys: the
// flood's floors are fitted exactly as the memory test's. Growth per key is only a cache when repeated
// requests do not grow too: the control phase (one argument set, repeated) measures that per-request
// growth first.
import { formatBytes } from '../format.js';
import { DEFAULT_BUDGETS, memoryTrend, type Budgets, type Point, type Trend } from './trend.js';
import type { Verdict } from './run.js';
import { lookAt, rulesOut, type Decision, type LeakTarget } from './stopping.js';
import { undecidedReason, type RunLength } from './leak.js';

/** A rise smaller than this after the first new key is not reported as a cache that levelled off. */
const CACHE_RISE_BYTES = 16 * 1024 * 1024;

export interface CacheTrend {
  flood: Trend;
  control: Trend;
  /** The level before the first new key: the lowest floor of the control phase's second half. */
  before: number;
  /** Growth per new key beyond what a repeated request grows. */
  bytesPerKey: number;
  /** Memory keeps growing but repeated requests grow as fast: a plain leak, not a cache. */
  plainLeak: boolean;
  /** Where memory settled, against the level before the first new key, when it rose clearly and stopped. */
  levelsOffAt?: { bytes: number; keys: number };
  /** The memory the fitted growth predicts at a million keys. */
  projectedAtMillionKeys: number;
}

/** controlFloors: the repeated phase; floodFloors: requests counted from the first new key. */
export function cacheTrend(controlFloors: Point[], floodFloors: Point[], budgets: Budgets = DEFAULT_BUDGETS): CacheTrend {
  // The control phase warms the server up; the flood's own settling is judged below from the level before
  // the first new key, so it needs neither the memory test's 20,000-request warm-up nor its plateau.
  const control = memoryTrend(controlFloors, budgets);
  // The control phase was also the server's first collections: the flood's teeth are later ones.
  const flood = memoryTrend(floodFloors, { ...budgets, minPlateauRequests: 0, settleRequests: 0, firstToothFactor: 0.6 });
  const before = controlFloors.length ? lowestLate(controlFloors) : flood.baseline;
  // The control phase is short, so its growth is not held to the memory test's budgets: it only has to
  // climb clearly above its own scatter, in its second half too (warm-up growth lies in the first), at half
  // the flood's rate or more.
  const controlKeepsUp = control.shape !== 'too short'
    && Math.min(control.bytesPerRequest, control.lateBytesPerRequest) >= flood.bytesPerRequest / 2
    && control.growth > 4 * control.noise;
  const perRequest = control.shape === 'rising' || controlKeepsUp ? Math.max(0, control.bytesPerRequest) : 0;
  // A negative share per key means nothing: a repeated request grew faster than a new one.
  const bytesPerKey = Math.max(0, flood.bytesPerRequest - perRequest);
  const trend: CacheTrend = {
    flood, control, before, bytesPerKey,
    plainLeak: flood.shape === 'rising' && controlKeepsUp,
    projectedAtMillionKeys: before + bytesPerKey * 1e6,
  };
  if (flood.shape === 'rising' || flood.shape === 'too short') return trend;
  // The level the flood settled at, measured from before the first new key, so that a cache filled within
  // the flood's own warm-up is seen too. New keys alone lift an SDK server without any cache by a few MB
  // (more garbage of other shapes), so a rise under CACHE_RISE_BYTES is not called a cache.
  const rise = lowestLate(floodFloors) - before;
  if (rise < CACHE_RISE_BYTES) return trend;
  const reached = floodFloors.find((p) => p.bytes >= before + 0.9 * rise) ?? floodFloors[floodFloors.length >> 1];
  return { ...trend, levelsOffAt: { bytes: rise, keys: reached.requests } };
}

/**
 * The lowest floor of the second half of a phase: the level it settles at. A cache that evicts large
 * entries makes old garbage, and the heap then saw-tooths over several seconds, longer than a block: only
 * the lowest floors are after a full collection.
 */
function lowestLate(floors: Point[]): number {
  return Math.min(...floors.slice(floors.length >> 1).map((p) => p.bytes));
}

/**
 * A server that refused most flooded calls kept no new keys, so its cache was not reached: said with
 * or without a trend (a short run on a busy machine may have too few blocks for one).
 */
export function notReached(rejected: number): Verdict | null {
  if (rejected <= 0.5) return null;
  return {
    pass: false,
    undecided: true,
    reasons: [`the server rejected most flooded calls (${Math.round(rejected * 100)}%), so its cache was not reached and cannot be judged; `
      + 'vary arguments it accepts (--vary, --args)'],
  };
}

/** One look during the flood: an unbounded cache (or plain leak) established, every cache of the target's size per key ruled out, or neither yet. */
export function lookAtCache(c: CacheTrend, target: LeakTarget): Decision {
  return lookAt(c.flood, { bytesPerRequest: target.bytesPerRequest });
}

/** Pass/fail for the cache test; rejected is the share of flooded calls the server refused. */
export function cacheVerdict(c: CacheTrend, rejected: number, target: LeakTarget, run: RunLength): Verdict {
  if (c.flood.shape === 'rising' && c.plainLeak) {
    return {
      pass: false,
      reasons: [`memory grows with every request, new argument values or not: ${formatBytes(c.control.bytesPerRequest)} per request with one repeated argument set, `
        + `${formatBytes(c.flood.bytesPerRequest)} with new ones: a leak rather than a cache (mcp-hammer memory tests it)`],
    };
  }
  if (c.flood.shape === 'rising') {
    return { pass: false, reasons: ['unbounded cache: memory grows with every new argument value'] };
  }
  const refused = notReached(rejected);
  if (refused) return refused;
  const perKey = { bytesPerRequest: target.bytesPerRequest };
  if ((c.flood.shape === 'flat' || c.flood.shape === 'levels off') && rulesOut(c.flood, perKey)) {
    return { pass: true, reasons: [`no cache growing by ${formatBytes(target.bytesPerRequest)} or more per new key`] };
  }
  return { pass: false, undecided: true, reasons: [undecidedReason(c.flood, perKey, run, 'key')] };
}

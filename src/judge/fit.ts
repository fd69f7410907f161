// The fit of a series of floors after its warm-up: the Theil-Sen line, the noise this server shows, the
// growth that counts, what the run rules out; and the types the memory rule reads and gives (Point,
// Budgets, Trend). Pure.
import type { Shape } from '../results.js';
import { median, scatterAbout, theilSen } from './stats.js';

export interface Point {
  requests: number;
  bytes: number;
  /** When the floor was taken, in seconds of load (where known). */
  seconds?: number;
}

export interface Budgets {
  /** Bytes per request below which growth is never called a leak (allocator drift, counters, logs). */
  bytesPerRequest: number;
  /**
   * Growth must exceed noiseFactor times the scatter of the floors this server shows, and at least this
   * many bytes: a Python server's floors scatter by a few KB, a Node server's saw-tooth by several MB.
   */
  minSignificantBytes: number;
  noiseFactor: number;
  /** Fewest blocks after warm-up for a verdict. */
  minBlocks: number;
  /**
   * Fewest requests in a flat second half before growth is said to have levelled off. V8 grows its heap in
   * steps for the first tens of thousands of calls of an SDK server, and a flat stretch shorter than that
   * can be the pause between two steps of a leak.
   */
  minPlateauRequests: number;
  /**
   * The series may saw-tooth between major garbage collections (process memory does; the heap read after
   * a forced GC does not), so a climb must have outlasted the falls before it is called a leak, or be
   * larger than one saw-tooth can be: sawToothBytes, and 60% of the memory the run started from.
   */
  sawTooth: boolean;
  sawToothBytes: number;
  /**
   * Before its first major collection a heap can take in far more garbage than later on: V8 starts with a
   * high limit for its old generation and lets it grow up to 4 times the live size after each collection.
   * A Node server making garbage was seen to climb 56 MB from a floor of 43 MB, and 70 MB on a busy machine, before its
   * first fall. So while the floors have never fallen, a climb is larger than one saw-tooth only beyond this
   * many times the lowest floor of the run.
   */
  firstToothFactor: number;
  /**
   * A climb with no fall for this long and this large is no saw-tooth either: a saw-tooth that slow would
   * have to be that tall. (A Python server never saw-tooths; its leaks climb this way.)
   */
  steadySeconds: number;
  steadyBytes: number;
  /**
   * What a leak can add before process memory shows it: V8 fills the free space of its heap first and
   * then grows it in steps of several MB (a 1 KB/request leak at 300 requests/s showed flat floors for
   * 10,000 requests between steps), so a stretch of flat floors rules out only leaks that would have
   * outgrown this too.
   */
  hiddenBytes: number;
  /**
   * No leak is called before the server has had this many requests: a V8 server settles over its first
   * 10,000 to 20,000 calls, and at a few hundred calls a second that takes a minute, long enough to climb
   * through several garbage collections as a leak would.
   */
  settleRequests: number;
}

const MB = 1024 * 1024;

export const DEFAULT_BUDGETS: Budgets = {
  bytesPerRequest: 64,
  minSignificantBytes: MB,
  noiseFactor: 4,
  minBlocks: 8,
  minPlateauRequests: 20_000,
  sawTooth: true,
  sawToothBytes: 48 * MB,
  firstToothFactor: 3,
  steadySeconds: 60,
  steadyBytes: 16 * MB,
  hiddenBytes: 16 * MB,
  settleRequests: 20_000,
};

export interface Trend {
  shape: Shape;
  /** Floor at the end of warm-up, and at the end of the run. */
  baseline: number;
  end: number;
  bytesPerRequest: number;
  earlyBytesPerRequest: number;
  lateBytesPerRequest: number;
  /** Growth the fit predicts over the measured requests. */
  growth: number;
  /** Scatter of the floors around the fit (robust standard deviation). */
  noise: number;
  /** The requests measured after warm-up. */
  measuredRequests: number;
  /** Blocks judged, and how many of them were warm-up. */
  blocks: number;
  warmupBlocks: number;
  /** Marked falls of the floors after warm-up (counted when deciding whether growth is a leak). */
  collections?: number;
  /** Growth that counts: the noise factor times the scatter, at least the minimum. */
  significant: number;
  /** The smallest growth per request this run could have called a leak. */
  detectableBytesPerRequest: number;
  /**
   * The smallest leak the run rules out, in bytes per request: one that large would have added more than
   * the growth measured plus what the noise can hide. Infinity when nothing is ruled out yet.
   */
  ruledOutBytesPerRequest: number;
  /** Where a rising series flattened: bytes above baseline, and after how many requests. */
  levelsOffAt?: { bytes: number; requests: number };
}

/** What the shape is told from, beyond the trend's own fields: the measured floors and their falls. */
export interface Fit extends Trend {
  /** The floors after warm-up, and the requests where they begin. */
  measured: Point[];
  x0: number;
  /** Where the floors fell markedly after warm-up. */
  falls: { at: number; depth: number }[];
  /** The lowest floor of the second half. */
  lateLow: number;
}

/** Where the floors fell markedly (a major garbage collection giving memory back), and by how much. */
export function fallsOf(floors: Point[]): { at: number; depth: number }[] {
  const falls: { at: number; depth: number }[] = [];
  let peak = -Infinity;
  floors.forEach((p, i) => {
    if (peak - p.bytes > Math.max(2 * MB, 0.03 * peak)) {
      falls.push({ at: i, depth: peak - p.bytes });
      peak = p.bytes;
    } else {
      peak = Math.max(peak, p.bytes);
    }
  });
  return falls;
}

/** A trend with too few floors after warm-up to say anything. */
export function tooShort(floors: Point[], warmupBlocks: number, budgets: Budgets): Trend {
  return {
    shape: 'too short', baseline: floors[Math.max(0, warmupBlocks - 1)]?.bytes ?? 0, end: floors.at(-1)?.bytes ?? 0, bytesPerRequest: 0,
    earlyBytesPerRequest: 0, lateBytesPerRequest: 0, growth: 0, noise: 0, measuredRequests: 0, blocks: floors.length,
    warmupBlocks, significant: budgets.minSignificantBytes, detectableBytesPerRequest: Infinity, ruledOutBytesPerRequest: Infinity,
  };
}

/**
 * The floors after warm-up fitted: the slope over the whole and each half, the scatter about the fit, the
 * growth that counts, what the run rules out. Null when fewer than minBlocks floors remain. The shape is
 * left 'unclear' for shapeOf to decide.
 */
export function fitAfter(floors: Point[], warmupBlocks: number, budgets: Budgets): Fit | null {
  const measured = floors.slice(warmupBlocks);
  if (measured.length < budgets.minBlocks) return null;
  const slope = theilSen(measured);
  const x0 = measured[0].requests;
  const span = measured.at(-1)!.requests - x0;
  const intercept = median(measured.map((p) => p.bytes - slope * p.requests));
  const noise = scatterAbout(measured, { slope, intercept });
  const half = measured.length >> 1;
  const early = theilSen(measured.slice(0, half + 1));
  const late = theilSen(measured.slice(half));
  const growth = slope * span;
  const falls = fallsOf(measured);
  // Growth counts only when it is clearly beyond what this server's floors do without leaking: the noise
  // factor times their scatter, twice the depth of its saw-tooth (the median fall; the scatter alone misses
  // it, most floors lying at its foot), and the minimum.
  const significant = Math.max(budgets.minSignificantBytes, budgets.noiseFactor * noise, 2 * median(falls.map((f) => f.depth)));
  // A leak of the rate ruled out would have shown as more than the growth measured plus what the noise
  // and the heap's free space hide, over the whole measured part and over its second half alone.
  const margin = Math.max(significant, budgets.hiddenBytes);
  const ruledOut = span > 0 ? Math.max((Math.max(0, growth) + margin) / span, Math.max(0, late) + (2 * significant) / span) : Infinity;
  return {
    shape: 'unclear',
    // The baseline is the fit where the measured part begins, not one floor that may sit on a saw-tooth's peak.
    baseline: intercept + slope * x0,
    end: floors.at(-1)!.bytes,
    bytesPerRequest: slope, earlyBytesPerRequest: early, lateBytesPerRequest: late, growth, noise,
    measuredRequests: span, blocks: floors.length, warmupBlocks, collections: falls.length, significant,
    detectableBytesPerRequest: Math.max(budgets.bytesPerRequest, span > 0 ? significant / span : Infinity), ruledOutBytesPerRequest: ruledOut,
    measured, x0, falls, lateLow: Math.min(...measured.slice(half).map((p) => p.bytes)),
  };
}

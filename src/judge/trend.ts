// Pure statistics: memory floors in, a trend and its shape out (flat, rising, levels off, unclear).
// No clock, no I/O: a recorded series always gives the same verdict.
//
// The rule, in plain words: the first part of the run is warm-up (V8 and the SDK grow by tens of MB before
// they settle) and is left out. After it, the lowest memory of each block is fitted against the number of
// requests with Theil-Sen (the median of all pairwise slopes, which a few GC spikes cannot drag). The
// server leaks when that slope is over a per-request budget, the growth it predicts over the run is over a
// total budget and well above the noise, and the second half of the run still climbs (a cache that fills
// up and stops is not a leak).
import type { Shape } from '../results.js';

export interface Point {
  requests: number;
  bytes: number;
}

export interface Budgets {
  /** Bytes per request below which growth is not called a leak. */
  bytesPerRequest: number;
  /** Total bytes of growth over the measured part of the run below which it is not called a leak. */
  totalBytes: number;
  /** Share of the run (by blocks) treated as warm-up at least... */
  warmupFraction: number;
  /**
   * ...and at least this many requests (up to three quarters of the run): an SDK server's V8 heap settles
   * over its first ~10,000-20,000 calls, whatever the time they take.
   */
  warmupRequests: number;
  /** Fewest blocks after warm-up for a verdict. */
  minBlocks: number;
  /**
   * Fewest requests in a flat second half before growth is said to have levelled off. V8 grows its heap in
   * steps for the first tens of thousands of calls of an SDK server, and a flat stretch shorter than that
   * can be the pause between two steps of a leak.
   */
  minPlateauRequests: number;
  /**
   * The series saw-tooths between major garbage collections (process memory does; the heap read after a
   * forced GC does not), so a climb must have outlasted two falls before it is called a leak.
   */
  sawTooth: boolean;
}

export const DEFAULT_BUDGETS: Budgets = {
  bytesPerRequest: 64,
  totalBytes: 16 * 1024 * 1024,
  warmupFraction: 0.25,
  warmupRequests: 20_000,
  minBlocks: 8,
  minPlateauRequests: 20_000,
  sawTooth: true,
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
  /** The smallest growth per request this run could have called a leak. */
  detectableBytesPerRequest: number;
  /** Where a rising series flattened: bytes above baseline, and after how many requests. */
  levelsOffAt?: { bytes: number; requests: number };
}

const MB = 1024 * 1024;

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Theil-Sen slope: the median of the slopes between every pair of points. */
export function theilSen(points: Point[]): number {
  const slopes: number[] = [];
  // Thin long series so that the pairs stay under ~200,000.
  const step = Math.max(1, Math.ceil(points.length / 600));
  const pts = points.filter((_, i) => i % step === 0);
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const dx = pts[j].requests - pts[i].requests;
      if (dx > 0) slopes.push((pts[j].bytes - pts[i].bytes) / dx);
    }
  }
  return median(slopes);
}

/** Where the floors fell markedly (a major garbage collection giving memory back), and by how much. */
function fallsOf(floors: Point[]): { at: number; depth: number }[] {
  const falls: { at: number; depth: number }[] = [];
  let peak = -Infinity;
  floors.forEach((p, i) => {
    if (peak - p.bytes > Math.max(2 * 1024 * 1024, 0.03 * peak)) {
      falls.push({ at: i, depth: peak - p.bytes });
      peak = p.bytes;
    } else {
      peak = Math.max(peak, p.bytes);
    }
  });
  return falls;
}

/** How many times the floors fell markedly. */
export function collections(floors: Point[]): number {
  return fallsOf(floors).length;
}

export function memoryTrend(floors: Point[], budgets: Budgets = DEFAULT_BUDGETS): Trend {
  const byShare = Math.ceil(floors.length * budgets.warmupFraction);
  const byCount = floors.findIndex((p) => p.requests >= budgets.warmupRequests) + 1 || floors.length;
  const warmupBlocks = Math.min(floors.length, Math.max(byShare, Math.min(byCount, Math.floor(floors.length * 0.75))));
  const measured = floors.slice(warmupBlocks);
  const base = floors[Math.max(0, warmupBlocks - 1)]?.bytes ?? 0;
  const endBytes = floors.at(-1)?.bytes ?? 0;
  const empty: Trend = {
    shape: 'too short', baseline: base, end: endBytes, bytesPerRequest: 0, earlyBytesPerRequest: 0,
    lateBytesPerRequest: 0, growth: 0, noise: 0, measuredRequests: 0, blocks: floors.length, warmupBlocks,
    detectableBytesPerRequest: Infinity,
  };
  if (measured.length < budgets.minBlocks) return empty;

  const slope = theilSen(measured);
  const x0 = measured[0].requests;
  const span = measured.at(-1)!.requests - x0;
  const intercept = median(measured.map((p) => p.bytes - slope * p.requests));
  const noise = 1.4826 * median(measured.map((p) => Math.abs(p.bytes - (intercept + slope * p.requests))));
  const half = measured.length >> 1;
  const early = theilSen(measured.slice(0, half + 1));
  const late = theilSen(measured.slice(half));
  const growth = slope * span;
  const trend: Trend = {
    ...empty, bytesPerRequest: slope, earlyBytesPerRequest: early, lateBytesPerRequest: late, growth, noise,
    measuredRequests: span,
  };
  // Growth counts only when it is over the per-request budget and, in total, over both the total budget
  // and four times the scatter of the floors.
  const significant = Math.max(budgets.totalBytes, 4 * noise);
  const over = (perRequest: number, requests: number) =>
    perRequest > budgets.bytesPerRequest && perRequest * requests > significant;
  const detectable = Math.max(budgets.bytesPerRequest, span > 0 ? significant / span : Infinity);
  const judged = { ...trend, detectableBytesPerRequest: detectable };

  // Still climbing in the second half at a good share of the first half's pace: a leak.
  // (A second half that alone grew by several times the budget is a leak whatever the first half did.)
  if (over(late, span / 2) && (late >= 0.5 * early || late * (span / 2) > 3 * significant)) {
    // A clean server under load can take longer than the run to finish one saw-tooth (V8 collecting every
    // ten seconds on a busy machine), and a rising stretch of it looks like a leak. Growth is called a leak
    // when it has outlasted two collections, or is far too large for a saw-tooth.
    const drops = collections(floors.slice(warmupBlocks));
    const decisive = !budgets.sawTooth || drops >= 2 || growth > 3 * significant;
    return { ...judged, collections: drops, shape: decisive ? 'rising' : 'unclear' };
  }
  // Risen: even the lowest floor of the second half is clearly above the baseline. (Not the last floor: a
  // run ends anywhere on a saw-tooth, and a garbage-heavy server's last floor may be its highest.)
  const rose = Math.min(...measured.slice(half).map((p) => p.bytes)) - base > significant;
  if (!over(slope, span) && !over(early, span / 2) && !over(late, span / 2) && !rose) return { ...judged, shape: 'flat' };
  // Growth that stopped: something filled up (a bounded cache) or V8 finished warming up. Only when the
  // second half was long enough to have shown half the first half's pace is "stopped" a finding.
  const top = median(measured.slice(half).map((p) => p.bytes));
  const pace = Math.max(early, (top - base) / Math.max(1, measured[half].requests - x0));
  const resolvable = 0.5 * pace * (span / 2) > significant && span / 2 >= budgets.minPlateauRequests;
  if (late < 0.25 * pace && resolvable) {
    const reached = measured.find((p) => p.bytes >= base + 0.9 * (top - base)) ?? measured[half];
    return { ...judged, shape: 'levels off', levelsOffAt: { bytes: Math.max(0, top - base), requests: reached.requests } };
  }
  // Growth far beyond any saw-tooth (over 256 MB and half the baseline again, by the fit and by the floors),
  // however unevenly it came: a leak. An unbounded cache that V8 collects in big falls looks like this.
  if (over(slope, span) && Math.min(growth, endBytes - base) > Math.max(256 * MB, 0.5 * base)) return { ...judged, shape: 'rising' };
  // Growing, but slowing down, or too little of it to tell: warm-up and a leak look alike here.
  return { ...judged, shape: 'unclear' };
}

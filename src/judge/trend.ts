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

export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  // Selection rather than a sort: the rule runs after every block, on tens of thousands of slopes.
  const a = Float64Array.from(values);
  const mid = n >> 1;
  const upper = select(a, mid);
  return n % 2 ? upper : (upper + max(a, mid)) / 2;
}

/** The k-th smallest value (Hoare's selection); leaves the smaller ones before k. */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return a[k];
}

/** The largest of a[0..end). */
function max(a: Float64Array, end: number): number {
  let m = -Infinity;
  for (let i = 0; i < end; i++) if (a[i] > m) m = a[i];
  return m;
}

/** Theil-Sen slope: the median of the slopes between every pair of points. */
export function theilSen(points: Point[]): number {
  // Thin long series so that the pairs stay under ~11,000: the rule runs after every block.
  const step = Math.max(1, Math.ceil(points.length / 150));
  const pts = step === 1 ? points : points.filter((_, i) => i % step === 0);
  const slopes = new Float64Array((pts.length * (pts.length - 1)) / 2);
  let n = 0;
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const dx = pts[j].requests - pts[i].requests;
      if (dx > 0) slopes[n++] = (pts[j].bytes - pts[i].bytes) / dx;
    }
  }
  return median(slopes.subarray(0, n));
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

/**
 * Where warm-up ends: the number of leading floors to leave out, found in the series by the marginal
 * standard error rule (MSER, White 1997, from the analysis of simulation output): the cut that makes the
 * mean of what is kept most certain. It is applied to the floors less the trend of the run's second half,
 * so that a steady leak is not mistaken for a transient. A V8 server's floors climb for its first ~10,000
 * to 20,000 calls (~1,300 sessions under churn) and are cut; a Python server's hardly move and lose
 * nothing. A cut in the second half of the series means the server is still settling.
 */
export function warmupEnd(floors: Point[], budgets: Budgets = DEFAULT_BUDGETS): { blocks: number; settled: boolean } {
  const n = floors.length;
  if (n < 4) return { blocks: 0, settled: false };
  const late = floors.slice(n >> 1);
  const slope = theilSen(late);
  const intercept = median(late.map((p) => p.bytes - slope * p.requests));
  const residuals = floors.map((p) => p.bytes - (intercept + slope * p.requests));
  // Departures no larger than growth that would count (the noise factor times the scatter of the second
  // half about its own trend) are no transient worth cutting.
  const own = residuals.slice(n >> 1);
  const middle = median(own);
  const scatter = 1.4826 * median(own.map((r) => Math.abs(r - middle)));
  const band = Math.max(budgets.minSignificantBytes, budgets.noiseFactor * scatter);
  if (Math.max(...residuals) - Math.min(...residuals) < band) {
    return { blocks: 0, settled: true };
  }
  // Sums over the kept suffix, from the end: MSER(d) = sum of squared deviations of r[d..] / (n - d)^2.
  let sum = 0;
  let squares = 0;
  let best = 0;
  let bestScore = Infinity;
  let bestMean = 0;
  let bestSd = 0;
  // At least a quarter of the series is always kept: a cut that would leave less says "still settling".
  for (let d = n - 1; d >= 0; d--) {
    sum += residuals[d];
    squares += residuals[d] * residuals[d];
    const k = n - d;
    if (k < Math.max(4, n >> 2)) continue;
    const score = (squares - (sum * sum) / k) / (k * k);
    if (score <= bestScore) {
      bestScore = score;
      best = d;
      bestMean = sum / k;
      bestSd = Math.sqrt(Math.max(0, squares / k - bestMean * bestMean));
    }
  }
  // A cut is a transient only when what it leaves out lies clearly apart from what it keeps; else the rule
  // has only picked among the noise.
  // Only a climb that slowed down is warm-up: floors below the later trend. Floors above it (memory given
  // back after start-up, or growth speeding up: a leak's staircase) are kept in the fit.
  // Floors of the cut above the kept level count as level with it: V8's first saw-tooth climbs past the
  // level it then falls to, and those floors must not cancel the climb below it.
  const cutMean = best ? residuals.slice(0, best).reduce((a, b) => a + Math.min(b, bestMean), 0) / best : bestMean;
  if (bestMean - cutMean < 2 * bestSd) return { blocks: 0, settled: true };
  // And it climbed faster than what follows: a steady climb interrupted by one fall is no warm-up.
  if (best >= 2 && theilSen(floors.slice(0, best + 1)) < 1.5 * Math.max(0, theilSen(floors.slice(best)))) return { blocks: 0, settled: true };
  // The warm-up ends where the floors first come within what counts of the level kept, not at the last
  // small step the scatter allows: a settled server's floors wander by a fraction of a MB (the allocator),
  // and chasing those steps kept moving the cut past half the run, "settling" to the cap on a busy machine.
  while (best > 0 && Math.abs(residuals[best - 1] - bestMean) <= band) best--;
  return { blocks: best, settled: best <= n >> 1 };
}

export function memoryTrend(floors: Point[], budgets: Budgets = DEFAULT_BUDGETS): Trend {
  const { blocks: warmupBlocks, settled } = warmupEnd(floors, budgets);
  const measured = floors.slice(warmupBlocks);
  const endBytes = floors.at(-1)?.bytes ?? 0;
  const empty: Trend = {
    shape: 'too short', baseline: floors[Math.max(0, warmupBlocks - 1)]?.bytes ?? 0, end: endBytes, bytesPerRequest: 0,
    earlyBytesPerRequest: 0, lateBytesPerRequest: 0, growth: 0, noise: 0, measuredRequests: 0, blocks: floors.length,
    warmupBlocks, significant: budgets.minSignificantBytes, detectableBytesPerRequest: Infinity, ruledOutBytesPerRequest: Infinity,
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
  // The baseline is the fit where the measured part begins, not one floor that may sit on a saw-tooth's peak.
  const base = intercept + slope * x0;
  const falls = fallsOf(measured);
  // Growth counts only when it is over the per-request budget and, in total, clearly beyond what this
  // server's floors do without leaking: the noise factor times their scatter, twice the depth of its
  // saw-tooth (the median fall; the scatter alone misses it, most floors lying at its foot), and the minimum.
  const significant = Math.max(budgets.minSignificantBytes, budgets.noiseFactor * noise, 2 * median(falls.map((f) => f.depth)));
  const over = (perRequest: number, requests: number) => perRequest > budgets.bytesPerRequest && perRequest * requests > significant;
  // A leak of the rate ruled out would have shown as more than the growth measured plus what the noise
  // and the heap's free space hide, over the whole measured part and over its second half alone.
  const margin = Math.max(significant, budgets.hiddenBytes);
  const ruledOut = span > 0 ? Math.max((Math.max(0, growth) + margin) / span, Math.max(0, late) + (2 * significant) / span) : Infinity;
  const lateLow = Math.min(...measured.slice(half).map((p) => p.bytes));
  const judged: Trend = {
    ...empty, baseline: base, bytesPerRequest: slope, earlyBytesPerRequest: early, lateBytesPerRequest: late, growth, noise,
    measuredRequests: span, collections: falls.length, significant,
    detectableBytesPerRequest: Math.max(budgets.bytesPerRequest, span > 0 ? significant / span : Infinity), ruledOutBytesPerRequest: ruledOut,
  };

  // Still settling: the floors of the first half are not yet those of the second (a climb that slows down
  // is warm-up, whatever its falls say).
  if (!settled) return { ...judged, shape: 'settling' };
  // Growing over the measured part, and still at half that pace or more in its second half: a leak, once
  // it cannot be a saw-tooth. A clean server under load can take longer than the run to finish one
  // saw-tooth (V8 collecting every ten seconds on a busy machine), and its rising stretch looks like a leak.
  // So growth is called a leak when it outlasted the collections: the floors right after three marked
  // falls (what a major GC leaves: the live memory) rise at half its pace or more; when it has climbed for a
  // long time since the last fall; or when it is larger than one saw-tooth can be. The second half must
  // climb the whole significance on its own (a saw-tooth caught mid-climb, or a slow warm-up, raises the
  // troughs for a while), except for the long climb without a fall: no saw-tooth climbs a minute and 16 MB,
  // and asking its half for twice the depth of the server's falls made a slow server's leak (300 requests/s,
  // one 9 MB fall early on) wait minutes longer, past the cap on a busy machine.
  const lateOver = over(late, span / 2);
  if (over(slope, span) && over(late, span) && late >= 0.5 * slope) {
    const troughs = falls.map((f) => measured[f.at]);
    const outlasted = troughs.length >= 3 && theilSen(troughs) >= 0.5 * slope;
    // The current climb: from the foot of the last fall (or the baseline, with none) to the last floor.
    const foot = falls.length ? measured[falls.at(-1)!.at] : { ...measured[0], bytes: base };
    const climb = endBytes - foot.bytes;
    const lasted = (measured.at(-1)!.seconds ?? 0) - (foot.seconds ?? Infinity);
    const steady = lasted >= budgets.steadySeconds && Math.min(growth, climb) > budgets.steadyBytes;
    // A saw-tooth scales with the heap, the heap before any leak: the lowest floor of the whole run.
    const ground = Math.min(...floors.map((p) => p.bytes));
    const settledServer = (floors.at(-1)?.requests ?? 0) >= budgets.settleRequests;
    // The tallest a saw-tooth can be: once the server has collected (its floors fell somewhere in the run),
    // a share of its size; before that, its first tooth, which can be several times its size.
    const tooth = fallsOf(floors).length ? Math.max(budgets.sawToothBytes, 0.6 * ground) : Math.max(budgets.sawToothBytes, budgets.firstToothFactor * ground);
    if (settledServer && steady) return { ...judged, shape: 'rising' };
    if (lateOver) {
      const decisive = settledServer && (!budgets.sawTooth || outlasted || Math.min(growth, climb) > tooth);
      return { ...judged, shape: decisive ? 'rising' : 'unclear' };
    }
  }
  // Risen: even the lowest floor of the second half is clearly above the baseline. (Not the last floor: a
  // run ends anywhere on a saw-tooth, and a garbage-heavy server's last floor may be its highest.)
  const rose = lateLow - base > significant;
  if (!over(slope, span) && !over(early, span / 2) && !over(late, span / 2) && !rose) return levelledInWarmup(floors, judged, budgets) ?? { ...judged, shape: 'flat' };
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
  if (over(slope, span) && Math.min(growth, lateLow - base) > Math.max(256 * MB, 0.5 * base)) return { ...judged, shape: 'rising' };
  // Growing, but slowing down, or too little of it to tell: warm-up and a leak look alike here.
  return { ...judged, shape: 'unclear' };
}

/**
 * A rise the warm-up cut took in, reported as what it was: a cache that filled and stopped. Warm-up is
 * measured from where a V8 server has settled in any case (a quarter of the run, 20,000 requests at least);
 * memory that rose well beyond that and then stayed flat filled something up. For the report only: the
 * verdict is the same as for a flat series.
 */
function levelledInWarmup(floors: Point[], judged: Trend, budgets: Budgets): Trend | null {
  const settledAt = Math.max(Math.ceil(floors.length / 4), floors.findIndex((p) => p.requests >= budgets.minPlateauRequests));
  if (settledAt < 0 || settledAt >= judged.warmupBlocks) return null;
  const from = floors[settledAt].bytes;
  const level = median(floors.slice(judged.warmupBlocks).map((p) => p.bytes));
  const rise = level - from;
  if (rise <= Math.max(judged.significant, budgets.hiddenBytes)) return null;
  const reached = floors.find((p, i) => i >= settledAt && p.bytes >= from + 0.9 * rise) ?? floors[judged.warmupBlocks];
  return { ...judged, shape: 'levels off', levelsOffAt: { bytes: rise, requests: reached.requests } };
}

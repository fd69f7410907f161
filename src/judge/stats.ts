// The statistics every verdict rests on, each defined once: median, quantile, robust scatter, the Theil-Sen
// line, and the thinning that keeps them cheap after every block. Pure functions of numbers, tested on
// known values (test/unit/stats.test.ts). The verdict files call them by name.

/** A point of a series: x is what the load counts (requests, keys), y what was measured (bytes, a count). */
export interface XY {
  requests: number;
  bytes: number;
}

/** The straight line y = intercept + slope * x. */
export interface Line {
  slope: number;
  intercept: number;
}

/** 1.4826 times the median absolute deviation estimates the standard deviation of normal data. */
const MAD_TO_SD = 1.4826;

/**
 * Theil-Sen is quadratic in the points; past this many the series is thinned first. 150 points make ~11,000
 * pairs: the rule runs after every block of a run that may last minutes.
 */
const MAX_FIT_POINTS = 150;

/** The middle value (the mean of the two middle ones for an even count); 0 for no values. */
export function median(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) return 0;
  // Selection rather than a sort: the rule runs after every block, on tens of thousands of slopes.
  const a = Float64Array.from(values);
  const mid = n >> 1;
  const upper = select(a, mid);
  return n % 2 ? upper : (upper + largest(a, mid)) / 2;
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
function largest(a: Float64Array, end: number): number {
  let m = -Infinity;
  for (let i = 0; i < end; i++) if (a[i] > m) m = a[i];
  return m;
}

/**
 * The value at quantile q (0..1) by the nearest-rank rule: the smallest value with at least q of the values
 * at or below it (q = 0.5 of [1, 2, 3, 4] is 2; q = 1 is the largest). 0 for no values.
 */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

/** Robust standard deviation of values about their median: 1.4826 x their median absolute deviation. */
export function robustSd(values: readonly number[]): number {
  const middle = median(values);
  return MAD_TO_SD * median(values.map((v) => Math.abs(v - middle)));
}

/** Robust standard deviation of points about a line: 1.4826 x the median absolute residual. */
export function scatterAbout(points: readonly XY[], line: Line): number {
  return MAD_TO_SD * median(points.map((p) => Math.abs(p.bytes - (line.intercept + line.slope * p.requests))));
}

/** At most max points spread evenly over the series, the first and the last always among them. */
export function thin<P>(points: readonly P[], max: number): readonly P[] {
  if (points.length <= max) return points;
  const step = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * step)]);
}

/**
 * Theil-Sen slope: the median of the slopes between every pair of points (pairs with the same x left out).
 * A few outliers cannot drag it, where least squares follows them. Long series are thinned first.
 */
export function theilSen(points: readonly XY[]): number {
  const pts = thin(points, MAX_FIT_POINTS);
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

/** The Theil-Sen line: its slope, and the median of y - slope * x as the intercept. */
export function fitLine(points: readonly XY[]): Line {
  const slope = theilSen(points);
  return { slope, intercept: median(points.map((p) => p.bytes - slope * p.requests)) };
}

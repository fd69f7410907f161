// Where a series' warm-up ends: the floors to leave out before the trend is fitted. A V8 server's floors
// climb for its first ~10,000 to 20,000 calls (~1,300 sessions under churn) and settle; a Python server's
// hardly move. Pure: floors in, the number of leading floors to cut out.
import { median, robustSd, theilSen } from './stats.js';
import type { Budgets, Point } from './fit.js';

export interface WarmupCut {
  /** Leading floors that are warm-up. */
  blocks: number;
  /** False when the cut lies in the second half: the server is still settling. */
  settled: boolean;
}

/**
 * The marginal standard error rule (MSER, White 1997, from the analysis of simulation output): the cut that
 * makes the mean of what is kept most certain. It is applied to the floors less the trend of the run's
 * second half, so that a steady leak is not mistaken for a transient, and a cut is kept only when what it
 * leaves out lies clearly below what it keeps and climbed faster: a climb that slowed down and stopped.
 */
export function warmupEnd(floors: Point[], budgets: Budgets): WarmupCut {
  const n = floors.length;
  if (n < 4) return { blocks: 0, settled: false };
  const late = floors.slice(n >> 1);
  const slope = theilSen(late);
  const intercept = median(late.map((p) => p.bytes - slope * p.requests));
  const residuals = floors.map((p) => p.bytes - (intercept + slope * p.requests));
  // Departures no larger than growth that would count (the noise factor times the scatter of the second
  // half about its own trend) are no transient worth cutting.
  const band = Math.max(budgets.minSignificantBytes, budgets.noiseFactor * robustSd(residuals.slice(n >> 1)));
  if (Math.max(...residuals) - Math.min(...residuals) < band) return { blocks: 0, settled: true };
  const best = mser(residuals);
  if (!isTransient(floors, residuals, best)) return { blocks: 0, settled: true };
  // The warm-up ends where the floors first come within what counts of the level kept, not at the last
  // small step the scatter allows: a settled server's floors wander by a fraction of a MB (the allocator).
  let blocks = best.cut;
  while (blocks > 0 && Math.abs(residuals[blocks - 1] - best.mean) <= band) blocks--;
  return { blocks, settled: blocks <= n >> 1 };
}

interface Cut {
  cut: number;
  /** Mean and standard deviation of the residuals kept. */
  mean: number;
  sd: number;
}

/**
 * MSER over the residuals: the cut d minimising the sum of squared deviations of r[d..] over (n - d)^2.
 * At least a quarter of the series (and four floors) is always kept.
 */
function mser(residuals: number[]): Cut {
  const n = residuals.length;
  let sum = 0;
  let squares = 0;
  let best: Cut = { cut: 0, mean: 0, sd: 0 };
  let bestScore = Infinity;
  for (let d = n - 1; d >= 0; d--) {
    sum += residuals[d];
    squares += residuals[d] * residuals[d];
    const k = n - d;
    if (k < Math.max(4, n >> 2)) continue;
    const score = (squares - (sum * sum) / k) / (k * k);
    if (score <= bestScore) {
      bestScore = score;
      const mean = sum / k;
      best = { cut: d, mean, sd: Math.sqrt(Math.max(0, squares / k - mean * mean)) };
    }
  }
  return best;
}

/**
 * A cut is a transient only when what it leaves out lies clearly below what it keeps (else the rule has
 * only picked among the noise), and climbed faster than what follows (a steady climb interrupted by one
 * fall is no warm-up). Floors of the cut above the kept level count as level with it: V8's first
 * saw-tooth climbs past the level it then falls to, and those floors must not cancel the climb below it.
 * Floors above the later trend (memory given back after start-up, a leak's staircase) stay in the fit.
 */
function isTransient(floors: Point[], residuals: number[], best: Cut): boolean {
  const cutMean = best.cut ? residuals.slice(0, best.cut).reduce((a, b) => a + Math.min(b, best.mean), 0) / best.cut : best.mean;
  if (best.mean - cutMean < 2 * best.sd) return false;
  return !(best.cut >= 2 && theilSen(floors.slice(0, best.cut + 1)) < 1.5 * Math.max(0, theilSen(floors.slice(best.cut))));
}

// The shape of a fitted series: settling, rising (a leak), unclear, flat, or levels off. Pure: the fit of
// the floors after warm-up in (trend.ts), the trend with its shape out.
//
// Process memory saw-tooths between major garbage collections, and a clean server under load can take
// longer than a run to finish one tooth: its rising stretch looks like a leak. So growth is called a leak
// only once it cannot be a saw-tooth: it outlasted the collections, it climbed for a long time since the
// last fall, or it is larger than one saw-tooth can be. A series read after forced collections (the heap
// after GC) has no saw-tooth, and its budgets say so (sawTooth: false).
import { median, theilSen } from './stats.js';
import { fallsOf, type Budgets, type Fit, type Point, type Trend } from './fit.js';
import type { Shape } from '../results.js';

const MB = 1024 * 1024;

/** The trend of the fit with its shape decided. settled: the warm-up cut lies in the first half. */
export function shapeOf(floors: Point[], fit: Fit, settled: boolean, budgets: Budgets): Trend {
  // Still settling: the floors of the first half are not yet those of the second (a climb that slows down
  // is warm-up, whatever its falls say).
  if (!settled) return trendOf(fit, 'settling');
  const climbing = climbingShape(floors, fit, budgets);
  if (climbing) return trendOf(fit, climbing);
  const { slope, early, late, span } = paces(fit);
  const over = overBudget(fit, budgets);
  // Risen: even the lowest floor of the second half is clearly above the baseline. (Not the last floor: a
  // run ends anywhere on a saw-tooth, and a garbage-heavy server's last floor may be its highest.)
  const rose = fit.lateLow - fit.baseline > fit.significant;
  if (!over(slope, span) && !over(early, span / 2) && !over(late, span / 2) && !rose) {
    return levelledInWarmup(floors, fit, budgets) ?? trendOf(fit, 'flat');
  }
  const plateau = levelsOff(fit, budgets);
  if (plateau) return plateau;
  // Growth far beyond any saw-tooth (over 256 MB and half the baseline again, by the fit and by the floors),
  // however unevenly it came: a leak. An unbounded cache that V8 collects in big falls looks like this.
  if (over(slope, span) && Math.min(fit.growth, fit.lateLow - fit.baseline) > Math.max(256 * MB, 0.5 * fit.baseline)) return trendOf(fit, 'rising');
  // Growing, but slowing down, or too little of it to tell: warm-up and a leak look alike here.
  return trendOf(fit, 'unclear');
}

/** The trend's own fields of a fit, with a shape (the fit's working values left behind). */
function trendOf(fit: Fit, shape: Shape, levelsOffAt?: Trend['levelsOffAt']): Trend {
  const { measured: _m, x0: _x, falls: _f, lateLow: _l, ...trend } = fit;
  return { ...trend, shape, ...(levelsOffAt ? { levelsOffAt } : {}) };
}

const paces = (fit: Fit) => ({ slope: fit.bytesPerRequest, early: fit.earlyBytesPerRequest, late: fit.lateBytesPerRequest, span: fit.measuredRequests });

/** Growth that counts: over the per-request budget and, over that many requests, beyond the significance. */
const overBudget = (fit: Fit, budgets: Budgets) => (perRequest: number, requests: number) =>
  perRequest > budgets.bytesPerRequest && perRequest * requests > fit.significant;

/**
 * Growing over the measured part, and still at half that pace or more in its second half: 'rising' once it
 * cannot be a saw-tooth, 'unclear' while it could; null when the series does not climb so. The second half
 * must climb the whole significance on its own (a saw-tooth caught mid-climb, or a slow warm-up, raises the
 * troughs for a while), except for the long climb without a fall: no saw-tooth climbs a minute and 16 MB,
 * and asking its half for twice the depth of the server's falls made a slow server's leak wait minutes.
 */
function climbingShape(floors: Point[], fit: Fit, budgets: Budgets): 'rising' | 'unclear' | null {
  const { slope, late, span } = paces(fit);
  const over = overBudget(fit, budgets);
  if (!(over(slope, span) && over(late, span) && late >= 0.5 * slope)) return null;
  const settledServer = (floors.at(-1)?.requests ?? 0) >= budgets.settleRequests;
  const climb = currentClimb(fit);
  const steady = climb.seconds >= budgets.steadySeconds && Math.min(fit.growth, climb.bytes) > budgets.steadyBytes;
  if (settledServer && steady) return 'rising';
  if (!over(late, span / 2)) return null;
  const decisive = settledServer && (!budgets.sawTooth || outlasted(fit) || Math.min(fit.growth, climb.bytes) > tallestTooth(floors, budgets));
  return decisive ? 'rising' : 'unclear';
}

/** The floors right after three marked falls (what a major GC leaves: the live memory) rise at half the pace or more. */
function outlasted(fit: Fit): boolean {
  const troughs = fit.falls.map((f) => fit.measured[f.at]);
  return troughs.length >= 3 && theilSen(troughs) >= 0.5 * fit.bytesPerRequest;
}

/** The climb under way: from the foot of the last fall (or the baseline, with none) to the last floor. */
function currentClimb(fit: Fit): { bytes: number; seconds: number } {
  const foot = fit.falls.length ? fit.measured[fit.falls.at(-1)!.at] : { ...fit.measured[0], bytes: fit.baseline };
  return { bytes: fit.end - foot.bytes, seconds: (fit.measured.at(-1)!.seconds ?? 0) - (foot.seconds ?? Infinity) };
}

/**
 * The tallest a saw-tooth can be. It scales with the heap before any leak, the lowest floor of the run: once
 * the server has collected (its floors fell somewhere in the run), a share of its size; before that, its
 * first tooth, which can be several times its size.
 */
function tallestTooth(floors: Point[], budgets: Budgets): number {
  const ground = Math.min(...floors.map((p) => p.bytes));
  return fallsOf(floors).length ? Math.max(budgets.sawToothBytes, 0.6 * ground) : Math.max(budgets.sawToothBytes, budgets.firstToothFactor * ground);
}

/**
 * Growth that stopped: something filled up (a bounded cache) or V8 finished warming up. Only when the second
 * half was long enough to have shown half the first half's pace is "stopped" a finding.
 */
function levelsOff(fit: Fit, budgets: Budgets): Trend | null {
  const { early, late, span } = paces(fit);
  const half = fit.measured.length >> 1;
  const top = median(fit.measured.slice(half).map((p) => p.bytes));
  const pace = Math.max(early, (top - fit.baseline) / Math.max(1, fit.measured[half].requests - fit.x0));
  const resolvable = 0.5 * pace * (span / 2) > fit.significant && span / 2 >= budgets.minPlateauRequests;
  if (!(late < 0.25 * pace && resolvable)) return null;
  const reached = fit.measured.find((p) => p.bytes >= fit.baseline + 0.9 * (top - fit.baseline)) ?? fit.measured[half];
  return trendOf(fit, 'levels off', { bytes: Math.max(0, top - fit.baseline), requests: reached.requests });
}

/**
 * A rise the warm-up cut took in, reported as what it was: a cache that filled and stopped. Warm-up is
 * measured from where a V8 server has settled in any case (a quarter of the run, 20,000 requests at least);
 * memory that rose well beyond that and then stayed flat filled something up. For the report only: the
 * verdict is the same as for a flat series.
 */
function levelledInWarmup(floors: Point[], fit: Fit, budgets: Budgets): Trend | null {
  const settledAt = Math.max(Math.ceil(floors.length / 4), floors.findIndex((p) => p.requests >= budgets.minPlateauRequests));
  if (settledAt < 0 || settledAt >= fit.warmupBlocks) return null;
  const from = floors[settledAt].bytes;
  const level = median(floors.slice(fit.warmupBlocks).map((p) => p.bytes));
  const rise = level - from;
  if (rise <= Math.max(fit.significant, budgets.hiddenBytes)) return null;
  const reached = floors.find((p, i) => i >= settledAt && p.bytes >= from + 0.9 * rise) ?? floors[fit.warmupBlocks];
  return trendOf(fit, 'levels off', { bytes: rise, requests: reached.requests });
}

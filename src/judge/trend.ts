// Memory floors in, a trend out: the warm-up cut off (warmup.ts), the Theil-Sen fit of what remains
// (fit.ts), then its shape (shape.ts). Pure: no clock, no I/O, so a recorded series always gives the same
// verdict.
//
// The rule, in plain words: the first part of the run is warm-up and is left out. After it, the lowest
// memory of each block is fitted against the number of requests. The server leaks when that slope is over a
// per-request budget, the growth it predicts over the run is well above the noise, and the second half of
// the run still climbs (a cache that fills up and stops is not a leak).
import { DEFAULT_BUDGETS, fitAfter, tooShort, type Budgets, type Point, type Trend } from './fit.js';
import { warmupEnd } from './warmup.js';
import { shapeOf } from './shape.js';

export { DEFAULT_BUDGETS, fallsOf, type Budgets, type Point, type Trend } from './fit.js';

/** The trend of a series of floors: warm-up cut, fit, shape. */
export function memoryTrend(floors: Point[], budgets: Budgets = DEFAULT_BUDGETS): Trend {
  const cut = warmupEnd(floors, budgets);
  const fit = fitAfter(floors, cut.blocks, budgets);
  if (!fit) return tooShort(floors, cut.blocks, budgets);
  return shapeOf(floors, fit, cut.settled, budgets);
}

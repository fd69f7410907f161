// The one pipeline from a finished load to its verdict, for the memory and cache tests alike: the trend of
// each memory signal in, the signal that decides chosen (signal.ts), the run judged in order (run.ts: an
// interrupted, crashed or hung run first, then the test's own rule on the trend), told which signal showed
// the growth, and the handle counts' verdict added (handles.ts). Pure: what was measured in, the verdict out.
// The tests differ only in their trend type and their rule.
import { chooseSignal, withSignal, type Signal } from './signal.js';
import { judgeRun, type Judged, type RunFacts, type Verdict } from './run.js';
import { withHandles, type HandlesJudged } from './handles.js';
import type { Trend } from './trend.js';

/** What a test judges a trend of type T by. */
export interface Rule<T> {
  /** The series the run's order of checks reads (the cache test's: the flood's). */
  main(trend: T): Trend;
  /** The test's own rule on the trend of the deciding signal. */
  decide(trend: T): Verdict;
  /** What the rule says whatever the trend, given in place of "too short" (a cache never reached). */
  untrended?: Verdict | null;
}

export interface Evidence<T> {
  /** The trend of the process tree's memory; null when the load ended before it had one. */
  process: T | null;
  /** The trend of the JavaScript heap after forced GCs: undefined when the heap was not watched, null when it has none. */
  heap?: T | null;
}

export interface Concluded<T> {
  judged: Judged;
  /** The trend the verdict was decided on. */
  deciding: T | null;
  /** Which signal decided, when the heap was watched. */
  decidedBy?: Signal;
}

export function conclude<T>(facts: RunFacts, evidence: Evidence<T>, rule: Rule<T>, handles: HandlesJudged | null, exited: boolean): Concluded<T> {
  const { process, heap } = evidence;
  const heapMain = heap ? rule.main(heap) : null;
  const chosen = process && heap !== undefined ? chooseSignal(rule.main(process), heapMain) : null;
  const deciding = chosen && heap && chosen.trend === heapMain ? heap : process;
  const judged = judgeRun(facts, deciding ? rule.main(deciding) : null, () => rule.decide(deciding!), rule.untrended ?? null);
  const told = chosen ? withSignal(judged, chosen.decidedBy, heapMain, exited) : judged;
  return { judged: withHandles(told, handles), deciding, ...(chosen ? { decidedBy: chosen.decidedBy } : {}) };
}

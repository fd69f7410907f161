// The one pipeline from a finished load to its verdict, for the memory and cache tests alike: the trend of
// each kind of memory evidence in, the one that decides chosen (evidence.ts), the run judged in order
// (run.ts: an interrupted, crashed or hung run first, then the test's own rule on the trend), told which showed
// the growth, and the handle counts' verdict added (handles.ts). Pure: what was measured in, the verdict out.
// The tests differ only in their trend type and their rule.
import { chooseEvidence, withEvidence, type EvidenceName } from './evidence.js';
import { judgeRun, type Judged, type RunFacts, type Verdict } from './run.js';
import { withHandles, type HandlesJudged } from './handles.js';
import type { Trend } from './trend.js';
import type { LeakTarget } from './stopping.js';

/** What a test judges a trend of type T by. */
export interface Rule<T> {
  /** The series the run's order of checks reads (the cache test's: the flood's). */
  main(trend: T): Trend;
  /** The test's own rule on the trend of the deciding evidence. */
  decide(trend: T): Verdict;
  /** What a PASS must rule out, per request (per key). */
  target: LeakTarget;
  /** What the rule says whatever the trend, given in place of "too short" (a cache never reached). */
  untrended?: Verdict | null;
}

export interface Trends<T> {
  /** The trend of the process tree's memory; null when the load ended before it had one. */
  process: T | null;
  /** The trend of the JavaScript heap after forced GCs: undefined when the heap was not watched, null when it has none. */
  heap?: T | null;
}

export interface Concluded<T> {
  judged: Judged;
  /** The trend the verdict was decided on. */
  deciding: T | null;
  /** Which evidence decided, when the heap was watched. */
  decidedBy?: EvidenceName;
}

export function conclude<T>(facts: RunFacts, trends: Trends<T>, rule: Rule<T>, handles: HandlesJudged | null, exited: boolean): Concluded<T> {
  const { process, heap } = trends;
  const heapMain = heap ? rule.main(heap) : null;
  const chosen = process && heap !== undefined ? chooseEvidence(rule.main(process), heapMain, rule.target) : null;
  const deciding = chosen && heap && chosen.trend === heapMain ? heap : process;
  const judged = judgeRun(facts, deciding ? rule.main(deciding) : null, () => rule.decide(deciding!), rule.untrended ?? null);
  const told = chosen ? withEvidence(judged, chosen.decidedBy, heapMain, exited) : judged;
  return { judged: withHandles(told, handles), deciding, ...(chosen ? { decidedBy: chosen.decidedBy } : {}) };
}

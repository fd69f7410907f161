// When a run without a set length may stop: after every block the floors so far are judged, and the run
// stops once the same answer came several looks in a row. Looking after every block looks at the data many
// times, and each look is a chance of a false FAIL on a saw-tooth caught mid-climb; the answer must hold on
// LOOKS consecutive looks and over a fifth more requests (a single look can flip on one floor; a real leak
// or a real plateau holds). Shown on the recorded clean and garbage series in test/stopping.test.ts: no
// prefix of them stops with a FAIL.
import type { Trend } from './trend.js';

/** What a PASS must rule out. */
export interface LeakTarget {
  /** The smallest leak per request that matters (--leak-size; default 1 KB). */
  bytesPerRequest: number;
  /** With session churn: the smallest leak per session that matters (16 KB). */
  bytesPerSession?: number;
  requestsPerSession?: number;
  /**
   * With the client mix: the smallest leak per event of each behaviour that matters, and how often the
   * behaviour happened per request; a PASS must rule out each, as growth per request.
   */
  perEvent?: { unit: string; bytes: number; perRequest: number }[];
}

export type Decision = 'pass' | 'fail' | null;

/** Consecutive looks that must agree before a run stops. */
export const LOOKS = 3;

/** Whether the trend rules out every leak of the target's size, per request and per session. */
export function rulesOut(trend: Trend, target: LeakTarget): boolean {
  const perRequest = trend.ruledOutBytesPerRequest;
  if (!(perRequest <= target.bytesPerRequest)) return false;
  if (target.perEvent?.some((e) => perRequest > e.bytes * e.perRequest)) return false;
  return !(target.bytesPerSession && target.requestsPerSession) || perRequest * target.requestsPerSession <= target.bytesPerSession;
}

/** What one look says: a leak established, every leak of the target's size ruled out, or neither yet. */
export function lookAt(trend: Trend, target: LeakTarget): Decision {
  if (trend.shape === 'rising') return 'fail';
  if ((trend.shape === 'flat' || trend.shape === 'levels off') && rulesOut(trend, target)) return 'pass';
  return null;
}

/**
 * Once the same answer has held long enough, it stands: give this each look's decision in turn, with the
 * requests done so far. A decision stands when it has come on `looks` looks since the opposite answer was
 * last seen, over a fifth more requests than when it first came, and the latest look says it too. Looks
 * that decide nothing (a leak's flat step, a plateau's last climb) neither count nor break the streak; the
 * opposite answer starts it again. Looks half a second apart see nearly the same floors, so a count of
 * looks alone would add little: more data must agree. The only state is the streak.
 */
export function streak(looks = LOOKS, growth = 1.2): (d: Decision, requests: number) => Decision {
  let held: Decision = null;
  let count = 0;
  let since = 0;
  return (d, requests) => {
    if (d === null) return null;
    if (d !== held) {
      held = d;
      count = 0;
      since = requests;
    }
    count++;
    return count >= looks && requests >= since * growth ? d : null;
  };
}

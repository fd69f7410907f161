// The look after each block of a memory or cache run: the floors so far judged, what they rule out (for
// the progress line), and, in a run that lasts until decided, whether the same answer has held long enough
// to stop (judge/stopping.ts). A handle leak established decides a look too.
import type { Floor } from '../load/closedloop.js';
import type { Point } from '../judge/trend.js';
import { streak, type Decision } from '../judge/stopping.js';
import { judgeHandles, type HandlePoint } from '../judge/handles.js';
import { formatBytes } from '../format.js';

/** The floors as the memory rule reads them. */
export const pointsOf = (floors: Floor[]): Point[] => floors.map((f) => ({ requests: f.requests, bytes: f.bytes, seconds: f.seconds }));

/**
 * The look for HammerOptions.look: judge the floors, and stop once the same decision has held (and `ready`
 * allows it: --heap has what it needs). per: what the ruled-out size is counted in (request, key).
 */
export function looker(open: boolean, judge: (floors: Floor[]) => { decision: Decision; ruledOut: number }, per = 'request',
  ready: (decision: Decision, floors: Floor[]) => boolean = () => true): (floors: Floor[]) => { stop: boolean; note?: string } {
  const agreed = streak();
  return (floors) => {
    const { decision, ruledOut } = judge(floors);
    const held = agreed(decision, floors.at(-1)?.requests ?? 0);
    const stop = held !== null && open && ready(held, floors);
    return { stop, note: Number.isFinite(ruledOut) ? `rules out >= ${formatBytes(ruledOut)}/${per}` : undefined };
  };
}

/**
 * One look's decision with the handles counted at the floors: a handle leak established is a FAIL, and
 * no PASS while a count is still warming up or climbing.
 */
export function withHandleLook(decision: Decision, floors: Floor[]): Decision {
  const series = floors.flatMap((f): HandlePoint[] => (f.handles ? [[f.requests, f.handles]] : []));
  if (!series.length) return decision;
  const h = judgeHandles(series);
  if (h.leaking) return 'fail';
  return decision === 'pass' && (h.warmingUp || h.growing) ? null : decision;
}

// After a leak is established under a client mix: the calls alone, then each behaviour alone, to say which
// leaves memory behind and how much per call or event. First a quiet stretch (calls on the long-lived
// sessions only) and a longer one of calls alone, whose growth is what a call keeps. Then for each
// behaviour a burst of it at a high rate, followed by a quiet stretch long enough for the server to free
// what it holds only for a while (abandoned sessions it frees after an idle time); each quiet stretch is
// the start of the next burst. What is still held at the end, less what its calls keep, is what the
// behaviour left behind. A burst tells far more than the varied mix of the run, whose attribution
// (judge/attribute.ts) orders the suspects. The phases end by a deadline; behaviours not reached are said.
import { hammer, type Floor, type HammerOptions } from '../load/closedloop.js';
import type { Connection } from '../transport/connection.js';
import { POLITE, type Mix } from '../clients/mix.js';
import { median } from '../judge/stats.js';
import type { Call } from '../requests/calls.js';
import { BEHAVIOURS } from './clients.js';

/** What trying one behaviour alone found. */
export interface PhaseFinding {
  name: string;
  unit: string;
  events: number;
  /** Memory still held after the quiet stretch, less what the calls keep. */
  keptBytes: number;
  bytesPerEvent: number;
  /** The scatter of the memory readings at either end, divided by the events. */
  stderr: number;
  /** Over three standard errors and over 1 KB per event (per call: the leak size): it leaves memory behind. */
  leaks: boolean;
  /** Not tried: why (the deadline came first). */
  skipped?: string;
}

/** The finding that is the calls alone: what each call keeps, with no behaviour around it. */
export const CALLS = 'calls';

/** The mix of a burst: nothing but one behaviour, at a rate that gives many events in a few seconds. */
const BURSTS: Record<string, Partial<Mix>> = {
  abandoned: { churn: 100, abandon: 100 },
  deleted: { churn: 100, abandon: 0 },
  dropped: { drop: 100 },
  cancelled: { cancel: 20 },
  hungUp: { hangup: 20 },
  refused: { refused: 20 },
};

/** A burst lasts until it has made this many events, at least BURST_SECONDS and at most MAX_BURST_SECONDS. */
const BURST_EVENTS = 1000;
/** The calls alone last until this many calls: about as many as a burst makes around its events. */
const CONTROL_CALLS = 5000;
const BURST_SECONDS = 5;
const MAX_BURST_SECONDS = 20;
/** The fewest floors a stretch has: enough for its scatter about a straight line. */
const LEVEL_FLOORS = 3;

export interface PhaseOptions {
  conn: Connection;
  base: Mix;
  calls: Call[];
  next: () => Call;
  counts: () => number[];
  /** The behaviours the run exercised, by name (BEHAVIOURS), most suspect first. */
  suspects: string[];
  /** How long the server holds an abandoned session before it frees it, when known. */
  idleSeconds?: number;
  /** The least growth per request ever called a leak (the budget): calls alone keeping more leak. */
  leastPerCall: number;
  /** performance.now() by which the phases end: a behaviour whose phase would end later is not tried. */
  deadline: number;
  /** The closed loop's settings for a phase: connection, concurrency, timeouts, floors with the heap after GC. */
  loop: Omit<HammerOptions, 'callFor' | 'maxSeconds' | 'maxRequests' | 'look' | 'counts' | 'nextBlock' | 'onProgress'>;
  /** The memory a floor is read in: the heap after GC where there is one. */
  bytesOf: (f: Floor) => number;
}

export async function tryEachBehaviour(o: PhaseOptions): Promise<PhaseFinding[]> {
  const quietSeconds = Math.max(2, (o.idleSeconds ?? 0) + 1.5);
  const quiet: Mix = { ...POLITE, sessions: o.base.sessions, length: o.base.length };
  const findings: PhaseFinding[] = [];
  const started = performance.now();
  try {
    const start = await stretch(o, quiet, quietSeconds);
    const control = start && await stretch(o, quiet, BURST_SECONDS, (counts) => callsIn(o, counts) - start.requests >= CONTROL_CALLS);
    if (!start || !control) return findings;
    const calls = control.requests - start.requests;
    findings.push(finding(CALLS, 'calls', calls, control.level - start.level, start, control, o.leastPerCall));
    const perCall = Math.max(0, findings[0].bytesPerEvent);
    let level = control;
    for (const name of o.suspects) {
      const index = o.calls.length + BEHAVIOURS.findIndex(([k]) => k === name);
      const unit = BEHAVIOURS.find(([k]) => k === name)?.[1];
      if (!BURSTS[name] || !unit) continue;
      const tried = findings.length - 1;
      const perPhase = tried ? (performance.now() - started) / (tried + 1) : (MAX_BURST_SECONDS + quietSeconds) * 1000;
      if (performance.now() + perPhase > o.deadline) {
        findings.push({ name, unit, events: 0, keptBytes: 0, bytesPerEvent: 0, stderr: 0, leaks: false, skipped: 'out of time' });
        continue;
      }
      const from = level;
      const during = await stretch(o, { ...quiet, ...BURSTS[name] }, BURST_SECONDS, (counts) => (counts[index] ?? 0) - (from.counts[index] ?? 0) >= BURST_EVENTS);
      const after = during && await stretch(o, quiet, quietSeconds);
      if (!during || !after) break;
      const events = (after.counts[index] ?? 0) - (from.counts[index] ?? 0);
      findings.push(finding(name, unit, events, after.level - from.level - perCall * (after.requests - from.requests), from, after, 1024));
      level = after;
    }
  } finally {
    o.conn.fixMix?.(null);
  }
  return findings;
}

type Level = NonNullable<Awaited<ReturnType<typeof stretch>>>;

/** What a phase found: memory kept from one level to the next, per event; leaking when over `least` and three standard errors. */
function finding(name: string, unit: string, events: number, kept: number, from: Level, to: Level, least: number): PhaseFinding {
  const perEvent = events > 0 ? kept / events : 0;
  const stderr = events > 0 ? Math.hypot(from.scatter, to.scatter) / events : Infinity;
  return { name, unit, events, keptBytes: kept, bytesPerEvent: perEvent, stderr, leaks: perEvent > least && perEvent > 3 * stderr };
}

const callsIn = (o: PhaseOptions, counts: number[]) => counts.slice(0, o.calls.length).reduce((a, b) => a + b, 0);

/**
 * One stretch of load at a fixed mix, at least `seconds` long and LEVEL_FLOORS floors, longer until `enough`
 * says so (up to MAX_BURST_SECONDS): the level of memory at its end, and the counts then. Null when the run
 * was cut short (the server exited, the user interrupted).
 */
async function stretch(o: PhaseOptions, mix: Mix, seconds: number, enough: (counts: number[]) => boolean = () => true) {
  o.conn.fixMix?.(mix);
  const run = await hammer({
    ...o.loop, callFor: o.next, counts: o.counts, maxSeconds: Math.max(seconds, MAX_BURST_SECONDS),
    look: (floors) => ({ stop: floors.length >= LEVEL_FLOORS && floors.at(-1)!.seconds >= seconds && enough(floors.at(-1)!.counts ?? []) }),
  });
  if ((run.stopReason !== 'decided' && run.stopReason !== 'duration') || run.floors.length < LEVEL_FLOORS) return null;
  const values = run.floors.map(o.bytesOf);
  // The level is the last floor; the scatter, that of the floors about a straight line (the median second
  // difference), so that a stretch whose memory rises steadily (a leak) is not taken for a noisy one.
  const bends = values.slice(2).map((v, k) => Math.abs(v - 2 * values[k + 1] + values[k]));
  return {
    level: values.at(-1)!,
    scatter: median(bends),
    counts: run.floors.at(-1)!.counts ?? [],
    requests: callsIn(o, run.floors.at(-1)!.counts ?? []),
  };
}

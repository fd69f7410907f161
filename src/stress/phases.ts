// After a leak is established under a client mix: each behaviour tried alone, to say which one leaves memory
// behind and how much per event. A behaviour's phase is a quiet stretch (calls on the long-lived sessions
// only), a burst of that behaviour at a high rate, and another quiet stretch long enough for the server to
// free what it holds only for a while (abandoned sessions it frees after an idle time): what is still held
// at the end, less what the calls themselves keep, is what the behaviour left behind. A burst tells far
// more than the varied mix of the run, whose attribution (judge/attribute.ts) orders the suspects.
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
  /** Over three standard errors and over 1 KB per event: this behaviour leaves memory behind. */
  leaks: boolean;
}

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
const BURST_SECONDS = 5;
const MAX_BURST_SECONDS = 20;
/** Readings at either end of a phase, whose median is the level. */
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
  /** Memory kept per call, from the run's attribution, taken off every phase. */
  bytesPerCall: number;
  /** The closed loop's settings for a phase: connection, concurrency, timeouts, floors with the heap after GC. */
  loop: Omit<HammerOptions, 'callFor' | 'maxSeconds' | 'maxRequests' | 'look' | 'counts' | 'nextBlock' | 'onProgress'>;
  /** The memory a floor is read in: the heap after GC where there is one. */
  bytesOf: (f: Floor) => number;
}

export async function tryEachBehaviour(o: PhaseOptions): Promise<PhaseFinding[]> {
  const quietSeconds = Math.max(2, (o.idleSeconds ?? 0) + 1.5);
  const quiet: Mix = { ...POLITE, sessions: o.base.sessions, length: o.base.length };
  const findings: PhaseFinding[] = [];
  try {
    for (const name of o.suspects) {
      const burst = BURSTS[name];
      const index = o.calls.length + BEHAVIOURS.findIndex(([k]) => k === name);
      if (!burst || index < o.calls.length) continue;
      const before = await stretch(o, quiet, quietSeconds);
      if (!before) break;
      const during = await stretch(o, { ...quiet, ...burst }, BURST_SECONDS, (counts) => (counts[index] ?? 0) - (before.counts[index] ?? 0) >= BURST_EVENTS);
      const after = during && await stretch(o, quiet, quietSeconds);
      if (!before || !during || !after) break;
      const events = (during.counts[index] ?? 0) - (before.counts[index] ?? 0);
      const requests = after.requests - before.requests;
      const kept = after.level - before.level - o.bytesPerCall * requests;
      const perEvent = events > 0 ? kept / events : 0;
      const stderr = events > 0 ? Math.hypot(before.scatter, after.scatter) / events : Infinity;
      const unit = BEHAVIOURS.find(([k]) => k === name)![1];
      findings.push({ name, unit, events, keptBytes: kept, bytesPerEvent: perEvent, stderr, leaks: perEvent > 1024 && perEvent > 3 * stderr });
    }
  } finally {
    o.conn.fixMix?.(null);
  }
  return findings;
}

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
  const last = run.floors.slice(-LEVEL_FLOORS).map(o.bytesOf);
  const level = median(last);
  return {
    level,
    scatter: Math.max(...last) - Math.min(...last),
    counts: run.floors.at(-1)!.counts ?? [],
    requests: run.floors.at(-1)!.counts?.slice(0, o.calls.length).reduce((a, b) => a + b, 0) ?? 0,
  };
}

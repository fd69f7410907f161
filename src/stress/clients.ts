// The memory test's client mix around the load: the mix turned on in the transport, the calls dealt from a
// deck whose proportions change every block, what the load did counted at every floor, and after the run
// the growth attributed to the calls and behaviours (judge/attribute.ts), written into `clients`.
import type { Connection } from '../transport/connection.js';
import type { HttpConnection } from '../transport/http.js';
import type { Floor } from '../load/closedloop.js';
import { Deck } from '../requests/deck.js';
import { callName, type Call } from '../requests/calls.js';
import { describeMix, POLITE, type Mix } from '../clients/mix.js';
import { attribute, attributionSentence, type Attribution, type FactorInput } from '../judge/attribute.js';
import { memoryTrend, type Budgets, type Point, type Trend } from '../judge/trend.js';
import { chooseEvidence, heapPoints, heapTrend } from '../judge/evidence.js';
import { sessionBounds, type SessionBounds } from '../judge/reclaim.js';
import type { LeakTarget } from '../judge/stopping.js';
import type { Verdict } from '../judge/run.js';
import { formatBytes, formatDuration } from '../format.js';
import { pointsOf } from './look.js';
import type { ClientsSection } from '../results.js';

/** The client behaviours counted for attribution, in the order of a floor's counts after the calls. */
const BEHAVIOURS = [
  ['abandoned', 'abandoned sessions'], ['deleted', 'sessions ended with DELETE'], ['dropped', 'dropped GET streams'],
  ['cancelled', 'cancelled calls'], ['hungUp', 'requests hung up on'], ['refused', 'refused requests'],
] as const;

export interface ClientLoad {
  deck: Deck;
  mix: Mix;
  /** For HammerOptions: what the load did so far, and the next block's proportions. */
  counts: () => number[];
  nextBlock: () => void;
}

/** Turn the mix on (a polite mix changes nothing but the deck), and deal the calls from a deck. */
export function clientLoad(conn: Connection, calls: Call[], mix: Mix): ClientLoad {
  const polite = describeMix(mix) === describeMix(POLITE);
  if (!polite) conn.mix?.(mix);
  const deck = new Deck(calls);
  return {
    deck, mix,
    counts: () => {
      const events = conn.events;
      return [...deck.counts, ...BEHAVIOURS.map(([key]) => events?.[key] ?? 0)];
    },
    nextBlock: () => {
      conn.nextBlock?.();
      deck.vary();
    },
  };
}

/** The factors the growth may come from, with their counts at each floor; behaviours that never happened left out. */
export function factorsOf(floors: Floor[], calls: Call[]): FactorInput[] {
  const at = (i: number) => floors.map((f) => f.counts?.[i] ?? 0);
  const inputs: FactorInput[] = calls.length > 1
    ? calls.map((c, i) => ({ name: callName(c), kind: 'call', unit: `calls to ${callName(c)}`, counts: at(i) }))
    : [];
  BEHAVIOURS.forEach(([key, unit], j) => inputs.push({ name: key, kind: 'behaviour', unit, counts: at(calls.length + j) }));
  return inputs.filter((f) => f.counts.at(-1)! > 0);
}

/** The attribution on the trend that decided, from its own points (the heap after GC, or the process memory). */
export function attributeOn(points: Point[], trend: Trend, factors: FactorInput[]): Attribution | null {
  if (!factors.length || trend.shape === 'too short') return null;
  return attribute(points, factors, trend.warmupBlocks, trend.significant);
}

/** The `clients` section of the results. */
export function clientsSection(load: ClientLoad, conn: Connection, floors: Floor[], attribution: Attribution | null, evidence: string): ClientsSection | undefined {
  const events = conn.events;
  if (!events) return undefined;
  const http = conn as HttpConnection;
  const names = [...load.deck.calls.map(callName), ...BEHAVIOURS.map(([key]) => key)];
  return {
    mix: describeMix(load.mix),
    events: { ...events },
    ...(conn.stats.answeredAfterCancel ? { answeredAfterCancel: conn.stats.answeredAfterCancel } : {}),
    ...(http.getStream ? { getStream: http.getStream() } : {}),
    ...(http.refusals ? { refusals: http.refusals() } : {}),
    ...(http.reclaim ? { reclaim: roundAges(http.reclaim()) } : {}),
    ...(attribution ? {
      attribution: {
        evidence, blocks: attribution.blocks, growth: Math.round(attribution.growth), explained: Math.round(attribution.explained * 100) / 100,
        factors: attribution.factors.map((f) => ({ ...f, bytesPerEvent: Math.round(f.bytesPerEvent), stderr: Math.round(f.stderr), bytes: Math.round(f.bytes) })),
      },
    } : {}),
    counts: { names, floors: floors.map((f) => [f.requests, ...(f.counts ?? [])]) },
  };
}

const roundAges = <R extends { youngestFreedSeconds?: number; oldestHeldSeconds?: number }>(r: R): R => ({
  ...r,
  ...(r.youngestFreedSeconds !== undefined ? { youngestFreedSeconds: Math.round(r.youngestFreedSeconds * 10) / 10 } : {}),
  ...(r.oldestHeldSeconds !== undefined ? { oldestHeldSeconds: Math.round(r.oldestHeldSeconds * 10) / 10 } : {}),
});

/** The attribution on the floors so far, on the evidence a look chooses. */
export function attributeFloors(floors: Floor[], calls: Call[], budgets: Budgets, target: LeakTarget, watched: boolean): Attribution | null | 'nothing' {
  const factors = factorsOf(floors, calls);
  if (factors.length < 2) return 'nothing';
  const process = memoryTrend(pointsOf(floors), budgets);
  const heap = watched ? heapTrend(heapPoints(floors)) : null;
  const { trend } = chooseEvidence(process, heap, target);
  return attributeOn(trend === heap ? heapPoints(floors) : pointsOf(floors), trend, factors);
}

/**
 * Whether a FAIL may stop: a call or behaviour established that explains at least half of the growth, or
 * nothing to attribute (one call, a polite client), or the attribution given as long again as the FAIL took
 * to come: a leak is established whatever the attribution says.
 */
export function attributionReady(attributed: (floors: Floor[]) => Attribution | null | 'nothing'): (floors: Floor[]) => boolean {
  let failedAt: number | undefined;
  return (floors) => {
    const seconds = floors.at(-1)?.seconds ?? 0;
    failedAt ??= seconds;
    if (seconds >= 2 * failedAt) return true;
    const a = attributed(floors);
    if (a === 'nothing') return true;
    // Too few blocks after warm-up to attribute yet: wait for them.
    if (!a) return false;
    return a.factors.filter((f) => f.established).reduce((s, f) => s + f.bytes, 0) >= 0.5 * a.growth;
  };
}

/** What the server showed of freeing abandoned sessions (and the user declared), for judge/reclaim.ts; null without a mix. */
export function sessionBoundsOf(conn: Connection, declaredSeconds: number | undefined): SessionBounds | null {
  const r = (conn as HttpConnection).reclaim?.();
  if (!r) return declaredSeconds === undefined ? null : { freed: 0, held: 0, declaredSeconds };
  return { ...r, ...(declaredSeconds !== undefined ? { declaredSeconds } : {}) };
}

/**
 * A FAIL told what explains the growth (its own reason); a FAIL explained by abandoned sessions that the
 * server frees, caps, or is declared to free, a PASS saying so; one that it does not free, told what to do.
 */
export function withAttribution(v: Verdict, a: Attribution | null, bounds: SessionBounds | null): Verdict {
  if (v.pass || v.undecided || !a) return v;
  const b = bounds ? sessionBounds(a, bounds, formatBytes, formatDuration) : { bounded: false };
  const explained = attributionSentence(a, formatBytes);
  if (b.bounded) return { pass: true, reasons: [b.sentence!, ...(explained ? [explained.replace(/^explained by [^;]*(; )?/, '')].filter(Boolean) : [])] };
  return { ...v, reasons: [v.reasons[0], ...(explained ? [explained] : []), ...(b.sentence ? [b.sentence] : []), ...v.reasons.slice(1)] };
}

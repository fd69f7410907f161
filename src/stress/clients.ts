// The memory test's client mix around the load: the mix turned on in the transport, the calls dealt from a
// deck whose proportions change every block, what the load did counted at every floor, and after the run
// the growth attributed to the calls and behaviours (judge/attribute.ts), written into `clients`.
import type { Connection } from '../transport/connection.js';
import type { HttpConnection } from '../transport/http.js';
import { bothEras, type BothEras } from '../transport/botheras.js';
import { LEGACY_UNTESTED } from '../server/negotiate.js';
import type { Target } from '../server/open.js';
import type { Floor } from '../load/closedloop.js';
import { Deck } from '../requests/deck.js';
import { callName, type Call } from '../requests/calls.js';
import { describeMix, POLITE, type Mix } from '../clients/mix.js';
import type { Attribution, FactorInput } from '../judge/attribute.js';
import type { ClientsSection } from '../results.js';

/** The client behaviours counted for attribution, in the order of a floor's counts after the calls. */
export const BEHAVIOURS = [
  ['abandoned', 'abandoned sessions'], ['deleted', 'sessions ended with DELETE'], ['dropped', 'dropped event streams'],
  ['cancelled', 'cancelled calls'], ['hungUp', 'requests hung up on'], ['refused', 'refused requests'],
] as const;

export interface ClientLoad {
  deck: Deck;
  mix: Mix;
  /** For HammerOptions: what the load did so far, and the next block's proportions. */
  counts: () => number[];
  nextBlock: () => void;
}

/**
 * A 2026-07-28 run on a server that serves 2025-era session clients too: with a client mix, half the calls
 * come from session clients of that era (transport/botheras.ts), as while clients move over; the warning
 * that the 2025 path went untested goes. True when it did.
 */
export async function withLegacyClients(target: Target, opts: { clients: Mix }, warnings: string[]): Promise<boolean> {
  if (!target.alsoLegacy || describeMix(opts.clients) === describeMix(POLITE)) return false;
  target.conn = bothEras(target.conn as HttpConnection, (await target.alsoLegacy()) as HttpConnection);
  const untested = warnings.indexOf(LEGACY_UNTESTED);
  if (untested >= 0) warnings.splice(untested, 1);
  return true;
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

/**
 * The factors the growth may come from, with their counts at each floor; behaviours that never happened left
 * out. idleSeconds: how long the server holds an abandoned session before it frees it, when asking about
 * them again has told; the sessions held at each floor are then a factor of their own (its count goes down
 * as well as up), so that memory they hold for a while is not taken for memory kept for good.
 */
export function factorsOf(floors: Floor[], calls: Call[], idleSeconds?: number): FactorInput[] {
  const at = (i: number) => floors.map((f) => f.counts?.[i] ?? 0);
  const inputs: FactorInput[] = calls.map((c, i) => ({ name: callName(c), kind: 'call', unit: `calls to ${callName(c)}`, counts: at(i) }));
  BEHAVIOURS.forEach(([key, unit], j) => inputs.push({ name: key, kind: 'behaviour', unit, counts: at(calls.length + j) }));
  if (idleSeconds !== undefined) {
    const abandoned = at(calls.length);
    inputs.push({ name: 'held', kind: 'held', unit: 'abandoned sessions still held', counts: heldAt(floors, abandoned, idleSeconds) });
  }
  return inputs.filter((f) => f.counts.some((c) => c > 0));
}

/** Abandoned sessions left within the last idleSeconds at each floor: the cumulative count then, less idleSeconds before. */
function heldAt(floors: Floor[], abandoned: number[], idleSeconds: number): number[] {
  return floors.map((f, k) => {
    const since = f.seconds - idleSeconds;
    let j = k;
    while (j > 0 && floors[j - 1].seconds > since) j--;
    // Interpolated between the floors on either side of that moment.
    const before = j > 0 ? floors[j - 1] : undefined;
    const then = before && floors[j].seconds > before.seconds
      ? abandoned[j - 1] + (abandoned[j] - abandoned[j - 1]) * (since - before.seconds) / (floors[j].seconds - before.seconds)
      : (j === 0 && since < floors[0].seconds ? 0 : abandoned[j]);
    return abandoned[k] - then;
  });
}

/** The `clients` section of the results. */
export function clientsSection(load: ClientLoad, conn: Connection, floors: Floor[], attribution: Attribution | null, evidence: string,
  declaredSeconds?: number): ClientsSection | undefined {
  const events = conn.events;
  if (!events) return undefined;
  const http = conn as HttpConnection;
  const names = [...load.deck.calls.map(callName), ...BEHAVIOURS.map(([key]) => key)];
  return {
    mix: describeMix(load.mix),
    events: { ...events },
    ...(conn.stats.answeredAfterCancel ? { answeredAfterCancel: conn.stats.answeredAfterCancel } : {}),
    ...(http.getStream ? { getStream: http.getStream() } : {}),
    ...(http.streamKind ? { streamKind: http.streamKind() } : {}),
    ...('eras' in http ? { eras: (http as BothEras).eras() } : {}),
    ...(http.refusals ? { refusals: http.refusals() } : {}),
    ...(http.reclaim ? { reclaim: roundAges(http.reclaim()) } : {}),
    ...(declaredSeconds !== undefined ? { declaredSessionTimeoutSeconds: declaredSeconds } : {}),
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


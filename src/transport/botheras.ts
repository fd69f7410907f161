// Both eras at once, as a server that serves both meets its clients while they move over: the client mix's
// calls split between a 2026-07-28 connection (stateless.ts) and a 2025-era one with sessions
// (streamable.ts), each acting as the mix's clients of its era. What the clients did is counted together
// for the verdict, and each era's part is kept for the report.
import type { Done } from './connection.js';
import type { HttpConnection } from './http.js';
import { newEvents, type ClientEvents, type Mix } from '../clients/mix.js';

/** % of the calls made by 2025-era session clients, the rest by 2026-07-28 ones. */
export const LEGACY_SHARE = 50;

export interface BothEras extends HttpConnection {
  /** What each era's clients did, counted from the start, and the statuses their refused requests got. */
  eras(): { era: 'legacy' | 'modern'; events: ClientEvents; refusals: Record<string, Record<string, number>> }[];
}

export function bothEras(modern: HttpConnection, legacy: HttpConnection): BothEras {
  const both = [modern, legacy];
  let acc = 0;
  // The 2025 part's sessions are the run's sessions; the 2026-07-28 part's connections stay its own.
  const stats = Object.assign(modern.stats, legacy.stats.sessions ? { sessions: legacy.stats.sessions } : {});
  const conn: BothEras = {
    send(method: string, paramsJson: string | undefined, done: Done) {
      acc += LEGACY_SHARE;
      if (acc < 100) return modern.send(method, paramsJson, done);
      acc -= 100;
      legacy.send(method, paramsJson, done);
    },
    request: (method, paramsJson) => modern.request(method, paramsJson),
    notify: (method, paramsJson) => modern.notify(method, paramsJson),
    inFlight: () => modern.inFlight() + legacy.inFlight(),
    setTimeoutMs: (ms) => both.forEach((c) => c.setTimeoutMs(ms)),
    stats,
    close: () => both.forEach((c) => c.close()),
    mix: (mix: Mix) => both.forEach((c) => c.mix?.(mix)),
    get events() {
      if (!modern.events && !legacy.events) return undefined;
      return sum(modern.events, legacy.events);
    },
    nextBlock: () => both.forEach((c) => c.nextBlock?.()),
    fixMix: (mix) => both.forEach((c) => c.fixMix?.(mix)),
    settle: async () => {
      await Promise.all(both.map((c) => c.settle?.()));
    },
    refusals: () => ({ ...modern.refusals?.(), ...legacy.refusals?.() }),
    // The 2025 part's GET stream and abandoned sessions: the 2026-07-28 part has neither.
    getStream: () => legacy.getStream?.() ?? 'unknown',
    reclaim: () => legacy.reclaim?.() ?? { probes: 0, freed: 0, held: 0 },
    problem: () => modern.problem() ?? legacy.problem(),
    end: async () => {
      await Promise.all(both.map((c) => c.end()));
    },
    eras: () => ([['legacy', legacy], ['modern', modern]] as const).map(([era, c]) => ({ era, events: { ...newEvents(), ...c.events }, refusals: c.refusals?.() ?? {} })),
  };
  return conn;
}

function sum(a: ClientEvents | undefined, b: ClientEvents | undefined): ClientEvents {
  const e = newEvents();
  for (const key of Object.keys(e) as (keyof ClientEvents)[]) e[key] = (a?.[key] ?? 0) + (b?.[key] ?? 0);
  return e;
}

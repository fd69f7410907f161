// Whether memory held for abandoned sessions is bounded: the server frees them after an idle time (an
// abandoned session's id asked about again got 404), caps them (503 for a new one), or the user declared an
// idle timeout too long for the run to wait for (--session-timeout). Growth explained by abandoned sessions
// alone is then no leak; without any of those, it is the leak real clients cause. Pure.
import type { Attribution } from './attribute.js';

export interface SessionBounds {
  /** Abandoned sessions asked about again: freed (404) at the youngest age, still held at the oldest. */
  freed: number;
  youngestFreedSeconds?: number;
  held: number;
  oldestHeldSeconds?: number;
  /** Sessions open when the server refused a new one (503). */
  capAt?: number;
  /** --session-timeout: the idle time after which the user says the server frees a session. */
  declaredSeconds?: number;
}

export interface Bounded {
  /** The growth is explained by abandoned sessions, which are freed, capped or declared freed. */
  bounded: boolean;
  /**
   * Explained by abandoned sessions that are not bounded: 'held' when one was found still held at an age
   * of half the growth's span or more (a leak), 'unknown' while none old enough has been asked about.
   */
  abandoned?: 'held' | 'unknown';
  /** The cost of an abandoned session, when the attribution established it. */
  bytesPerSession?: number;
  /** One sentence: how they are bounded, or why they are a leak. */
  sentence?: string;
}

/** The attribution's established factors are abandoned sessions and nothing else. */
function onlyAbandoned(a: Attribution | null): number | undefined {
  const named = a?.factors.filter((f) => f.established) ?? [];
  return named.length === 1 && named[0].name === 'abandoned' ? named[0].bytesPerEvent : undefined;
}

/**
 * What abandoned sessions mean for a leak explained by them alone. spanSeconds: how long the growth has been
 * measured (after warm-up); a session must be found held at half that age to say they are never freed.
 */
export function sessionBounds(a: Attribution | null, s: SessionBounds, formatBytes: (b: number) => string, seconds: (s: number) => string,
  spanSeconds = 0): Bounded {
  const cost = onlyAbandoned(a);
  if (cost === undefined) return { bounded: false };
  const each = `${formatBytes(cost)} each`;
  if (s.freed > 0) {
    return { bounded: true, bytesPerSession: cost, sentence: `memory grew with abandoned sessions (${each}), which the server frees: one asked about again after ${seconds(s.youngestFreedSeconds ?? 0)} was gone (404)` };
  }
  if (s.capAt !== undefined) {
    return { bounded: true, bytesPerSession: cost, sentence: `memory grew with abandoned sessions (${each}), which the server caps: it refused a new one (503) with ${s.capAt.toLocaleString('en-US')} open, which holds up to ${formatBytes(cost * s.capAt)}` };
  }
  if (s.declaredSeconds !== undefined) {
    return { bounded: true, bytesPerSession: cost, sentence: `memory grew with abandoned sessions (${each}), which the server frees after ${seconds(s.declaredSeconds)} idle as declared with --session-timeout (not verified by this run)` };
  }
  const held = s.held > 0 ? `; one asked about again ${seconds(s.oldestHeldSeconds ?? 0)} after it was left was still held` : '';
  return {
    bounded: false, bytesPerSession: cost, abandoned: (s.oldestHeldSeconds ?? 0) >= Math.max(4, spanSeconds / 2) ? 'held' : 'unknown',
    sentence: `abandoned sessions are not freed (${each})${held}: free a session after an idle timeout and cap their number, or give the timeout the server has with --session-timeout`,
  };
}

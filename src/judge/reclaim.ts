// Whether memory held for abandoned sessions is bounded: the server frees them after an idle time (an
// abandoned session's id asked about again got 404, and the memory they hold is held only that long), caps
// them (503 for a new one), or the user declared an idle timeout too long for the run to wait for
// (--session-timeout). Growth explained by abandoned sessions is then no leak; sessions never freed, or
// freed but leaving memory behind, are the leak real clients cause. Pure.
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

/**
 * What abandoned sessions mean for growth they explain: 'bounded' (held for a while, capped, or declared
 * freed), 'kept' (never freed, or freed leaving memory behind), 'unknown' (not yet known whether the server
 * frees them); null when the growth is not theirs (another call or behaviour, or nothing established).
 */
export type SessionVerdict = { kind: 'bounded' | 'kept' | 'unknown'; sentence: string } | null;

/**
 * spanSeconds: how long the growth has been measured (after warm-up); a session must be found still held at
 * half that age, or at least 4 s, to say they are never freed.
 */
export function sessionVerdict(a: Attribution | null, s: SessionBounds | null, formatBytes: (b: number) => string,
  seconds: (s: number) => string, spanSeconds = 0): SessionVerdict {
  const named = a?.factors.filter((f) => f.established) ?? [];
  if (!s || !named.length || named.some((f) => f.name !== 'abandoned' && f.name !== 'held')) return null;
  const kept = named.find((f) => f.name === 'abandoned');
  const held = named.find((f) => f.name === 'held');
  const each = formatBytes((kept ?? held)!.bytesPerEvent);
  if (s.capAt !== undefined) {
    return { kind: 'bounded', sentence: `memory grew with abandoned sessions (${each} each), which the server caps: it refused a new one (503) with ${s.capAt.toLocaleString('en-US')} open, which hold up to ${formatBytes((kept ?? held)!.bytesPerEvent * s.capAt)}` };
  }
  if (s.declaredSeconds !== undefined) {
    return { kind: 'bounded', sentence: `memory grew with abandoned sessions (${each} each), which the server frees after ${seconds(s.declaredSeconds)} idle as declared with --session-timeout (not verified by this run)` };
  }
  if (!kept && held) {
    return { kind: 'bounded', sentence: `abandoned sessions hold ${each} each until the server frees them, ${seconds(s.youngestFreedSeconds ?? 0)} or less after they are left (${Math.round(held.peak).toLocaleString("en-US")} held at most: ${formatBytes(held.bytesPerEvent * held.peak)})` };
  }
  // Until sessions have been freed for a while, memory held and memory kept cannot be told apart.
  if (s.freed > 0 && spanSeconds < 3 * (s.youngestFreedSeconds ?? 0)) {
    return { kind: 'unknown', sentence: `abandoned sessions cost ${each} each; the server frees them (one asked about again after ${seconds(s.youngestFreedSeconds ?? 0)} was gone), and whether they leave memory behind is not known yet` };
  }
  if (s.freed > 0) {
    return { kind: 'kept', sentence: `abandoned sessions leave ${each} each behind even once the server has freed them (one asked about again after ${seconds(s.youngestFreedSeconds ?? 0)} was gone): the cleanup on that path is incomplete` };
  }
  const oldest = s.oldestHeldSeconds ?? 0;
  if (oldest >= Math.max(4, spanSeconds / 2)) {
    return { kind: 'kept', sentence: `abandoned sessions are never freed (${each} each; one asked about again ${seconds(oldest)} after it was left was still held): free a session after an idle timeout and cap their number, or give the timeout the server has with --session-timeout` };
  }
  return { kind: 'unknown', sentence: `abandoned sessions cost ${each} each; whether the server frees them is not known yet (the oldest asked about again, ${seconds(oldest)} after it was left, was still held)` };
}

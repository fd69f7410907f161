// The lines under the memory lines that say what the client mix did, what asking for abandoned sessions
// again found, and what each call and behaviour cost.
import type { ClientsSection } from '../results.js';
import { count as n, formatBytes, formatDuration } from '../format.js';

export function clientsLines(c: ClientsSection): string[] {
  // A server that serves both eras: what the clients of each did, on a line each.
  const lines = c.eras
    ? c.eras.map(({ era, events, refusals }) => `Clients, ${era === 'legacy' ? '2025 era (sessions)' : '2026-07-28'}: ${
      did(events, { ...c, refusals }, era === 'legacy' ? 'GET' : 'subscriptions/listen', era === 'legacy' ? c.getStream : undefined).join(', ') || 'calls only'}`)
    : [`Clients: ${did(c.events, c, c.streamKind ?? 'GET', c.getStream).join(', ') || 'polite'}`];
  const r = c.reclaim;
  if (r?.capAt !== undefined) lines.push(`Session cap: the server refused a new session (503) with ${n(r.capAt)} open`);
  if (r?.freed) lines.push(`Abandoned sessions: freed by the server (one asked about again after ${formatDuration(r.youngestFreedSeconds ?? 0)} was gone)`);
  else if (r?.held) lines.push(`Abandoned sessions: still held ${formatDuration(r.oldestHeldSeconds ?? 0)} after they were left (asked about again: ${n(r.held)})`);
  const a = c.attribution;
  const cost = (bytes: number, stderr: number) => `${formatBytes(bytes)}${stderr ? ` ±${formatBytes(stderr)}` : ''}`;
  if (c.alone?.length) {
    // What the calls and the behaviours tried alone found says more than the mixed run's fit; the fit still
    // tells which call costs what.
    const costs = c.alone.map((p) => (p.skipped ? `${p.unit} not tried (${p.skipped})` : `${p.unit} ${cost(p.bytesPerEvent, p.stderr)}${p.leaks ? ' (leaks)' : ''}`));
    const calls = (a?.factors ?? []).filter((f) => f.kind === 'call').map((f) => `${f.unit} ${cost(f.bytesPerEvent, f.stderr)}`);
    lines.push(`Tried alone (${formatDuration(c.aloneSeconds ?? 0)} after the run): ${costs.join('; ')}${calls.length ? `; in the run, ${calls.join('; ')}` : ''}`);
  } else if (a && a.factors.length) {
    lines.push(`Cost per event (${a.evidence}): ${a.factors.map((f) => `${f.unit} ${cost(f.bytesPerEvent, f.stderr)}`).join('; ')}`);
  }
  return lines;
}

/** What clients did: their short sessions, streams, cancelled calls, hang-ups and refused requests. */
function did(e: ClientsSection['events'], c: ClientsSection, kind: string, offered: ClientsSection['getStream']): string[] {
  const parts: string[] = [];
  if (e.opened) parts.push(`${n(e.opened)} short sessions (${n(e.abandoned)} abandoned, ${n(e.deleted)} ended with DELETE)`);
  if (e.streams || offered === 'none') parts.push(offered === 'none' ? `no ${kind} stream offered` : `${n(e.streams)} ${kind} streams (${n(e.dropped)} dropped)`);
  if (e.cancelled) parts.push(`${n(e.cancelled)} cancelled${c.answeredAfterCancel ? ` (${n(c.answeredAfterCancel)} answered anyway)` : ''}`);
  if (e.hungUp) parts.push(`${n(e.hungUp)} hung up on`);
  if (e.refused) parts.push(`${n(e.refused)} refused${refusedHow(c.refusals)}`);
  return parts;
}

/** " (404 unknown session id, 400 no session id, 405 wrong method)": the status each kind mostly got. */
function refusedHow(refusals: ClientsSection['refusals']): string {
  if (!refusals) return '';
  const kinds = Object.entries(refusals).map(([kind, by]) => {
    const [status] = Object.entries(by).sort((a, b) => b[1] - a[1])[0] ?? [];
    return status ? `${status} ${kind}` : '';
  }).filter(Boolean);
  return kinds.length ? ` (${kinds.join(', ')})` : '';
}

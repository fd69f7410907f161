// The report on screen after a run: one renderer per test, the status lines they share, and the
// sparkline. Rendering reads the results, never the server: a saved results file renders the same.
import type { CacheResults, ConnectionChurn, HeapAfterGc, LatencySummary, MemoryResults, RateResults, Results, RetryHint, SessionStats } from '../results.js';
import { count as n, formatBytes, formatDuration, formatRate, formatShare, formatWait, wholeMB as mb } from '../format.js';
import { heapLines } from './heap.js';
import { handlesLine } from './handles.js';
import { clientsLines } from './clients.js';
import { describeThrottle } from '../transport/throttled.js';
import { callName } from '../requests/build.js';

const BARS = '▁▂▃▄▅▆▇█';

/** A one-line chart of values, squeezed to at most width characters. */
export function sparkline(values: number[], width = 60): string {
  if (values.length === 0) return '';
  const step = values.length / Math.min(width, values.length);
  const cols: number[] = [];
  for (let i = 0; i < values.length; i += step) {
    const slice = values.slice(Math.floor(i), Math.max(Math.floor(i) + 1, Math.floor(i + step)));
    cols.push(Math.min(...slice));
  }
  const lo = Math.min(...cols);
  const hi = Math.max(...cols);
  return cols.map((v) => BARS[hi === lo ? 0 : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))]).join('');
}

export function useColour(stream: NodeJS.WriteStream): boolean {
  return Boolean(stream.isTTY) && !('NO_COLOR' in process.env);
}

export function formatLatency(l: LatencySummary): string {
  const ms = (v: number) => (v < 10 ? v.toFixed(1) : String(Math.round(v)));
  return `p50 ${ms(l.p50)} ms  p95 ${ms(l.p95)} ms  p99 ${ms(l.p99)} ms`;
}

export function formatErrors(r: Results): string {
  const parts = Object.entries(r.errors).map(([cls, e]) => `${n(e!.count)} ${cls}`);
  return parts.length ? parts.join(', ') : '0';
}

/** The lines every test ends with: status, reasons, warnings, the server's stderr where it matters, details. */
export function statusLines(r: Results, path: string | null, colour: boolean): string[] {
  const paint = (code: number, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const status = {
    pass: paint(32, 'PASS ✓'), fail: paint(31, 'FAIL ✗'), error: paint(33, 'ERROR'), interrupted: paint(33, 'INTERRUPTED'),
  }[r.verdict];
  const lines = [`Status: ${status}${r.reasons.length ? `  ${r.reasons[0]}` : ''}`];
  for (const reason of r.reasons.slice(1)) lines.push(`        ${reason}`);
  if (r.test !== 'ratelimit' && r.heap) lines.push(...heapLines(r.heap, r.memory?.decidedBy, r.test === 'cache' ? 'key' : 'request'));
  for (const warning of r.warnings) lines.push(paint(33, `Warning: ${warning}`));
  if (r.server.exit && r.stderrTail.length) {
    lines.push('Server stderr (last lines):', ...r.stderrTail.slice(-5).map((l) => `  ${l.slice(0, 200)}`));
  }
  if (path) lines.push(`Details: ${path}`);
  return lines;
}

export function render(r: Results, path: string | null, colour: boolean): string {
  const body = r.test === 'memory' ? memoryLines(r) : r.test === 'cache' ? cacheLines(r) : rateLines(r);
  return [...body, ...statusLines(r, path, colour)].join('\n');
}

function memoryLines(r: MemoryResults): string[] {
  const lines = [`Memory Test (${n(r.requests)} requests, ${formatDuration(r.durationSeconds)}, ${n(r.requestsPerSecond)} req/s)`];
  const m = r.memory;
  if (m && m.floors.length) {
    lines.push(`Start: ${mb(m.baseline)} (after warm-up; RSS ${mb(m.baselineRss)})`);
    lines.push(`End: ${mb(m.end)} (RSS ${mb(m.endRss)})`);
    if (m.shape !== 'too short' && m.shape !== 'unclear' && m.shape !== 'settling') {
      const per = m.bytesPerRequest;
      const shape = m.shape === 'levels off' && m.levelsOffAt
        ? `levels off at ~${formatBytes(m.levelsOffAt.bytes)} above baseline after ~${n(m.levelsOffAt.requests)} requests`
        : m.shape;
      const session = m.bytesPerSession === undefined ? '' : `, ${formatBytes(m.bytesPerSession)} per session`;
      lines.push(`Growth: ${(per / 1024).toFixed(2)} KB/request (${formatBytes(m.bytesPerMillionRequests)} per million requests${session}), ${shape}`);
    }
    if (m.heapAfterGc) lines.push(heapAfterGcLine(m.heapAfterGc, 'request'));
    if (r.ruledOutBytesPerRequest !== null && r.ruledOutBytesPerRequest !== undefined && r.verdict !== 'fail') {
      const session = r.ruledOutBytesPerSession ? ` (${formatBytes(r.ruledOutBytesPerSession)}/session)` : '';
      lines.push(`Rules out: leaks of ${formatBytes(r.ruledOutBytesPerRequest)}/request${session} or more${by(m.decidedBy)}${stopped(r.stopReason)}`);
    }
    lines.push(sparkline(m.samples.map((s) => s[2])));
  }
  if (r.handles) lines.push(handlesLine(r.handles));
  if (r.clients) lines.push(...clientsLines(r.clients));
  return [...lines, ...loadLines(r)];
}

/** The heap after GC of a Node.js server: its level, its trend, and what reading it cost. */
function heapAfterGcLine(h: HeapAfterGc, per: string): string {
  if (h.problem && !h.floors.length) return `Heap after GC: not measured (${h.problem})`;
  const trend = h.shape === 'too short' || h.shape === 'settling' ? h.shape : `${formatBytes(h.bytesPerRequest)}/${per}, ${h.shape}`;
  return `Heap after GC: ${formatBytes(h.baseline)} -> ${formatBytes(h.end)}, ${trend} (a forced GC every ${formatDuration(h.blockMs / 1000)}, ${Math.round(h.gcMs.median)} ms each)`;
}

/** Which evidence the ruled-out size rests on, when there were two. */
function by(decidedBy: string | undefined): string {
  return decidedBy === 'heap after GC' ? ', by the heap after GC' : decidedBy === 'both' ? ', by both' : '';
}

/** How a run of open length ended, after the ruled-out line. */
function stopped(reason: MemoryResults['stopReason']): string {
  return reason === 'decided' ? '; stopped as soon as decided' : reason === 'cap' ? '; stopped at --max-duration' : '';
}

function cacheLines(r: CacheResults): string[] {
  const lines = [`Cache Flood Test (${n(r.uniqueKeys ?? 0)} unique keys, ${formatDuration(r.durationSeconds)}, ${n(r.requestsPerSecond)} req/s)`];
  // A tool's or prompt's argument as lookup.query; a template by itself, its variables in braces.
  const varied = r.calls.flatMap((c) => (c.template ? (c.varied?.length ? [c.template] : []) : (c.varied ?? []).map((v) => `${callName(c)}.${v}`)));
  if (varied.length) lines.push(`Varied: ${varied.join(', ')}`);
  const m = r.memory;
  const control = r.control;
  if (m && m.samples.length) {
    lines.push(`Start: ${mb(m.baseline)} (after warm-up)`, `End: ${mb(m.end)}`);
    const perKey = r.bytesPerKey ?? 0;
    const level = r.levelsOffAt;
    const bounded = r.verdict === 'pass' ? ': bounded' : '';
    if (m.shape === 'rising' && r.plainLeak) {
      lines.push(`Growth: ${formatBytes(m.bytesPerRequest)} per request, still rising, and as fast with one repeated argument set: not a cache`);
    } else if (m.shape === 'rising') {
      lines.push(`Growth: ${formatBytes(perKey)} per unique key, still rising (${formatBytes(r.projectedAtMillionKeys ?? 0)} projected at 1M keys)`);
    } else if (level) {
      lines.push(`Growth: levels off at ~${formatBytes(level.bytes)} above baseline by ~${n(level.keys)} keys${bounded}`);
    } else if (m.shape !== 'too short') {
      lines.push(`Growth: ${formatBytes(perKey)} per unique key, ${m.shape}${bounded}`);
    }
    if (m.heapAfterGc) lines.push(heapAfterGcLine(m.heapAfterGc, 'key'));
    if (r.ruledOutBytesPerKey !== null && r.ruledOutBytesPerKey !== undefined && r.verdict !== 'fail') {
      lines.push(`Rules out: caches growing ${formatBytes(r.ruledOutBytesPerKey)}/key or more${by(m.decidedBy)}${stopped(r.stopReason)}`);
    }
    if (control && control.requests) {
      lines.push(`Control: ${formatBytes(Math.max(0, control.bytesPerRequest))} per request with one repeated argument set `
        + `(${n(control.requests)} requests), ${control.shape}`);
    }
    lines.push(sparkline(m.samples.map((s) => s[2])));
  }
  if (r.handles) lines.push(handlesLine(r.handles));
  return [...lines, ...loadLines(r)];
}

/** Latency, errors and sessions, under the memory lines. */
function loadLines(r: MemoryResults | CacheResults): string[] {
  const lines: string[] = [];
  if (r.requests > 0) lines.push(`Latency: ${formatLatency(r.latencyMs)}   Errors: ${formatErrors(r)}`);
  const t = r.throttling;
  if (t) {
    lines.push(`Throttled: ${formatShare(t.share)} of calls (${n(t.count)}) refused by the server's rate limiter: ${describeThrottle(t)}`
      + `${t.retryHint ? `, retry hint ${formatHint(t.retryHint)}` : ''}`);
  }
  if (r.sessions) lines.push(formatSessions(r.sessions));
  if (r.connections) lines.push(formatConnections(r.connections));
  return lines;
}

function rateLines(r: RateResults): string[] {
  const lines = ['Rate Limit Test'];
  const steps = r.steps ?? [];
  if (steps.length && r.rejection) {
    const limit = r.windowSeconds
      ? `${n(r.burst ?? 0)} requests per ~${formatDuration(r.windowSeconds)} (none let through while flooded: a window or quota)`
      : r.observedLimitPerSecond !== null && r.observedLimitPerSecond !== undefined
        ? `~${formatRate(r.observedLimitPerSecond)} req/s${r.burst ? ` (a burst of ~${n(r.burst)} more got through first)` : ''}`
        : `${n(r.burst ?? 0)} requests, then none let through while flooded`;
    lines.push(`Limit: ${limit}`);
    lines.push(`Rejections: ${describeThrottle(r.rejection)}, p95 ${r.rejection.p95Ms.toFixed(1)} ms, retry hint: ${formatHint(r.rejection.retryHint)}`);
    if (steps.some((s) => s.phase === 'hold') && !r.server.exit && r.verdict !== 'interrupted') {
      lines.push(`Recovery: ${r.recoverySeconds !== null && r.recoverySeconds !== undefined ? formatDuration(r.recoverySeconds) : `none within ${formatWait(r.recoveryTimeoutSeconds ?? 0)}`}`);
    }
  } else if (steps.length && r.verdict !== 'interrupted') {
    lines.push(`Limit: none found up to ${formatRate(Math.max(...steps.map((s) => s.offeredPerSecond)))} req/s`);
  }
  if (steps.length) {
    const ladder = steps.map((s) => `${s.phase === 'hold' ? 'hold ' : ''}${formatRate(s.offeredPerSecond)}→${formatRate(s.acceptedPerSecond)}`);
    lines.push(`Offered→let in (req/s): ${ladder.join('  ')}`);
    const base = r.baselineLatencyMs;
    if (base) lines.push(`Normal latency: p50 ${base.p50.toFixed(1)} ms  p95 ${base.p95.toFixed(1)} ms   Throttled: ${n(r.throttled ?? 0)} of ${n(r.requests)}   Other errors: ${formatErrors(r)}`);
  }
  return lines;
}

export { describeThrottle };

/** "54 s (result.error.data.retryAfter)", "1 s (in the message)", or "none". */
function formatHint(hint: RetryHint | null | undefined): string {
  if (!hint) return 'none';
  const source = hint.field ?? { 'Retry-After': 'Retry-After header', retryAfter: 'retryAfter field', text: 'in the message' }[hint.source];
  return `${formatWait(hint.seconds)} (${source})`;
}

export function formatSessions(s: SessionStats): string {
  const every = s.requestsPerSession ? ` (a new one every ${n(s.requestsPerSession)} requests)` : '';
  if (s.stateless) return `Sessions: ${n(s.opened)} opened${every}; the server gave no session id (stateless)`;
  const lost = s.lost ? `, ${n(s.lost)} ended by the server` : '';
  const refused = s.endRefused ? `, ${n(s.endRefused)} refused to end` : '';
  return `Sessions: ${n(s.opened)} opened, ${n(s.ended)} ended${lost}${refused}${every}`;
}

/** 2026-07-28 over HTTP: no sessions, so what churned (with --requests-per-session) is the connections. */
export function formatConnections(c: ConnectionChurn): string {
  const every = c.requestsPerConnection
    ? `, a new one every ${n(c.requestsPerConnection)} requests (2026-07-28 has no sessions: each connection stands for a stateless client)`
    : ' (2026-07-28: no sessions)';
  return `Connections: ${n(c.opened)} opened, ${n(c.closed)} closed${every}`;
}

// What the user sees and keeps: the results object, its JSON file (written atomically), the text on
// screen, the sparkline and the live progress line. Rendering never measures.
import { mkdirSync, renameSync, writeFileSync, openSync, closeSync, unlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Progress, ErrorClass, ErrorCount, TesterLoad } from './hammer.js';
import type { LatencySummary } from './latency.js';
import type { SessionStats } from './client.js';
import { formatBytes, MB } from './verdict.js';
import { formatRate, formatWait, type RateFindings } from './rateverdict.js';
import { describeThrottle } from './throttle.js';
import { CannotRun } from './errors.js';
import type { HeapResults } from './heap.js';
import { heapLines } from './heapreport.js';
import { VERSION } from './version.js';

export type VerdictName = 'pass' | 'fail' | 'error' | 'interrupted';

export interface Results {
  test: string;
  verdict: VerdictName;
  reasons: string[];
  warnings: string[];
  version: string;
  startedAt: string;
  server: {
    /** Absent when mcp-hammer did not start the server (--url alone, or --pid). */
    command?: string;
    args?: string[];
    example: boolean;
    /** Over HTTP: the address (without its query), the transport, the -H header names (never values), --pid. */
    url?: string;
    transport?: 'streamable-http' | 'sse';
    headers?: string[];
    pid?: number;
    name?: string;
    version?: string;
    protocolVersion?: string;
    exit?: { code: number | null; signal: string | null };
  };
  calls: { method: string; tool?: string; arguments?: unknown }[];
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyMs: LatencySummary;
  errors: Partial<Record<ErrorClass, ErrorCount>>;
  stderrTail: string[];
  tester?: TesterLoad;
  /** Over HTTP: the MCP sessions opened and ended. */
  sessions?: SessionStats;
  memory?: {
    signal: string;
    baseline: number;
    end: number;
    baselineRss: number;
    endRss: number;
    bytesPerRequest: number;
    firstHalfBytesPerRequest: number;
    secondHalfBytesPerRequest: number;
    bytesPerMillionRequests: number;
    shape: string;
    noise: number;
    /** The smallest growth per request the run could have called a leak (null when too short). */
    detectableBytesPerRequest: number | null;
    warmupRequests: number;
    levelsOffAt?: { bytes: number; requests: number };
    /** With --heap: the signal that decided the verdict ('process memory', 'heap after GC' or 'both'). */
    decidedBy?: string;
    /** With session churn: the growth per session opened and ended. */
    bytesPerSession?: number;
    /** [seconds, requests, bytes, rssBytes] */
    samples: [number, number, number, number][];
    /** Each block's floor: [requests, bytes], the series the verdict is computed from. */
    floors: [number, number][];
  };
  heap?: HeapResults;
  [extra: string]: unknown;
}

export const EXIT_CODES: Record<VerdictName, number> = { pass: 0, fail: 1, error: 2, interrupted: 130 };

/** Fails before the server starts if the folder cannot be created or written. */
export function checkResultsFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.mcp-hammer-${process.pid}.tmp`);
    closeSync(openSync(probe, 'w'));
    unlinkSync(probe);
  } catch (err) {
    throw new CannotRun(`cannot write results to ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; choose another folder with --out`);
  }
}

/** `<test>_<timestamp>.json` in dir, written to a temporary name and renamed, so no reader sees half a file. */
export function writeResults(dir: string, results: Results): string {
  mkdirSync(dir, { recursive: true });
  const stamp = results.startedAt.slice(0, 19).replace(/:/g, '-');
  let path = join(dir, `${results.test}_${stamp}.json`);
  for (let n = 2; existsSync(path); n++) path = join(dir, `${results.test}_${stamp}-${n}.json`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(results, null, 2) + '\n');
  renameSync(tmp, path);
  return path;
}

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

const n = (v: number) => Math.round(v).toLocaleString('en-US');
const mb = (bytes: number) => `${Math.round(bytes / MB)}MB`;

export function formatDuration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
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
  if (r.heap) lines.push(...heapLines(r.heap, r.memory?.decidedBy));
  for (const warning of r.warnings) lines.push(paint(33, `Warning: ${warning}`));
  if (r.server.exit && r.stderrTail.length) {
    lines.push('Server stderr (last lines):', ...r.stderrTail.slice(-5).map((l) => `  ${l.slice(0, 200)}`));
  }
  if (path) lines.push(`Details: ${path}`);
  return lines;
}

export function renderMemory(r: Results, path: string | null, colour: boolean): string {
  const lines = [`Memory Test (${n(r.requests)} requests, ${formatDuration(r.durationSeconds)}, ${n(r.requestsPerSecond)} req/s)`];
  const m = r.memory;
  if (m && m.floors.length) {
    lines.push(`Start: ${mb(m.baseline)} (after warm-up; RSS ${mb(m.baselineRss)})`);
    lines.push(`End: ${mb(m.end)} (RSS ${mb(m.endRss)})`);
    if (m.shape !== 'too short' && m.shape !== 'unclear') {
      const per = m.bytesPerRequest;
      const shape = m.shape === 'levels off' && m.levelsOffAt
        ? `levels off at ~${formatBytes(m.levelsOffAt.bytes)} above baseline after ~${n(m.levelsOffAt.requests)} requests`
        : m.shape;
      const session = m.bytesPerSession === undefined ? '' : `, ${formatBytes(m.bytesPerSession)} per session`;
      lines.push(`Growth: ${(per / 1024).toFixed(2)} KB/request (${formatBytes(m.bytesPerMillionRequests)} per million requests${session}), ${shape}`);
      if (r.verdict === 'pass' && m.detectableBytesPerRequest !== null && m.detectableBytesPerRequest > 256) {
        lines.push(`        (a run this short shows leaks of ${formatBytes(m.detectableBytesPerRequest)}/request or more; run longer to see smaller ones)`);
      }
    }
    lines.push(sparkline(m.samples.map((s) => s[2])));
  }
  if (r.requests > 0) lines.push(`Latency: ${formatLatency(r.latencyMs)}   Errors: ${formatErrors(r)}`);
  if (r.sessions) lines.push(formatSessions(r.sessions));
  return [...lines, ...statusLines(r, path, colour)].join('\n');
}

export function renderRatelimit(r: Results, path: string | null, colour: boolean): string {
  const lines = ['Rate Limit Test'];
  const f = r as Results & Partial<RateFindings>;
  const steps = f.steps ?? [];
  if (steps.length && f.rejection) {
    const limit = f.windowSeconds
      ? `${n(f.burst ?? 0)} requests per ~${formatDuration(f.windowSeconds)} (none let through while flooded: a window or quota)`
      : f.observedLimitPerSecond !== null && f.observedLimitPerSecond !== undefined
        ? `~${formatRate(f.observedLimitPerSecond)} req/s${f.burst ? ` (a burst of ~${n(f.burst)} more got through first)` : ''}`
        : `${n(f.burst ?? 0)} requests, then none let through while flooded`;
    lines.push(`Limit: ${limit}`);
    const hint = f.rejection.retryHint;
    const source = hint && { 'Retry-After': 'Retry-After header', retryAfter: 'retryAfter field', text: 'in the message' }[hint.source];
    lines.push(`Rejections: ${describeThrottle(f.rejection)}, p95 ${f.rejection.p95Ms.toFixed(1)} ms, `
      + `retry hint: ${hint ? `${formatWait(hint.seconds)} (${source})` : 'none'}`);
    if (steps.some((s) => s.phase === 'hold') && !r.server.exit && r.verdict !== 'interrupted') {
      lines.push(`Recovery: ${f.recoverySeconds !== null && f.recoverySeconds !== undefined ? formatDuration(f.recoverySeconds) : `none within ${formatWait(f.recoveryTimeoutSeconds ?? 0)}`}`);
    }
  } else if (steps.length && r.verdict !== 'interrupted') {
    lines.push(`Limit: none found up to ${formatRate(Math.max(...steps.map((s) => s.offeredPerSecond)))} req/s`);
  }
  if (steps.length) {
    const ladder = steps.map((s) => `${s.phase === 'hold' ? 'hold ' : ''}${formatRate(s.offeredPerSecond)}→${formatRate(s.acceptedPerSecond)}`);
    lines.push(`Offered→let in (req/s): ${ladder.join('  ')}`);
    const base = f.baselineLatencyMs;
    if (base) lines.push(`Normal latency: p50 ${base.p50.toFixed(1)} ms  p95 ${base.p95.toFixed(1)} ms   Throttled: ${n(Number(f.throttled ?? 0))} of ${n(r.requests)}   Other errors: ${formatErrors(r)}`);
  }
  return [...lines, ...statusLines(r, path, colour)].join('\n');
}

export function renderCache(r: Results, path: string | null, colour: boolean): string {
  const keys = Number(r.uniqueKeys ?? 0);
  const lines = [`Cache Flood Test (${n(keys)} unique keys, ${formatDuration(r.durationSeconds)}, ${n(r.requestsPerSecond)} req/s)`];
  const varied = r.calls.flatMap((c: any) => (c.varied ?? []).map((v: string) => `${c.tool}.${v}`));
  if (varied.length) lines.push(`Varied: ${varied.join(', ')}`);
  const m = r.memory;
  const control = r.control as { requests: number; bytesPerRequest: number; shape: string } | undefined;
  if (m && m.samples.length) {
    lines.push(`Start: ${mb(m.baseline)} (after warm-up)`, `End: ${mb(m.end)}`);
    const perKey = Number(r.bytesPerKey ?? 0);
    const level = r.levelsOffAt as { bytes: number; keys: number } | undefined;
    const bounded = r.verdict === 'pass' ? ': bounded' : '';
    if (m.shape === 'rising' && r.plainLeak) {
      lines.push(`Growth: ${formatBytes(m.bytesPerRequest)} per request, still rising, and as fast with one repeated argument set: not a cache`);
    } else if (m.shape === 'rising') {
      const projected = Number(r.projectedAtMillionKeys ?? 0);
      lines.push(`Growth: ${formatBytes(perKey)} per unique key, still rising (${formatBytes(projected)} projected at 1M keys)`);
    } else if (level) {
      lines.push(`Growth: levels off at ~${formatBytes(level.bytes)} above baseline by ~${n(level.keys)} keys${bounded}`);
    } else if (m.shape !== 'too short') {
      lines.push(`Growth: ${formatBytes(perKey)} per unique key, ${m.shape}${bounded}`);
    }
    if (control && control.requests) {
      lines.push(`Control: ${formatBytes(Math.max(0, control.bytesPerRequest))} per request with one repeated argument set `
        + `(${n(control.requests)} requests), ${control.shape}`);
    }
    lines.push(sparkline(m.samples.map((s) => s[2])));
  }
  if (r.requests > 0) lines.push(`Latency: ${formatLatency(r.latencyMs)}   Errors: ${formatErrors(r)}`);
  if (r.sessions) lines.push(formatSessions(r.sessions));
  return [...lines, ...statusLines(r, path, colour)].join('\n');
}

export function formatSessions(s: SessionStats): string {
  const every = s.requestsPerSession ? ` (a new one every ${n(s.requestsPerSession)} requests)` : '';
  if (s.stateless) return `Sessions: ${n(s.opened)} opened${every}; the server gave no session id (stateless)`;
  const lost = s.lost ? `, ${n(s.lost)} ended by the server` : '';
  const refused = s.endRefused ? `, ${n(s.endRefused)} refused to end` : '';
  return `Sessions: ${n(s.opened)} opened, ${n(s.ended)} ended${lost}${refused}${every}`;
}

/** Live progress on stderr: one rewritten line on a terminal, a line every ~10% elsewhere. */
export function progressPrinter(stream: NodeJS.WriteStream, label: string): { update(p: Progress): void; done(): void } {
  const tty = Boolean(stream.isTTY);
  let lastTenth = -1;
  let lastRequests = 0;
  let lastSeconds = 0;
  let drawn = false;
  return {
    update(p) {
      const rate = p.seconds > lastSeconds ? (p.requests - lastRequests) / (p.seconds - lastSeconds) : 0;
      lastRequests = p.requests;
      lastSeconds = p.seconds;
      // Built only when shown: off a terminal that is once per tenth of the run.
      const line = () => `${label}: ${n(p.requests)} requests  ${n(rate)} req/s  ${mb(p.bytes)}  ${Math.round(p.fraction * 100)}%`;
      if (tty) {
        stream.write(`\r\x1b[K${line()}`);
        drawn = true;
      } else {
        const tenth = Math.floor(p.fraction * 10);
        if (tenth > lastTenth) {
          lastTenth = tenth;
          stream.write(line() + '\n');
        }
      }
    },
    done() {
      if (tty && drawn) stream.write('\r\x1b[K');
    },
  };
}

/** A results object for a run that is starting; the test fills in what it measures. */
export function newResults(o: { test: string; command: string; serverArgs: string[]; example: boolean }): Results {
  return {
    test: o.test,
    verdict: 'error',
    reasons: [],
    warnings: [],
    version: VERSION,
    startedAt: new Date().toISOString(),
    // Names and arguments only: the environment the server gets is never written anywhere.
    server: { ...(o.command ? { command: o.command, args: o.serverArgs } : {}), example: o.example },
    calls: [],
    requests: 0,
    durationSeconds: 0,
    requestsPerSecond: 0,
    latencyMs: { p50: 0, p95: 0, p99: 0, max: 0, count: 0 },
    errors: {},
    stderrTail: [],
  };
}

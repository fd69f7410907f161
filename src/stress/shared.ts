// What the stress tests share: the length of a block, the fields every load fills in, the facts the
// verdict is judged on, and writing a verdict into the results.
import type { Floor, HammerResult } from '../load/closedloop.js';
import { testerWarnings } from '../load/testerload.js';
import { throttlingIn, throttlingWarning } from '../transport/throttled.js';
import type { Judged, RunFacts } from '../judge/run.js';
import { DEFAULT_BUDGETS, type Budgets, type Point, type Trend } from '../judge/trend.js';
import { streak, type Decision, type LeakTarget } from '../judge/stopping.js';
import { judgeHandles, type HandlePoint } from '../judge/handles.js';
import type { Options } from '../options.js';
import type { Target } from '../server/open.js';
import type { MemorySection, Results } from '../results.js';
import { formatBytes, round } from '../format.js';

/**
 * With --heap, the baseline snapshot is taken at the first block boundary past a fifth of a run of set
 * length (of the cache test's control phase), and at most six seconds in: early, so that the memory the
 * snapshot itself leaves with the server's allocator (tens of MB) falls in the warm-up the verdict leaves
 * out.
 */
export const heapBaselineDue = (p: { fraction: number; seconds: number }): boolean => p.fraction >= 0.2 || p.seconds >= 6;

/** The process memory signal, as the results name it. */
export const SIGNAL = 'Pss_Anon of the process tree (anonymous memory, shared pages divided among sharers)';

/**
 * Blocks of ~1/48 of a run of set length, by time and by count, whichever ends first (at least 250 ms or
 * 100 requests); half a second in a run that lasts until decided. Sampled a few times each.
 */
export function blockTiming(durationSeconds?: number, requests?: number): { blockMs: number; sampleMs: number; blockRequests?: number } {
  const blockMs = durationSeconds ? Math.max(250, Math.round((durationSeconds * 1000) / 48)) : 500;
  const blockRequests = requests ? Math.max(100, Math.round(requests / 48)) : undefined;
  return { blockMs, blockRequests, sampleMs: Math.min(200, Math.max(20, Math.round(blockMs / 3))) };
}

/** The length of a run: the user's (--duration, --requests), or until decided within --max-duration. */
export function runLength(opts: Options): { maxSeconds?: number; maxRequests?: number; open: boolean } {
  const open = opts.durationSeconds === undefined && opts.requests === undefined;
  return { maxSeconds: open ? opts.maxDurationSeconds : opts.durationSeconds, maxRequests: opts.requests, open };
}

/** What a PASS must rule out: --leak-size per request, and 16 KB per session with churn. */
export function leakTarget(opts: Options): LeakTarget {
  return { bytesPerRequest: opts.leakBytesPerRequest, ...(opts.requestsPerSession ? { bytesPerSession: 16 * 1024, requestsPerSession: opts.requestsPerSession } : {}) };
}

/**
 * The process memory budgets of a run. With session churn, growth of 2 KB per session is never called
 * allocator drift, however many requests a session holds: the per-request floor comes down to match.
 */
export function memoryBudgets(opts: Options): Budgets {
  const perRequest = opts.requestsPerSession ? Math.min(DEFAULT_BUDGETS.bytesPerRequest, 2048 / opts.requestsPerSession) : DEFAULT_BUDGETS.bytesPerRequest;
  return { ...DEFAULT_BUDGETS, bytesPerRequest: perRequest };
}

/**
 * The look after each block: the trend of the floors so far, what it rules out (for the progress line),
 * and, in a run that lasts until decided, whether the same answer has held long enough to stop (and
 * `ready` allows it: --heap has what it needs).
 */
export function looker(open: boolean, judge: (floors: Floor[]) => { decision: Decision; ruledOut: number }, per = 'request',
  ready: () => boolean = () => true): (floors: Floor[]) => { stop: boolean; note?: string } {
  const agreed = streak();
  return (floors) => {
    const { decision, ruledOut } = judge(floors);
    const stop = agreed(decision, floors.at(-1)?.requests ?? 0) !== null && open && ready();
    return { stop, note: Number.isFinite(ruledOut) ? `rules out >= ${formatBytes(ruledOut)}/${per}` : undefined };
  };
}

/** The floors as the memory rule reads them. */
export const pointsOf = (floors: Floor[]): Point[] => floors.map((f) => ({ requests: f.requests, bytes: f.bytes, seconds: f.seconds }));

/**
 * One look's decision with the handles counted at the floors: a handle leak established is a FAIL, and
 * no PASS while a count is still warming up or climbing.
 */
export function withHandleLook(decision: Decision, floors: Floor[]): Decision {
  const series = floors.flatMap((f): HandlePoint[] => (f.handles ? [[f.requests, f.handles]] : []));
  if (!series.length) return decision;
  const h = judgeHandles(series);
  if (h.leaking) return 'fail';
  return decision === 'pass' && (h.warmingUp || h.growing) ? null : decision;
}

/** Who the server is and how it was spoken to (the revision and its era), and what the negotiation noticed. */
export function describeTarget(results: Results, target: Target): void {
  const { info } = target;
  Object.assign(results.server, { name: info.name, version: info.version, protocolVersion: info.protocolVersion, era: info.era }, target.remote);
  results.warnings.push(...target.notices);
}

/** The fields every load test shares: counts, rates, latency, errors, what the connection saw. */
export function fillRun(results: Results, run: HammerResult, target: Target): void {
  results.requests = run.requests;
  results.durationSeconds = round(run.durationSeconds, 2);
  results.requestsPerSecond = Math.round(run.requestsPerSecond);
  results.latencyMs = run.latency;
  results.errors = run.errors;
  if (results.test !== 'ratelimit') {
    const throttling = throttlingIn(run.errors, run.requests);
    if (throttling) results.throttling = throttling;
  }
  results.tester = run.tester;
  if (run.exit) results.server.exit = run.exit;
  const stats = target.conn.stats;
  if (stats.nonJsonLines) {
    results.warnings.push(`the server wrote ${stats.nonJsonLines} non-JSON line(s) to stdout (e.g. ${JSON.stringify(stats.nonJsonSample[0] ?? '')}); `
      + 'stdout is for protocol messages only, and real clients break on such lines: log to stderr');
  }
  results.warnings.push(...testerWarnings(run.tester));
  results.connection = { unknownIds: stats.unknownIds, notifications: stats.notifications, serverRequests: stats.serverRequests, largestMessageBytes: stats.largestMessage };
  if (stats.sessions) results.sessions = { ...stats.sessions };
  if (stats.connections) results.connections = { ...stats.connections };
}

/** What the run measured, as the verdict's rule needs it. */
export function runFacts(run: HammerResult, results: Results, timeoutMs: number): RunFacts {
  return {
    requests: run.requests,
    ok: run.ok,
    errorCount: run.errorCount,
    errorSamples: Object.values(run.errors).map((e) => e?.samples ?? []),
    stopReason: run.stopReason,
    exit: run.exit,
    timeoutMs,
    durationSeconds: run.durationSeconds,
    requestsPerSecond: run.requestsPerSecond,
    stderrTail: results.stderrTail,
    overHttp: results.server.url !== undefined,
  };
}

/** The verdict, written into the results. */
export function assign(results: Results, judged: Judged): void {
  results.verdict = judged.verdict;
  results.reasons.push(...judged.reasons);
  const throttled = results.test !== 'ratelimit' && results.throttling && results.throttling.share > 0.5 ? results.throttling : undefined;
  // Most calls refused by a rate limiter: said as such, with how to test past it, in place of "most calls failed".
  if (throttled) results.warnings.push(...judged.warnings.filter((w) => !w.startsWith('most calls failed')), throttlingWarning(throttled, results.requests));
  else results.warnings.push(...judged.warnings);
}

/** The memory section's trend fields, from a trend (the flood's, for the cache test). */
export function trendFields(trend: Trend | undefined): Pick<MemorySection,
  'bytesPerRequest' | 'firstHalfBytesPerRequest' | 'secondHalfBytesPerRequest' | 'bytesPerMillionRequests' | 'shape' | 'noise' | 'detectableBytesPerRequest'> {
  return {
    bytesPerRequest: round(trend?.bytesPerRequest ?? 0, 1),
    firstHalfBytesPerRequest: round(trend?.earlyBytesPerRequest ?? 0, 1),
    secondHalfBytesPerRequest: round(trend?.lateBytesPerRequest ?? 0, 1),
    bytesPerMillionRequests: Math.round((trend?.bytesPerRequest ?? 0) * 1e6),
    shape: trend?.shape ?? 'too short',
    noise: Math.round(trend?.noise ?? 0),
    detectableBytesPerRequest: trend && Number.isFinite(trend.detectableBytesPerRequest) ? Math.round(trend.detectableBytesPerRequest) : null,
  };
}

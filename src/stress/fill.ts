// Filling the results of a run: who the server is, the fields every load fills in (counts, rates, latency,
// errors, what the connection saw), the facts the verdict is judged on, the memory section's trend fields,
// and the verdict itself, written in one place.
import type { HammerResult } from '../load/closedloop.js';
import { testerWarnings } from '../load/testerload.js';
import { throttlingOf, throttlingWarning } from '../transport/throttled.js';
import type { Judged, RunFacts } from '../judge/run.js';
import type { Point, Trend } from '../judge/trend.js';
import { median } from '../judge/stats.js';
import type { LiveHeap } from '../heap/live.js';
import type { Target } from '../server/open.js';
import type { HeapAfterGc, MemorySection, Results } from '../results.js';
import { round } from '../format.js';

/** The process memory evidence, as the results name it. */
export const PROCESS_EVIDENCE = 'Pss_Anon of the process tree (anonymous memory, shared pages divided among sharers)';

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
    // Of the requests the server answered or failed: those the client mix gave up on had no say.
    const throttling = throttlingOf(run.refusals, run.requests - run.abandoned);
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
  results.connection = { unknownIds: stats.unknownIds, notifications: stats.notifications, serverRequests: stats.serverRequests, largestMessageBytes: stats.largestMessage,
    ...(stats.httpRequests !== undefined ? { httpRequests: stats.httpRequests } : {}) };
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
  if (throttled) results.warnings.push(...judged.warnings.filter((w) => !w.startsWith('most calls failed')), throttlingWarning(throttled, Math.round(throttled.count / throttled.share)));
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

/** The heap after GC section: the live heap's floors (offset: requests before them) and their trend. */
export function heapAfterGc(live: LiveHeap, points: Point[], trend: Trend, blockMs: number): HeapAfterGc {
  const first = points[trend.warmupBlocks - 1] ?? points[0];
  return {
    evidence: 'JavaScript heap and ArrayBuffers of the process serving the requests, after a forced full GC',
    ...(live.serving() ? { pid: live.serving()!.pid } : {}),
    floors: points.map((p) => [p.requests, p.bytes]),
    baseline: Math.round(trend.baseline),
    end: trend.end,
    bytesPerRequest: round(trend.bytesPerRequest, 1),
    shape: trend.shape,
    noise: Math.round(trend.noise),
    warmupRequests: first?.requests ?? 0,
    ruledOutBytesPerRequest: Number.isFinite(trend.ruledOutBytesPerRequest) ? Math.round(trend.ruledOutBytesPerRequest) : null,
    gcMs: { median: round(median(live.costs), 1), max: round(Math.max(0, ...live.costs), 1) },
    blockMs,
    ...(live.problem ? { problem: live.problem } : {}),
  };
}

// What the stress tests share: the length of a block, the fields every load fills in, the facts the
// verdict is judged on, and writing a verdict into the results.
import type { HammerResult } from '../load/closedloop.js';
import { testerWarnings } from '../load/testerload.js';
import type { Judged, RunFacts } from '../judge/run.js';
import type { Trend } from '../judge/trend.js';
import type { Target } from '../server/open.js';
import type { MemorySection, Results } from '../results.js';
import { round } from '../format.js';

/**
 * With --heap, the baseline snapshot is taken at the first block boundary past this share of the run (of
 * the cache test's control phase): inside warm-up, so that the memory the snapshot itself leaves with the
 * server's allocator (tens of MB) is part of the baseline.
 */
export const HEAP_BASELINE_AT = 0.2;

/** The process memory signal, as the results name it. */
export const SIGNAL = 'Pss_Anon of the process tree (anonymous memory, shared pages divided among sharers)';

/**
 * Blocks of ~1/48 of the run, by time and by count, whichever ends first (at least 250 ms or 100 requests),
 * sampled a few times each.
 */
export function blockTiming(durationSeconds?: number, requests?: number): { blockMs: number; sampleMs: number; blockRequests?: number } {
  const blockMs = durationSeconds ? Math.max(250, Math.round((durationSeconds * 1000) / 48)) : 500;
  const blockRequests = requests ? Math.max(100, Math.round(requests / 48)) : undefined;
  return { blockMs, blockRequests, sampleMs: Math.min(200, Math.max(20, Math.round(blockMs / 3))) };
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
    stderrTail: results.stderrTail,
    overHttp: results.server.url !== undefined,
  };
}

/** The verdict, written into the results. */
export function assign(results: Results, judged: Judged): void {
  results.verdict = judged.verdict;
  results.reasons.push(...judged.reasons);
  results.warnings.push(...judged.warnings);
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

// The memory leak test: the same requests again and again, memory of the server's tree sampled, and the
// trend after warm-up judged (see verdict.ts for the rule).
import { chooseCalls } from '../calls.js';
import { hammer, type HammerResult } from '../hammer.js';
import { treeSampler } from '../memory.js';
import { progressPrinter, type Results } from '../report.js';
import { endServer, openTarget, describeExit, type Target } from '../server.js';
import { leakVerdict, memoryTrend, type Trend } from '../verdict.js';
import type { Options, RunContext } from '../cli.js';

export async function memoryTest(opts: Options, ctx: RunContext, results: Results): Promise<void> {
  const target = await openTarget(opts.command, opts.serverArgs, { ...opts, signal: ctx.signal });
  try {
    describeTarget(results, target);
    const { calls, notice } = chooseCalls(target.info, opts.tools, opts.toolArgs);
    if (notice) results.warnings.push(notice);
    results.calls = calls.map(({ method, tool, arguments: a }) => ({ method, tool, arguments: a }));
    ctx.announce(results);
    const progress = progressPrinter(process.stderr, 'memory');
    const run = await hammer({
      conn: target.conn,
      callFor: (i) => calls[i % calls.length],
      concurrency: opts.concurrency,
      maxRequests: opts.requests,
      maxSeconds: opts.durationSeconds,
      timeoutMs: opts.timeoutMs,
      ...blockTiming(opts.durationSeconds),
      sampler: treeSampler(target.server.pid),
      signal: ctx.signal,
      serverExited: target.server.exited,
      onProgress: progress.update,
    });
    progress.done();
    await endServer(target.server);
    results.stderrTail = target.server.stderrTail();
    const trend = memoryTrend(run.floors.map((f) => ({ requests: f.requests, bytes: f.bytes })));
    fillRun(results, run, target);
    fillMemory(results, run, trend);
    judge(results, run, trend, opts.timeoutMs);
  } finally {
    await endServer(target.server);
  }
}

/** Blocks of ~1/48 of the run (at least 250 ms), sampled at least three times each. */
export function blockTiming(durationSeconds?: number): { blockMs: number; sampleMs: number } {
  const blockMs = durationSeconds ? Math.max(250, Math.round((durationSeconds * 1000) / 48)) : 500;
  return { blockMs, sampleMs: Math.min(200, Math.round(blockMs / 3)) };
}

export function describeTarget(results: Results, target: Target): void {
  const { info } = target;
  Object.assign(results.server, { name: info.name, version: info.version, protocolVersion: info.protocolVersion }, target.remote);
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
  if (run.tester.cpuPercent > 90 || run.tester.loopDelayP99Ms > 50) {
    results.warnings.push(`mcp-hammer itself was busy (CPU ${run.tester.cpuPercent}% of a core, event-loop delay p99 ${run.tester.loopDelayP99Ms} ms): `
      + 'the request rate is limited by the tester, not the server');
  }
  results.connection = { unknownIds: stats.unknownIds, notifications: stats.notifications, serverRequests: stats.serverRequests, largestMessageBytes: stats.largestMessage };
  if (stats.sessions) results.sessions = { ...stats.sessions };
}

function fillMemory(results: Results, run: HammerResult, trend: Trend): void {
  const first = run.floors[trend.warmupBlocks - 1] ?? run.floors[0];
  const lastFloor = run.floors.at(-1);
  results.memory = {
    signal: 'Pss_Anon of the process tree (anonymous memory, shared pages divided among sharers)',
    baseline: trend.baseline,
    end: trend.end,
    baselineRss: first?.rss ?? 0,
    endRss: lastFloor?.rss ?? 0,
    bytesPerRequest: round(trend.bytesPerRequest, 1),
    bytesPerMillionRequests: Math.round(trend.bytesPerRequest * 1e6),
    shape: trend.shape,
    noise: Math.round(trend.noise),
    warmupRequests: first?.requests ?? 0,
    levelsOffAt: trend.levelsOffAt,
    bytesPerSession: results.sessions?.requestsPerSession && Math.round(trend.bytesPerRequest * results.sessions.requestsPerSession),
    samples: run.samples.map(([s, r, b, rss]) => [round(s, 2), r, b, rss]),
  };
  if (!lastFloor && run.samples.length) {
    const s = run.samples.at(-1)!;
    Object.assign(results.memory, { end: s[2], endRss: s[3] });
  }
}

/** Decide the verdict: interrupted, crash, hang, nothing worked, too short, leak, or pass. */
export function judge(results: Results, run: HammerResult, trend: Trend | null, timeoutMs: number): void {
  const done = `after ${run.requests.toLocaleString('en-US')} requests`;
  if (run.stopReason === 'interrupted') {
    results.verdict = 'interrupted';
    results.reasons.push(`interrupted ${done}; partial results kept`);
    return;
  }
  if (run.stopReason === 'exited' && run.exit) {
    results.verdict = 'fail';
    const oom = results.stderrTail.some((l) => /heap out of memory|allocation failed/i.test(l));
    results.reasons.push(`the server exited under load (${describeExit(run.exit)}) ${done}${oom ? ': out of memory' : ''}`);
    return;
  }
  if (run.stopReason === 'exited') {
    results.verdict = 'fail';
    results.reasons.push(results.server.url ? `the server stopped accepting connections under load ${done}`
      : `the server closed its stdout under load ${done}, and so the connection`);
    return;
  }
  if (run.stopReason === 'hung') {
    results.verdict = 'fail';
    results.reasons.push(`the server stopped answering ${done}: no answer within ${timeoutMs / 1000} s (--timeout)`);
    return;
  }
  if (run.requests > 0 && run.ok === 0) {
    results.verdict = 'error';
    const first = Object.values(run.errors).find((e) => e?.samples.length)?.samples[0] ?? 'unknown error';
    results.reasons.push(`every call failed, so the test measured nothing but the error path; first error: ${first} (check --tool and --args)`);
    return;
  }
  if (run.errorCount > run.requests / 2) {
    results.warnings.push(`most calls failed (${run.errorCount.toLocaleString('en-US')} of ${run.requests.toLocaleString('en-US')}): the test measured the error path`);
  }
  if (trend && trend.shape === 'too short') {
    results.verdict = 'error';
    results.reasons.push(`the run was too short to measure a trend (${trend.blocks - trend.warmupBlocks} blocks after warm-up); give a longer --duration or more --requests`);
    return;
  }
  const verdict = trend ? leakVerdict(trend, results.sessions?.requestsPerSession) : { pass: true, reasons: [] };
  results.verdict = verdict.pass ? 'pass' : 'fail';
  results.reasons.push(...verdict.reasons);
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export type { Target };

// The memory leak test: the same requests again and again, memory of the server's tree sampled, and the
// trend after warm-up judged (see verdict.ts for the rule).
import { chooseCalls, preflight } from '../calls.js';
import { hammer, type HammerResult, type TesterLoad } from '../hammer.js';
import { treeSampler } from '../memory.js';
import { progressPrinter, type Results } from '../report.js';
import { endServer, openTarget, describeExit, type Target } from '../server.js';
import { formatBytes, leakVerdict, memoryTrend, type Trend, type Verdict } from '../verdict.js';
import type { Options, RunContext } from '../cli.js';
import { heapWatch, withoutInspectorLines } from '../heap.js';
import { chooseSignal, heapTrend, noteSignal } from '../heapverdict.js';

/**
 * With --heap, the baseline snapshot is taken at the first block boundary past this share of the run (of
 * the cache test's control phase): inside warm-up, so that the memory the snapshot itself leaves with the
 * server's allocator (tens of MB) is part of the baseline.
 */
export const HEAP_BASELINE_AT = 0.2;

export async function memoryTest(opts: Options, ctx: RunContext, results: Results): Promise<void> {
  const heap = opts.heap ? heapWatch() : null;
  const target = await openTarget(opts.command, opts.serverArgs, { ...opts, signal: ctx.signal, ...heap?.spawn });
  try {
    // The fault tests need a way to make mcp-hammer fail from inside while a server runs.
    if (process.env.MCP_HAMMER_TEST_BUG) throw new Error('a fault injected by the test suite');
    describeTarget(results, target);
    const noHeap = await heap?.attach();
    if (noHeap) results.warnings.push(noHeap);
    const watching = heap && !noHeap;
    const choice = chooseCalls(target.info, opts.tools, opts.toolArgs);
    if (choice.notice) results.warnings.push(choice.notice);
    const { calls, notices } = await preflight(target.conn, choice.calls, opts.tools.length > 0, Math.min(opts.timeoutMs, 2000));
    results.warnings.push(...notices);
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
      ...blockTiming(opts.durationSeconds, opts.requests),
      sampler: treeSampler(target.server.pid),
      signal: ctx.signal,
      serverExited: target.server.exited,
      onProgress: progress.update,
      atFloor: heap ? (p) => heap.atFloor({ requests: p.requests, baseline: p.fraction >= HEAP_BASELINE_AT }) : undefined,
    });
    progress.done();
    if (watching && run.stopReason === 'done') process.stderr.write('Heap: probing where allocations come from, then the end snapshot...\n');
    const heapResults = run.stopReason === 'done'
      ? await heap?.finish({ ...opts, target, callFor: (i) => calls[i % calls.length], requests: run.requests, signal: ctx.signal })
      : heap?.partial(`the run ended early (${run.stopReason}), so there was no end snapshot`);
    heap?.close();
    await endServer(target.server);
    results.stderrTail = heap ? withoutInspectorLines(target.server.stderrTail()) : target.server.stderrTail();
    const trend = memoryTrend(run.floors.map((f) => ({ requests: f.requests, bytes: f.bytes })));
    fillRun(results, run, target);
    fillMemory(results, run, trend);
    if (heapResults) results.heap = heapResults;
    const heapSignal = heapResults ? heapTrend(heapResults.series) : null;
    const { trend: deciding, decidedBy } = chooseSignal(trend, heapSignal);
    judge(results, run, deciding, opts.timeoutMs);
    if (heapResults) noteSignal(results, decidedBy, heapSignal);
  } finally {
    heap?.close();
    await endServer(target.server);
  }
}

/**
 * Blocks of ~1/48 of the run, by time and by count, whichever ends first (at least 250 ms or 100 requests),
 * sampled a few times each.
 */
export function blockTiming(durationSeconds?: number, requests?: number): { blockMs: number; sampleMs: number; blockRequests?: number } {
  const blockMs = durationSeconds ? Math.max(250, Math.round((durationSeconds * 1000) / 48)) : 500;
  const blockRequests = requests ? Math.max(100, Math.round(requests / 48)) : undefined;
  return { blockMs, blockRequests, sampleMs: Math.min(200, Math.max(20, Math.round(blockMs / 3))) };
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
  results.warnings.push(...testerWarnings(run.tester));
  results.connection = { unknownIds: stats.unknownIds, notifications: stats.notifications, serverRequests: stats.serverRequests, largestMessageBytes: stats.largestMessage };
  if (stats.sessions) results.sessions = { ...stats.sessions };
}

/**
 * What the tester says about itself. It set the pace when its event loop ran nearly a whole core (it could
 * send no faster), or when it worked harder than the server: with requests in flight and the server answering
 * at once, the busier side is the bottleneck. The 20% floor keeps a tester that is only sampling memory next
 * to a server waiting on slow work from being blamed. A lagging event loop alone does not mean that: on a
 * machine busy with other work both sides wait for a CPU, and that is said separately.
 */
export function testerWarnings(t: TesterLoad): string[] {
  const warnings: string[] = [];
  const loop = t.loopPercent ?? t.cpuPercent;
  const server = t.serverCpuPercent;
  if (loop > 90 || (server !== undefined && loop >= 20 && t.cpuPercent > server)) {
    const own = t.loopPercent === undefined ? `CPU ${t.cpuPercent}% of a core` : `event loop busy ${t.loopPercent}% of the time, CPU ${t.cpuPercent}% of a core`;
    warnings.push(`mcp-hammer itself was the busier side (${own}${server === undefined ? '' : `; the server ${server}%`}): `
      + 'the request rate is limited by the tester, not the server');
  }
  const waited = t.cpuWaitPercent !== undefined && t.cpuWaitPercent > 25;
  if (waited || t.loopDelayP99Ms > 50) {
    warnings.push(`mcp-hammer's event loop was held up (delay p99 ${t.loopDelayP99Ms} ms`
      + `${t.cpuWaitPercent === undefined ? '' : `, waiting for a CPU ${t.cpuWaitPercent}% of the time`}): `
      + (waited ? 'this machine is busy with other work, so the rate is lower and the latencies higher than the server alone would give'
        : 'the latencies include that delay'));
  }
  return warnings;
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
    firstHalfBytesPerRequest: round(trend.earlyBytesPerRequest, 1),
    secondHalfBytesPerRequest: round(trend.lateBytesPerRequest, 1),
    bytesPerMillionRequests: Math.round(trend.bytesPerRequest * 1e6),
    shape: trend.shape,
    noise: Math.round(trend.noise),
    detectableBytesPerRequest: Number.isFinite(trend.detectableBytesPerRequest) ? Math.round(trend.detectableBytesPerRequest) : null,
    warmupRequests: first?.requests ?? 0,
    levelsOffAt: trend.levelsOffAt,
    bytesPerSession: results.sessions?.requestsPerSession && Math.round(trend.bytesPerRequest * results.sessions.requestsPerSession),
    samples: run.samples.map(([s, r, b, rss]) => [round(s, 2), r, b, rss]),
    floors: run.floors.map((f) => [f.requests, f.bytes]),
  };
  if (!lastFloor && run.samples.length) {
    const s = run.samples.at(-1)!;
    Object.assign(results.memory, { end: s[2], endRss: s[3] });
  }
}

/**
 * Decide the verdict: interrupted, crash, hang, nothing worked, too short, then the test's own rule on the
 * trend (the memory test's leak rule unless another is given).
 */
export function judge(results: Results, run: HammerResult, trend: Trend | null, timeoutMs: number,
  decide: (trend: Trend, requestsPerSession?: number) => Verdict = leakVerdict): void {
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
  if (trend && trend.shape === 'unclear') {
    results.verdict = 'error';
    results.reasons.push(`cannot tell a leak from a heap still settling: memory grew ${formatBytes(Math.max(trend.growth, trend.end - trend.baseline))} over `
      + `${trend.measuredRequests.toLocaleString('en-US')} requests after warm-up, but with too few garbage collections or too uneven a climb to be sure; `
      + 'run longer (a longer --duration or more --requests)');
    return;
  }
  if (trend && trend.shape === 'too short') {
    results.verdict = 'error';
    results.reasons.push(`the run was too short to measure a trend (${trend.blocks - trend.warmupBlocks} blocks after warm-up); give a longer --duration or more --requests`);
    return;
  }
  const verdict: Verdict = trend ? decide(trend, results.sessions?.requestsPerSession) : { pass: true, reasons: [] };
  results.verdict = verdict.undecided ? 'error' : verdict.pass ? 'pass' : 'fail';
  results.reasons.push(...verdict.reasons);
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export type { Target };

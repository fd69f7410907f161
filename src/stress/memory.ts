// The memory leak test: start the server, hammer it with the same requests again and again while the
// memory of its tree is sampled, judge the trend after warm-up (judge/trend.ts), report.
import { callRecord, chooseLoad } from '../requests/calls.js';
import { hammer, type HammerResult } from '../load/closedloop.js';
import { treeSampler } from '../sampling/tree.js';
import { endServer } from '../server/process.js';
import { openTarget } from '../server/open.js';
import { heapWatch, withoutInspectorLines } from '../heap/watch.js';
import { memoryTrend, type Trend } from '../judge/trend.js';
import { leakVerdict } from '../judge/leak.js';
import { judgeRun } from '../judge/run.js';
import { chooseSignal, heapTrend, withSignal } from '../judge/signal.js';
import { loadPlan } from '../report/progress.js';
import { round } from '../format.js';
import type { MemoryResults } from '../results.js';
import type { Options, RunContext } from '../options.js';
import { assign, blockTiming, describeTarget, fillRun, HEAP_BASELINE_AT, runFacts, SIGNAL, trendFields } from './shared.js';

export async function memoryTest(opts: Options, ctx: RunContext, results: MemoryResults): Promise<void> {
  const heap = opts.heap ? heapWatch() : null;
  const target = await openTarget(opts.command, opts.serverArgs, { ...opts, signal: ctx.signal, ...heap?.spawn });
  try {
    describeTarget(results, target);
    const noHeap = await heap?.attach();
    if (noHeap) results.warnings.push(noHeap);
    const watching = heap && !noHeap;
    const calls = await chooseLoad(target, opts, results.warnings);
    results.calls = calls.map(callRecord);
    ctx.announce(results, loadPlan(opts, results));
    const progress = ctx.progress('memory');
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
    if (watching && run.stopReason === 'done') ctx.say('Heap: probing where allocations come from, then the end snapshot...');
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
    const judged = judgeRun(runFacts(run, results, opts.timeoutMs), deciding, (t) => leakVerdict(t, results.sessions?.requestsPerSession));
    if (heapResults && results.memory) results.memory.decidedBy = decidedBy;
    assign(results, heapResults ? withSignal(judged, decidedBy, heapSignal, Boolean(results.server.exit)) : judged);
  } finally {
    heap?.close();
    await endServer(target.server);
  }
}

function fillMemory(results: MemoryResults, run: HammerResult, trend: Trend): void {
  const first = run.floors[trend.warmupBlocks - 1] ?? run.floors[0];
  const lastFloor = run.floors.at(-1);
  const lastSample = run.samples.at(-1);
  results.memory = {
    signal: SIGNAL,
    baseline: trend.baseline,
    end: lastFloor ? trend.end : lastSample?.[2] ?? trend.end,
    baselineRss: first?.rss ?? 0,
    endRss: lastFloor?.rss ?? lastSample?.[3] ?? 0,
    ...trendFields(trend),
    warmupRequests: first?.requests ?? 0,
    levelsOffAt: trend.levelsOffAt,
    bytesPerSession: results.sessions?.requestsPerSession && Math.round(trend.bytesPerRequest * results.sessions.requestsPerSession),
    samples: run.samples.map(([s, r, b, rss]) => [round(s, 2), r, b, rss]),
    floors: run.floors.map((f) => [f.requests, f.bytes]),
  };
}

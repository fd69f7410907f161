// The memory leak test: start the server, hammer it with the same requests again and again while the
// memory of its tree is sampled, judge the trend after warm-up (judge/trend.ts), report.
import { callRecord, chooseLoad } from '../requests/calls.js';
import { finished, hammer, type Floor, type HammerResult } from '../load/closedloop.js';
import { treeSampler } from '../sampling/tree.js';
import { endServer } from '../server/process.js';
import { openTarget } from '../server/open.js';
import { heapWatch } from '../heap/watch.js';
import { memoryTrend, type Budgets, type Trend } from '../judge/trend.js';
import { lookAt, type LeakTarget } from '../judge/stopping.js';
import { leakVerdict } from '../judge/leak.js';
import { judgeRun } from '../judge/run.js';
import { chooseSignal, heapTrend, withSignal } from '../judge/signal.js';
import { withHandles } from '../judge/handles.js';
import { loadPlan } from '../report/progress.js';
import { round } from '../format.js';
import type { MemoryResults } from '../results.js';
import type { Options, RunContext } from '../options.js';
import {
  assign, blockTiming, describeTarget, fillRun, heapBaselineDue, leakTarget, looker, memoryBudgets, pointsOf, runFacts, runLength, SIGNAL, trendFields, withHandleLook,
} from './shared.js';
import { fillHandles, handleCounter } from './handles.js';

export async function memoryTest(opts: Options, ctx: RunContext, results: MemoryResults): Promise<void> {
  const heap = opts.heap ? heapWatch() : null;
  const target = await openTarget(opts.command, opts.serverArgs, { ...opts, signal: ctx.signal, ...heap?.spawn });
  try {
    describeTarget(results, target);
    const attached = await heap?.attach();
    results.warnings.push(...attached?.warnings ?? []);
    const watching = attached?.watching;
    const calls = await chooseLoad(target, opts, results.warnings);
    results.calls = calls.map(callRecord);
    ctx.announce(results, loadPlan(opts, results));
    const progress = ctx.progress('memory');
    const length = runLength(opts);
    const leak = leakTarget(opts);
    const budgets = memoryBudgets(opts);
    const run = await hammer({
      conn: target.conn,
      callFor: (i) => calls[i % calls.length],
      concurrency: opts.concurrency,
      maxRequests: length.maxRequests,
      maxSeconds: length.maxSeconds,
      timeoutMs: opts.timeoutMs,
      ...blockTiming(opts.durationSeconds, opts.requests),
      look: looker(length.open, (floors) => judgeFloors(floors, budgets, leak), 'request', heap ? () => heap.ready() : undefined),
      sampler: treeSampler(target.server.pid),
      signal: ctx.signal,
      serverExited: target.server.exited,
      onProgress: progress.update,
      atFloor: heap ? (p) => heap.atFloor({ requests: p.requests, baseline: heapBaselineDue(p) }) : undefined,
      handles: handleCounter(target.server),
    });
    progress.done();
    if (watching && finished(run.stopReason)) ctx.say('Heap: probing where allocations come from, then the end snapshot...');
    const heapResults = finished(run.stopReason)
      ? await heap?.finish({ ...opts, target, callFor: (i) => calls[i % calls.length], requests: run.requests, signal: ctx.signal })
      : heap?.partial(`the run ended early (${run.stopReason}), so there was no end snapshot`);
    heap?.close();
    await endServer(target.server);
    results.stderrTail = target.server.stderrTail();
    const trend = memoryTrend(run.floors.map((f) => ({ requests: f.requests, bytes: f.bytes, seconds: f.seconds })), budgets);
    fillRun(results, run, target);
    fillMemory(results, run, trend);
    if (heapResults) results.heap = heapResults;
    const heapSignal = heapResults ? heapTrend(heapResults.series) : null;
    const { trend: deciding, decidedBy } = chooseSignal(trend, heapSignal);
    results.stopReason = length.open && run.stopReason === 'duration' ? 'cap' : run.stopReason;
    const judged = judgeRun(runFacts(run, results, opts.timeoutMs), deciding,
      (t) => leakVerdict(t, leak, { durationSeconds: run.durationSeconds, requestsPerSecond: run.requestsPerSecond, setLength: !length.open }));
    if (heapResults && results.memory) results.memory.decidedBy = decidedBy;
    const handles = fillHandles(results, run.floors, target.server);
    assign(results, withHandles(heapResults ? withSignal(judged, decidedBy, heapSignal, Boolean(results.server.exit)) : judged, handles));
  } finally {
    heap?.close();
    await endServer(target.server);
  }
}

/** One look at the floors so far: the decision it suggests, and the smallest leak it rules out. */
function judgeFloors(floors: Floor[], budgets: Budgets, target: LeakTarget) {
  const trend = memoryTrend(pointsOf(floors), budgets);
  return { decision: withHandleLook(lookAt(trend, target), floors), ruledOut: trend.ruledOutBytesPerRequest };
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
    floors: run.floors.map((f) => [f.requests, f.bytes, round(f.seconds, 2)]),
  };
  const ruledOut = Number.isFinite(trend.ruledOutBytesPerRequest) ? Math.round(trend.ruledOutBytesPerRequest) : null;
  results.ruledOutBytesPerRequest = ruledOut;
  const perSession = results.sessions?.requestsPerSession;
  if (perSession) results.ruledOutBytesPerSession = ruledOut === null ? null : ruledOut * perSession;
}

// The memory leak test: start the server, hammer it with the same requests again and again while the
// memory of its tree is sampled, judge the trend after warm-up (judge/trend.ts, judge/leak.ts), report.
import { callRecord, chooseLoad } from '../requests/calls.js';
import { hammer, type Floor, type HammerResult } from '../load/closedloop.js';
import { treeSampler } from '../sampling/tree.js';
import { heapBaselineDue } from '../heap/watch.js';
import { memoryTrend, type Budgets, type Trend } from '../judge/trend.js';
import type { LeakTarget } from '../judge/stopping.js';
import { leakVerdict } from '../judge/leak.js';
import { heapPoints, heapTrend, lookAtEvidence } from '../judge/evidence.js';
import { loadPlan } from '../report/progress.js';
import { formatBytes, formatDuration, round } from '../format.js';
import type { MemoryResults } from '../results.js';
import type { Options } from '../options.js';
import type { RunContext } from './context.js';
import { heapAfterGc, PROCESS_EVIDENCE, trendFields } from './fill.js';
import { blockTiming, leakTarget, memoryBudgets, runLength } from './length.js';
import { looker, pointsOf, withHandleLook } from './look.js';
import { handleCounter } from './handles.js';
import { floorHooks, heapAfterLoad, runWithServer } from './lifecycle.js';
import { attributeFloors, attributeOn, attributionReady, clientLoad, clientsSection, factorsOf, sessionBoundsOf, withAttribution } from './clients.js';
import type { Attribution } from '../judge/attribute.js';
import { sessionBounds, type SessionBounds } from '../judge/reclaim.js';

export async function memoryTest(opts: Options, ctx: RunContext, results: MemoryResults): Promise<void> {
  await runWithServer<Trend>(opts, ctx, results, async (target, watchers) => {
    const { live, heap } = watchers;
    const calls = await chooseLoad(target, opts, results.warnings);
    results.calls = calls.map(callRecord);
    ctx.announce(results, loadPlan(opts, results));
    const progress = ctx.progress('memory');
    const length = runLength(opts);
    const leak = leakTarget(opts);
    const budgets = memoryBudgets(opts, watchers.runtime);
    const callFor = (i: number) => calls[i % calls.length];
    const timing = blockTiming(opts.durationSeconds, opts.requests);
    const clients = clientLoad(target.conn, calls, opts.clients);
    const bounds = () => sessionBoundsOf(target.conn, opts.sessionTimeoutSeconds);
    const watched = live !== null;
    const explained = attributionReady((floors) => attributeFloors(floors, calls, budgets, leak, watched));
    const run = await hammer({
      conn: target.conn,
      callFor: () => clients.deck.next(),
      counts: clients.counts,
      nextBlock: clients.nextBlock,
      concurrency: opts.concurrency,
      maxRequests: length.maxRequests,
      maxSeconds: length.maxSeconds,
      timeoutMs: opts.timeoutMs,
      ...timing,
      ...floorHooks(watchers, timing.blockMs, 0, heapBaselineDue),
      look: looker(length.open, (floors) => judgeFloors(floors, budgets, leak, watched, (f) => orNull(attributeFloors(f, calls, budgets, leak, watched)), bounds), 'request',
        (decision, floors) => (heap?.ready() ?? true) && (decision !== 'fail' || explained(floors))),
      sampler: treeSampler(target.server.pid),
      signal: ctx.signal,
      serverExited: target.server.exited,
      onProgress: progress.update,
      handles: handleCounter(target.server),
    });
    progress.done();
    const heapResults = await heapAfterLoad(heap, ctx, run.stopReason, { ...opts, target, callFor, requests: run.requests, signal: ctx.signal });
    const ran = { durationSeconds: run.durationSeconds, requestsPerSecond: run.requestsPerSecond, setLength: !length.open };
    const trend = memoryTrend(pointsOf(run.floors), budgets);
    const onHeap = live ? heapTrend(heapPoints(run.floors)) : undefined;
    // What each call and client behaviour cost, on the evidence that decided.
    const attributed = (t: Trend) => attributeOn(t === onHeap ? heapPoints(run.floors) : pointsOf(run.floors), t, factorsOf(run.floors, calls));
    return {
      load: run,
      floors: run.floors,
      heap: heapResults,
      trend,
      heapTrend: onHeap,
      rule: { main: (t) => t, decide: (t) => withAttribution(leakVerdict(t, leak, ran), attributed(t), bounds()), target: leak },
      fill: (t, deciding) => {
        fillMemory(results, run, t!, deciding ?? t!);
        if (live && onHeap) results.memory!.heapAfterGc = heapAfterGc(live, heapPoints(run.floors), onHeap, live.blockMs(timing.blockMs));
        const d = deciding ?? t!;
        results.clients = clientsSection(clients, target.conn, run.floors, attributed(d), d === onHeap ? 'heap after GC' : 'process memory');
      },
    };
  });
}

const orNull = (a: Attribution | null | 'nothing') => (a === 'nothing' ? null : a);

/**
 * One look at the floors so far: the decision it suggests, and the smallest leak it rules out. A leak
 * explained by abandoned sessions the server frees (or caps, or is declared to free) is no decision yet.
 */
function judgeFloors(floors: Floor[], budgets: Budgets, target: LeakTarget, watched: boolean,
  attributed: (floors: Floor[]) => Attribution | null, bounds: () => SessionBounds | null) {
  const process = memoryTrend(pointsOf(floors), budgets);
  const seen = lookAtEvidence(process, watched ? heapTrend(heapPoints(floors)) : null, target);
  const b = seen.decision === 'fail' ? bounds() : null;
  // Abandoned sessions alone explain the growth: no FAIL while the server may be freeing them.
  const span = (floors.at(-1)?.seconds ?? 0) - (floors[process.warmupBlocks]?.seconds ?? 0);
  const held = b && sessionBounds(attributed(floors), b, formatBytes, formatDuration, span);
  const decision = held && (held.bounded || held.abandoned === 'unknown') ? null : seen.decision;
  return { decision: withHandleLook(decision, floors), ruledOut: seen.ruledOut };
}

/** The memory section from the process memory's trend; what the run rules out from the trend that decided. */
function fillMemory(results: MemoryResults, run: HammerResult, trend: Trend, deciding: Trend): void {
  const first = run.floors[trend.warmupBlocks - 1] ?? run.floors[0];
  const lastFloor = run.floors.at(-1);
  const lastSample = run.samples.at(-1);
  results.memory = {
    evidence: PROCESS_EVIDENCE,
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
  const ruledOut = Number.isFinite(deciding.ruledOutBytesPerRequest) ? Math.round(deciding.ruledOutBytesPerRequest) : null;
  results.ruledOutBytesPerRequest = ruledOut;
  const perSession = results.sessions?.requestsPerSession;
  if (perSession) results.ruledOutBytesPerSession = ruledOut === null ? null : ruledOut * perSession;
}

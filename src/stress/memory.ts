// The memory leak test: start the server, hammer it with the same requests again and again while the
// memory of its tree is sampled, judge the trend after warm-up (judge/trend.ts, judge/leak.ts), report.
import { callRecord, chooseLoad } from '../requests/calls.js';
import { finished, hammer, type HammerResult } from '../load/closedloop.js';
import { treeSampler } from '../sampling/tree.js';
import { heapBaselineDue } from '../heap/watch.js';
import type { Trend } from '../judge/trend.js';
import { heapPoints } from '../judge/evidence.js';
import { loadPlan } from '../report/progress.js';
import { round } from '../format.js';
import type { MemoryResults } from '../results.js';
import type { Options } from '../options.js';
import type { RunContext } from './context.js';
import { heapAfterGc, PROCESS_EVIDENCE, trendFields } from './fill.js';
import { blockTiming, leakTarget, memoryBudgets, runLength } from './length.js';
import { looker, withHandleLook } from './look.js';
import { handleCounter } from './handles.js';
import { floorHooks, heapAfterLoad, runWithServer } from './lifecycle.js';
import { clientLoad, clientsSection, withLegacyClients } from './clients.js';
import { MixJudge } from './mixjudge.js';
import { tryEachBehaviour, type PhaseFinding } from './phases.js';

export async function memoryTest(opts: Options, ctx: RunContext, results: MemoryResults): Promise<void> {
  await runWithServer<Trend>(opts, ctx, results, async (target, watchers) => {
    const { live, heap } = watchers;
    const calls = await chooseLoad(target, opts, results.warnings);
    results.calls = calls.map(callRecord);
    const bothEras = await withLegacyClients(target, opts, results.warnings);
    ctx.announce(results, loadPlan({ ...opts, bothEras }, results));
    const progress = ctx.progress('memory');
    const length = runLength(opts);
    const leak = leakTarget(opts);
    const budgets = memoryBudgets(opts, watchers.runtime);
    const callFor = (i: number) => calls[i % calls.length];
    const timing = blockTiming(opts.durationSeconds, opts.requests);
    const clients = clientLoad(target.conn, calls, opts.clients);
    const mix = new MixJudge(calls, budgets, leak, live !== null, target.conn, opts.sessionTimeoutSeconds);
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
      look: looker(length.open, (floors) => {
        const seen = mix.look(floors);
        return { decision: withHandleLook(seen.decision, floors), ruledOut: seen.ruledOut };
      }, 'request', (decision, floors) => (heap?.ready() ?? true) && mix.ready(decision, floors)),
      sampler: treeSampler(target.server.pid),
      signal: ctx.signal,
      serverExited: target.server.exited,
      onProgress: progress.update,
      handles: handleCounter(target.server),
    });
    progress.done();
    const heapResults = await heapAfterLoad(heap, ctx, run.stopReason, { ...opts, target, callFor, requests: run.requests, signal: ctx.signal });
    const ran = { durationSeconds: run.durationSeconds, requestsPerSecond: run.requestsPerSecond, setLength: !length.open };
    const { process, heap: onHeap } = mix.trends(run.floors);
    // A leak under a client mix: each behaviour tried alone, to name the one that leaves memory behind.
    const suspects = finished(run.stopReason) && !ctx.signal.aborted ? mix.suspects(run.floors) : [];
    let phases: PhaseFinding[] = [];
    const phasesStart = performance.now();
    // The phases end by the cap counted from the start of the load, or a minute after it, whichever is later.
    const deadline = phasesStart + Math.max(60, opts.maxDurationSeconds - run.durationSeconds) * 1000;
    if (suspects.length) {
      ctx.say(`Leak found: trying each client behaviour alone (${suspects.length} of them), to see which leaves memory behind...`);
      phases = await tryEachBehaviour({
        conn: target.conn, base: opts.clients, calls, next: () => clients.deck.next(), counts: clients.counts, suspects,
        idleSeconds: mix.idle(), leastPerCall: budgets.bytesPerRequest, deadline,
        loop: {
          conn: target.conn, concurrency: opts.concurrency, timeoutMs: opts.timeoutMs, ...timing, ...floorHooks({ ...watchers, heap: null }, timing.blockMs, run.requests, () => false),
          sampler: treeSampler(target.server.pid), signal: ctx.signal, serverExited: target.server.exited,
        },
        bytesOf: (f) => f.heap ?? f.bytes,
      });
    }
    const phasesEnd = performance.now();
    return {
      load: run,
      floors: run.floors,
      heap: heapResults,
      trend: process,
      heapTrend: live ? onHeap : undefined,
      rule: mix.rule(run.floors, ran, phases),
      fill: (t, deciding) => {
        fillMemory(results, run, t!, deciding ?? t!);
        if (live && onHeap) results.memory!.heapAfterGc = heapAfterGc(live, heapPoints(run.floors), onHeap, live.blockMs(timing.blockMs));
        const d = deciding ?? t!;
        results.clients = clientsSection(clients, target.conn, run.floors, mix.attribution(run.floors, d), d === onHeap ? 'heap after GC' : 'process memory', opts.sessionTimeoutSeconds);
        if (results.clients && phases.length) {
          results.clients.alone = phases.map((p) => ({ ...p, keptBytes: Math.round(p.keptBytes), bytesPerEvent: Math.round(p.bytesPerEvent), stderr: Math.round(p.stderr) }));
          results.clients.aloneSeconds = round((phasesEnd - phasesStart) / 1000, 1);
        }
      },
    };
  });
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

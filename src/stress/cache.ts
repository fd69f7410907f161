// The cache flooding test: a short control phase repeats one argument set, then the flood sends argument
// values never used before in every request, while the server tree's memory is sampled as in the memory
// test. Memory that keeps growing with the number of new keys, and not with repeated requests, is an
// unbounded cache (see judge/cache.ts for the rule).
import { callRecord, chooseLoad } from '../requests/calls.js';
import { floodFor, planFlood, type Flood } from '../requests/flood.js';
import type { Connection } from '../transport/connection.js';
import { CannotRun, Interrupted } from '../errors.js';
import { finished, hammer, type Floor, type HammerResult } from '../load/closedloop.js';
import { classify, describeError } from '../transport/outcome.js';
import { treeSampler } from '../sampling/tree.js';
import type { Target } from '../server/open.js';
import { heapBaselineDue } from '../heap/watch.js';
import { cacheTrend, cacheVerdict, notReached, type CacheTrend } from '../judge/cache.js';
import { memoryTrend } from '../judge/trend.js';
import { heapCacheTrend, heapPoints, heapTrend, lookAtEvidence } from '../judge/evidence.js';
import { loadPlan } from '../report/progress.js';
import { round } from '../format.js';
import type { CacheResults } from '../results.js';
import type { Options } from '../options.js';
import type { RunContext } from './context.js';
import { heapAfterGc, PROCESS_EVIDENCE, trendFields } from './fill.js';
import { blockTiming, leakTarget, memoryBudgets, perKey, runLength } from './length.js';
import { looker, pointsOf, withHandleLook } from './look.js';
import { handleCounter } from './handles.js';
import { floorHooks, heapAfterLoad, runWithServer, type Watchers } from './lifecycle.js';

/**
 * The share of the run (time and requests) given to the control phase, the flood having the rest; in a run
 * that lasts until decided, the most it may take of --max-duration.
 */
const CONTROL_SHARE = 0.3;
/** The shortest control phase of a run that lasts until decided. */
const MIN_CONTROL_MS = 10_000;

export async function cacheTest(opts: Options, ctx: RunContext, results: CacheResults): Promise<void> {
  await runWithServer<CacheTrend>(opts, ctx, results, async (target, watchers) => {
    const { live, heap } = watchers;
    const { floods, firstKey } = await chooseFloods(opts, target, results, ctx.signal);
    ctx.announce(results, loadPlan(opts, results));
    const { control, flood } = await load(opts, ctx, target, floods, firstKey, watchers);
    const run = flood ?? control;
    // The trace goes on flooding: request i of the whole load is key i - control.requests of the flood.
    const callFor = (i: number) => floods[(i - control.requests) % floods.length].unique(firstKey + i - control.requests);
    const heapResults = await heapAfterLoad(heap, ctx, run.stopReason, { ...opts, target, callFor, requests: run.requests + (flood ? control.requests : 0), signal: ctx.signal });
    // Per new key rather than per request: the control phase's requests since the baseline added none.
    const since = heapResults?.baseline ? Math.max(heapResults.baseline.requests, control.requests) : 0;
    const keys = heapResults?.end ? Math.max(1, heapResults.end.requests - since) : 0;
    if (keys) {
      for (const g of heapResults!.growth) Object.assign(g, { perRequest: round(g.bytes / keys, 1), countPerRequest: round(g.count / keys, 3) });
    }
    const trend = flood ? cacheTrend(pointsOf(control.floors), pointsOf(flood.floors), memoryBudgets(opts, watchers.runtime)) : null;
    const rejected = flood && flood.requests ? flood.errorCount / flood.requests : 0;
    const ran = { durationSeconds: run.durationSeconds, requestsPerSecond: run.requestsPerSecond, setLength: !runLength(opts).open };
    return {
      load: run,
      // Handles over both phases, the flood's requests continuing the control phase's.
      floors: bothPhases(control, flood?.floors ?? []),
      heap: heapResults,
      trend,
      heapTrend: live ? (trend ? heapCacheTrend(heapPoints(control.floors), heapPoints(flood!.floors)) : null) : undefined,
      rule: {
        main: (t) => t.flood,
        // Repeated requests grow too when either evidence says so: the heap after GC's control phase may be too
        // short for a trend where the process memory's is not.
        decide: (t) => cacheVerdict({ ...t, plainLeak: t.plainLeak || Boolean(trend?.plainLeak) }, rejected, leakTarget(opts), ran),
        untrended: notReached(rejected),
        target: perKey(opts),
      },
      fill: (t, deciding) => {
        fillCache(results, control, flood, t, deciding ?? t);
        if (!live) return;
        // The flood's trend, per key, as the verdict reads it; the floors of both phases.
        const both = heapPoints(bothPhases(control, flood?.floors ?? []));
        const floodTrend = flood ? heapCacheTrend(heapPoints(control.floors), heapPoints(flood.floors))?.flood : undefined;
        results.memory!.heapAfterGc = heapAfterGc(live, both, floodTrend ?? heapTrend(both), live.blockMs(blockTiming(opts.durationSeconds).blockMs));
      },
    };
  });
}

/** The tools and properties to flood, checked against the server; the first counter the flood may use. */
async function chooseFloods(opts: Options, target: Target, results: CacheResults, signal: AbortSignal): Promise<{ floods: Flood[]; firstKey: number }> {
  // Arguments learnt from the server where generated ones fail; a call failing anyway is left to the trial floods.
  const calls = await chooseLoad(target, opts, results.warnings, { keepFailing: true });
  const plan = planFlood(calls, opts.vary);
  results.warnings.push(...plan.notices);
  // Counter 0 spells the control phase's own values for some schemas (a date-time, a pattern): skip it.
  let counter = 1;
  const floods = await tryFloods(target.conn, plan.floods, () => counter++, results.warnings, signal);
  results.calls = floods.map((f) => ({ ...callRecord(f.control), varied: f.varied }));
  results.varied = [...new Set(floods.flatMap((f) => f.varied))];
  return { floods, firstKey: counter };
}

/** The control phase, then (unless it ended the run) the flood, each with its share of time and requests. */
async function load(opts: Options, ctx: RunContext, target: Target, floods: Flood[], firstKey: number, watchers: Watchers)
  : Promise<{ control: HammerResult; flood?: HammerResult }> {
  const timing = blockTiming(opts.durationSeconds);
  const blockMs = timing.blockMs;
  const common = {
    conn: target.conn,
    concurrency: opts.concurrency,
    timeoutMs: opts.timeoutMs,
    ...timing,
    sampler: treeSampler(target.server.pid),
    signal: ctx.signal,
    serverExited: target.server.exited,
    handles: handleCounter(target.server),
  };
  const length = runLength(opts);
  const seconds = (part: number) => (length.maxSeconds === undefined ? undefined : length.maxSeconds * part);
  const budgets = memoryBudgets(opts, watchers.runtime);
  const leak = leakTarget(opts);
  const controlProgress = ctx.progress('control');
  const control = await hammer({
    ...common,
    callFor: (i) => floods[i % floods.length].control,
    maxRequests: opts.requests === undefined ? undefined : Math.max(1, Math.round(opts.requests * CONTROL_SHARE)),
    maxSeconds: seconds(CONTROL_SHARE),
    onProgress: controlProgress.update,
    // In a run that lasts until decided, the control phase ends once repeated requests are known to grow
    // or not (and has lasted long enough for the --heap baseline), or at once when a handle count leaks:
    // a fast server leaking a descriptor per request would otherwise reach its descriptor limit inside
    // the shortest control phase, and the flood's look goes on from a FAIL already established.
    look: looker(length.open, (floors) => {
      const seen = lookAtEvidence(memoryTrend(pointsOf(floors), budgets), watchers.live ? heapTrend(heapPoints(floors)) : null, leak);
      const long = (floors.at(-1)?.seconds ?? 0) * 1000 >= MIN_CONTROL_MS;
      const decision = withHandleLook(null, floors) ?? (long ? seen.decision : null);
      return { decision, ruledOut: seen.ruledOut };
    }),
    // A forced GC at every block boundary of both phases, so that their floors compare; --heap's baseline
    // snapshot inside the control phase, whose repeated requests leave nothing new behind.
    ...floorHooks(watchers, blockMs, 0, heapBaselineDue),
  });
  controlProgress.done();
  if (!finished(control.stopReason)) return { control };
  const floodProgress = ctx.progress('flood');
  const flood = await hammer({
    ...common,
    // Every request takes the next counter value, so no argument set is ever sent twice.
    callFor: (i) => floods[i % floods.length].unique(firstKey + i),
    maxRequests: opts.requests === undefined ? undefined : Math.max(1, opts.requests - control.requests),
    maxSeconds: length.open ? Math.max(1, (length.maxSeconds ?? 0) - control.durationSeconds) : seconds(1 - CONTROL_SHARE),
    onProgress: floodProgress.update,
    look: looker(length.open, (floors) => {
      const flooded = cacheTrend(pointsOf(control.floors), pointsOf(floors), budgets);
      const heapFlooded = watchers.live ? heapCacheTrend(heapPoints(control.floors), heapPoints(floors)) : null;
      const seen = lookAtEvidence(flooded.flood, heapFlooded?.flood ?? null, perKey(opts));
      return { decision: withHandleLook(seen.decision, bothPhases(control, floors)), ruledOut: seen.ruledOut };
    }, 'key'),
    ...floorHooks(watchers, blockMs, control.requests, () => true),
  });
  floodProgress.done();
  return { control, flood };
}

/** The floors of both phases as one series, the flood's requests and seconds continuing the control phase's. */
const bothPhases = (control: HammerResult, floodFloors: Floor[]): Floor[] => [
  ...control.floors, ...floodFloors.map((f) => ({ ...f, requests: f.requests + control.requests, seconds: f.seconds + control.durationSeconds })),
];

const PROBES = 3;

/**
 * A few flooded calls per tool before the load. A server that validates its arguments refuses generated
 * values, and then its cache is never reached: a tool refusing them all is tried again with one varied
 * property at a time, and left out if it refuses every one. A timeout or a closed connection ends the
 * probing; the load that follows judges it.
 */
async function tryFloods(conn: Connection, floods: Flood[], next: () => number, warnings: string[], signal: AbortSignal): Promise<Flood[]> {
  const kept: Flood[] = [];
  const refusals: string[] = [];
  const tryFlood = async (f: Flood): Promise<{ accepted: boolean; error?: string } | null> => {
    let ok = 0;
    let error: string | undefined;
    for (let i = 0; i < PROBES; i++) {
      if (signal.aborted) throw new Interrupted('interrupted before the load began');
      const call = f.unique(next());
      const outcome = await conn.request(call.method, call.paramsJson);
      if (outcome.kind !== 'answer') return null;
      if (classify(outcome) === null) ok++;
      else error ??= describeError(outcome);
    }
    return { accepted: ok * 2 > PROBES, error };
  };
  for (let n = 0; n < floods.length; n++) {
    const f = floods[n];
    const all = await tryFlood(f);
    if (all === null) return [...kept, ...floods.slice(n)];
    if (all.accepted) {
      kept.push(f);
      continue;
    }
    const accepted: string[] = [];
    for (const name of f.varied.length > 1 ? f.varied : []) {
      const one = await tryFlood(floodFor(f.call, [name]));
      if (one === null) return [...kept, f, ...floods.slice(n + 1)];
      if (one.accepted) accepted.push(name);
    }
    if (accepted.length) {
      kept.push(floodFor(f.call, accepted));
      warnings.push(`${f.name}: the server refused generated values for ${f.varied.filter((v) => !accepted.includes(v)).join(', ')} `
        + `(${all.error}), so only ${accepted.join(', ')} ${accepted.length > 1 ? 'are' : 'is'} varied`);
    } else if (floods.length > 1) {
      warnings.push(`${f.name} is left out: the server refused every generated value (${all.error}), so its cache cannot be reached this way`);
    }
    if (!accepted.length) refusals.push(`${f.name}: ${all.error}`);
  }
  if (!kept.length) {
    // Nothing left to flood: the load would measure only the error path.
    throw new CannotRun(`the server refused every generated value (${refusals.join('; ')}), so no cache can be reached; `
      + 'vary other arguments (--vary) or give accepted values for the rest (--args)');
  }
  return kept;
}

/** The memory test's fields, over the whole run, plus what the cache test adds. */
function fillCache(results: CacheResults, control: HammerResult, flood: HammerResult | undefined, trend: CacheTrend | null, deciding: CacheTrend | null): void {
  // One series over both phases: the flood's seconds and requests continue the control phase's.
  const samples = [
    ...control.samples,
    ...(flood?.samples ?? []).map(([s, r, b, rss]): [number, number, number, number] => [s + control.durationSeconds, r + control.requests, b, rss]),
  ];
  const floodFloors = flood?.floors ?? [];
  const lastFloor = floodFloors.at(-1) ?? control.floors.at(-1);
  const f = trend?.flood;
  results.memory = {
    evidence: PROCESS_EVIDENCE,
    baseline: trend?.before ?? control.floors.at(-1)?.bytes ?? 0,
    end: lastFloor?.bytes ?? samples.at(-1)?.[2] ?? 0,
    baselineRss: control.floors.at(-1)?.rss ?? 0,
    endRss: lastFloor?.rss ?? samples.at(-1)?.[3] ?? 0,
    ...trendFields(f),
    warmupRequests: control.requests + (floodFloors[(f?.warmupBlocks ?? 1) - 1]?.requests ?? 0),
    levelsOffAt: trend?.levelsOffAt && { bytes: trend.levelsOffAt.bytes, requests: control.requests + trend.levelsOffAt.keys },
    samples: samples.map(([s, r, b, rss]) => [round(s, 2), r, b, rss]),
    floors: bothPhases(control, floodFloors).map((fl) => [fl.requests, fl.bytes, round(fl.seconds, 2)]),
  };
  results.uniqueKeys = flood?.requests ?? 0;
  const d = deciding?.flood;
  results.ruledOutBytesPerKey = d && Number.isFinite(d.ruledOutBytesPerRequest) ? Math.round(d.ruledOutBytesPerRequest) : null;
  results.bytesPerKey = round(trend?.bytesPerKey ?? 0, 1);
  results.levelsOffAt = trend?.levelsOffAt;
  results.plainLeak = Boolean(trend?.plainLeak || deciding?.plainLeak);
  if (trend?.flood.shape === 'rising' && !results.plainLeak) results.projectedAtMillionKeys = Math.round(trend.projectedAtMillionKeys);
  if (control.errorCount > control.requests / 2) {
    results.warnings.push(`most calls of the control phase failed (${control.errorCount.toLocaleString('en-US')} of ${control.requests.toLocaleString('en-US')}): `
      + 'its repeated argument set measured the error path');
  }
  if (trend?.flood.shape === 'rising' && trend.control.shape === 'too short') {
    results.warnings.push('the control phase was too short to tell growth per new key from growth per request; run longer (--duration)');
  }
  results.control = {
    requests: control.requests,
    durationSeconds: round(control.durationSeconds, 2),
    bytesPerRequest: round(trend?.control.bytesPerRequest ?? 0, 1),
    shape: trend?.control.shape ?? 'too short',
    errors: control.errors,
  };
}

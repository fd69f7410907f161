// The rate limit test: a baseline at a low rate, then a fixed arrival rate doubled step by step until the
// server refuses calls as throttled (or the top rate is reached), a hold above the limit, and probes at a
// low rate until a call is let in again, honouring retry hints (see judge/rate.ts for the rule).
import { callName, callRecord, chooseLoad, type Call } from '../requests/calls.js';
import type { HammerResult } from '../load/closedloop.js';
import { countAsFailures, newTally, sendAtRate, shoot, type Clock, type Tally } from '../load/openloop.js';
import { meterTester } from '../load/testerload.js';
import { endServer } from '../server/process.js';
import { openTarget, type Target } from '../server/open.js';
import { burstBefore, fellBehind, rateVerdict, summarize, sustainedRate, type Shot } from '../judge/rate.js';
import { quantile } from '../judge/stats.js';
import { formatRate, round } from '../format.js';
import { ratePlan, stepLine } from '../report/progress.js';
import type { RateFindings, RateResults, StepPhase, StepSummary } from '../results.js';
import { CannotRun } from '../errors.js';
import type { Options } from '../options.js';
import type { RunContext } from './context.js';
import { describeTarget, fillRun } from './fill.js';

/** The baseline's rate, and the first rung of the ladder. */
const BASELINE_RATE = 10;
/** Without --max-rate the step-up stops here, so that a server with no limiter is judged in bounded time. */
export const DEFAULT_TOP_RATE = 4000;
const STEP_SECONDS = 1;
const HOLD_SECONDS = 2;
/** Waits between recovery probes: soon at first, then twice a second (the resolution of the recovery time). */
const PROBE_DELAYS_MS = [100, 200, 300, 500];

export async function ratelimitTest(opts: Options, ctx: RunContext, results: RateResults): Promise<void> {
  const target = await openTarget(opts.command, opts.serverArgs, { ...opts, signal: ctx.signal });
  try {
    describeTarget(results, target);
    // One trial call each, before the clock starts: a default tool that fails or is slow is left out.
    const calls = await chooseLoad(target, opts, results.warnings, { toolsFirst: true });
    results.calls = calls.map(callRecord);
    const top = opts.maxRate ?? DEFAULT_TOP_RATE;
    ctx.announce(results, ratePlan(Math.min(BASELINE_RATE, top), top));
    const meter = meterTester();
    const clock: Clock = { origin: performance.now(), now: () => performance.now() };
    const probe = await probeLimit(target, calls, top, opts, ctx, clock, results);
    const exit = probe.closed ? await Promise.race([target.server.exited, sleep(2000).then(() => undefined)]) : target.server.exit();
    await endServer(target.server);
    results.stderrTail = target.server.stderrTail();

    const elapsed = (clock.now() - clock.origin) / 1000;
    const { tally } = probe;
    const completed = tally.answered + (tally.errors.timeout?.count ?? 0) + (tally.errors.transport?.count ?? 0);
    const run: HammerResult = {
      requests: completed, ok: tally.ok, abandoned: 0, durationSeconds: elapsed, requestsPerSecond: elapsed > 0 ? completed / elapsed : 0,
      latency: tally.latency.summary(), errors: tally.errors, errorCount: completed - tally.ok - tally.throttled, refusals: {},
      samples: [], floors: [], stopReason: ctx.signal.aborted ? 'interrupted' : exit ? 'exited' : 'decided', exit,
      tester: meter.finish(elapsed),
    };
    fillRun(results, run, target);
    const findings = findingsOf(probe, top, opts, exit);
    Object.assign(results, findings, { throttled: tally.throttled, probes: probe.probes });
    warn(results, probe, findings);
    if (ctx.signal.aborted) {
      results.verdict = 'interrupted';
      results.reasons.push(`interrupted after ${completed.toLocaleString('en-US')} requests; partial results kept`);
      return;
    }
    const verdict = rateVerdict(findings);
    results.verdict = verdict.pass ? 'pass' : 'fail';
    results.reasons.push(...verdict.reasons);
  } finally {
    await endServer(target.server);
  }
}

interface Probe {
  tally: Tally;
  /** What was sent in each phase (baseline, steps, hold), and its summary. */
  phases: Shot[][];
  steps: StepSummary[];
  recoverySeconds: number | null;
  /** When the first call was let in again (ms since the run began). */
  recoveredAt: number | null;
  probes: number;
  closed: boolean;
}

/** Baseline, step-up, hold and recovery: the measuring, with one progress line per phase. */
async function probeLimit(target: Target, firstCalls: Call[], top: number, opts: Options, ctx: RunContext,
  clock: Clock, results: RateResults): Promise<Probe> {
  const tally = newTally();
  let calls = firstCalls;
  const p: Probe = { tally, phases: [], steps: [], recoverySeconds: null, recoveredAt: null, probes: 0, closed: false };
  let index = 0;
  const stopped = () => p.closed || ctx.signal.aborted;
  const phase = async (kind: StepPhase, rate: number, count: number): Promise<StepSummary> => {
    const shots = await sendAtRate({ conn: target.conn, calls, rate, count, firstIndex: index, tally, clock, signal: ctx.signal });
    index += shots.length;
    p.phases.push(shots);
    if (shots.some((s) => s.result === 'closed')) p.closed = true;
    const step = summarize(kind, rate, shots);
    p.steps.push(step);
    ctx.say(stepLine(kind, rate, step));
    return step;
  };

  const baseRate = Math.min(BASELINE_RATE, top);
  let base = await phase('baseline', baseRate, Math.min(60, Math.max(10, 3 * calls.length)));
  if (stopped()) return p;
  const baseline = p.phases[0];
  const broken = brokenCalls(calls, baseline, baseRate, results);
  if (broken.size) {
    countAsFailures(baseline.filter((s) => broken.has(s.call)), baseline, tally);
    base = p.steps[0] = summarize('baseline', baseRate, baseline);
    calls = calls.filter((_, i) => !broken.has(i));
    results.calls = calls.map(callRecord);
  }
  const baseP50 = quantile(baseline.filter((s) => s.result === 'ok').map((s) => s.latencyMs), 0.5);

  let rate = baseRate;
  let throttledAt = base.throttled > 0 ? baseRate : null;
  while (throttledAt === null && rate < top && !stopped()) {
    rate = Math.min(top, rate * 2);
    const step = await phase('step', rate, Math.max(1, Math.round(rate * STEP_SECONDS)));
    if (step.throttled > 0) throttledAt = rate;
    else if (step.unanswered > 0 || fellBehind(step, baseP50)) break;
  }
  if (throttledAt === null || stopped()) return p;

  await phase('hold', throttledAt, Math.max(20, Math.round(throttledAt * HOLD_SECONDS)));
  if (stopped()) return p;
  ctx.say(`  recovery: probing until a call is let in (up to ${opts.recoveryTimeoutMs / 1000} s)`);
  const floodEnd = p.phases.at(-1)!.at(-1)?.sentMs ?? clock.now() - clock.origin;
  await recover(p, target, calls, index, floodEnd, opts.recoveryTimeoutMs, ctx.signal, clock);
  ctx.say(p.recoverySeconds === null ? '  recovery: none' : `  recovery: let in after ${p.recoverySeconds.toFixed(1)} s`);
  return p;
}

/**
 * Leave out calls that failed every time at the baseline rate while others succeeded every time: they are
 * broken (wrong arguments, say), not limited, and their errors must not pass for throttling. The preflight
 * has left out such default tools already; this catches named ones, and those that failed only later.
 */
function brokenCalls(calls: Call[], baseline: Shot[], rate: number, results: RateResults): Set<number> {
  const by = calls.map((_, i) => baseline.filter((s) => s.call === i));
  const healthy = by.some((shots) => shots.length > 0 && shots.every((s) => s.result === 'ok'));
  const broken = by.map((shots) => shots.length > 0 && shots.every((s) => s.result !== 'ok'));
  const firstFailure = baseline.find((s) => s.result !== 'ok');
  if (!baseline.some((s) => s.result === 'ok')) {
    const said = firstFailure?.note ?? firstFailure?.throttle?.message ?? 'no answer';
    throw new CannotRun(`every call failed at ${rate} req/s, before any load; first error: ${said} (check --tool and --args)`);
  }
  const out = new Set<number>();
  if (!healthy) return out;
  for (const [i, call] of calls.entries()) {
    if (!broken[i]) continue;
    out.add(i);
    const first = by[i][0];
    results.warnings.push(`${callName(call)} failed every time at ${rate} req/s (${first.note ?? first.throttle?.message ?? first.result}), so it is left out`);
  }
  return out;
}

/** Probe one call at a time, slowly, never before a retry hint allows, until one is let in or time is up. */
async function recover(p: Probe, target: Target, calls: Call[], firstIndex: number, floodEnd: number, timeoutMs: number,
  signal: AbortSignal, clock: Clock): Promise<void> {
  const deadline = floodEnd + timeoutMs;
  for (let k = 0; !signal.aborted; k++) {
    const elapsed = () => clock.now() - clock.origin;
    const hinted = p.tally.last?.hint && p.tally.lastAt !== undefined ? p.tally.lastAt + p.tally.last.hint.seconds * 1000 : 0;
    const at = Math.max(elapsed() + PROBE_DELAYS_MS[Math.min(k, PROBE_DELAYS_MS.length - 1)], hinted);
    if (at > deadline) return;
    await sleep(at - elapsed(), signal);
    if (signal.aborted) return;
    p.probes++;
    const shot = await shoot(target.conn, calls, firstIndex + k, p.tally, clock).done;
    if (shot.result === 'ok') {
      p.recoveredAt = shot.sentMs + shot.latencyMs;
      p.recoverySeconds = Math.round((p.recoveredAt - floodEnd) / 10) / 100;
      return;
    }
    if (shot.result === 'closed') {
      p.closed = true;
      return;
    }
  }
}

function findingsOf(p: Probe, top: number, opts: Options, exit: RateFindings['exit']): RateFindings {
  const all = p.phases.flat();
  const okLatencies = (p.phases[0] ?? []).filter((s) => s.result === 'ok').map((s) => s.latencyMs);
  const refused = all.filter((s) => s.result === 'throttled');
  const meanwhile = p.phases.filter((_, i) => p.steps[i].throttled > 0).flat().filter((s) => s.result === 'ok');
  const hold = p.phases.find((_, i) => p.steps[i].phase === 'hold');
  const rate = hold?.length ? sustainedRate(hold) : null;
  const burst = burstBefore(all, rate);
  const window = rate === null && burst && p.recoveredAt !== null ? (p.recoveredAt - burst.fromMs) / 1000 : null;
  const t = p.tally.first;
  // The hint to report is the one the server gave last: that is what a client would be answered with.
  const hint = p.tally.last?.hint ?? t?.hint;
  return {
    topRatePerSecond: top,
    baselineLatencyMs: { p50: round3(quantile(okLatencies, 0.5)), p95: round3(quantile(okLatencies, 0.95)) },
    steps: p.steps,
    observedLimitPerSecond: rate !== null ? round1(rate) : window && burst ? round1(burst.burst / window) : null,
    burst: burst?.burst ?? null,
    windowSeconds: window === null ? null : round1(window),
    rejection: t ? {
      style: t.style, code: t.code, message: t.message,
      p95Ms: round3(quantile(refused.map((s) => s.latencyMs), 0.95)),
      acceptedP95Ms: round3(quantile(meanwhile.map((s) => s.latencyMs), 0.95)),
      retryHint: hint ?? null,
    } : null,
    recoverySeconds: p.recoverySeconds,
    recoveryTimeoutSeconds: opts.recoveryTimeoutMs / 1000,
    timeoutSeconds: opts.timeoutMs / 1000,
    ...(exit ? { exit } : {}),
  };
}

/** Things worth knowing that do not decide the verdict. */
function warn(results: RateResults, p: Probe, f: RateFindings): void {
  const other = Object.entries(p.tally.errors).filter(([cls]) => cls !== 'timeout' && cls !== 'transport');
  const count = other.reduce((n, [, e]) => n + e!.count, 0);
  if (count > 0) {
    results.warnings.push(`${count.toLocaleString('en-US')} call(s) failed with errors that do not look like throttling `
      + `(e.g. ${other[0][1]!.samples[0]}); a client cannot tell them from real failures`);
  }
  const held = f.steps.find((s) => s.phase === 'hold');
  if (held && held.throttled === 0) {
    results.warnings.push(`no call was refused while held at ${formatRate(held.offeredPerSecond)} req/s after the first refusals: the limit may depend on more than the rate`);
  }
  const lagging = f.steps.find((s) => s.sent >= 20 && s.sentPerSecond < 0.8 * s.offeredPerSecond);
  if (lagging) {
    results.warnings.push(`mcp-hammer could send only ${formatRate(lagging.sentPerSecond)} of the ${formatRate(lagging.offeredPerSecond)} req/s planned: the machine is too busy for that rate`);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const round1 = (v: number) => round(v, 1);
const round3 = (v: number) => round(v, 3);

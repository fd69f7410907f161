// The rate limit test's arithmetic and verdict: recorded shots in, step summaries, the limit, the burst and a
// pass/fail with plain-sentence reasons out. No clock, no I/O: the verdict is a function of the fields
// written to the results JSON, so a saved run is judged the same every time.
import type { RateFindings, StepPhase, StepSummary, Throttle } from '../results.js';
import { formatRate, formatWait, round } from '../format.js';
import type { Verdict } from './run.js';
import { quantile } from './stats.js';

export type ShotResult = 'ok' | 'throttled' | 'error' | 'timeout' | 'closed';

export interface Shot {
  /** Which of the calls was sent. */
  call: number;
  /** When it was sent, in ms since the run began. */
  sentMs: number;
  /** Until answered: undefined. */
  result?: ShotResult;
  /** Time to the answer in ms (NaN without an answer). */
  latencyMs: number;
  /** For a failure that is not throttling: what it said. */
  note?: string;
  /** For a throttled answer: what it said. */
  throttle?: Throttle;
}

/**
 * Rejections are fast when their p95 is within twice the normal p50, and never stricter than this. Nor
 * stricter than twice the p95 of calls let through at the same time: on a busy machine a stall of a few
 * hundred ms delays refusals and answers alike, and is not the limiter's doing (a server that is slow for
 * everyone under burst fails as queueing instead).
 */
export const FAST_REJECTION_MIN_MS = 50;
/**
 * A step fell behind (the server queued) when its median latency was over QUEUE_FACTOR times the normal
 * median and over it by QUEUE_MARGIN_MS: half the step waited, which a GC pause or a busy machine does not do.
 */
export const QUEUE_FACTOR = 5;
export const QUEUE_MARGIN_MS = 100;

export function summarize(phase: StepPhase, rate: number, shots: Shot[]): StepSummary {
  const answered = shots.filter((s) => !Number.isNaN(s.latencyMs));
  const latencies = answered.map((s) => s.latencyMs);
  const first = shots[0]?.sentMs ?? 0;
  let lastAnswer = first;
  for (const s of answered) lastAnswer = Math.max(lastAnswer, s.sentMs + s.latencyMs);
  const seconds = Math.max(shots.length / rate, (lastAnswer - first) / 1000) || 1e-9;
  const count = (r: Shot['result']) => shots.filter((s) => s.result === r).length;
  const ok = count('ok');
  return {
    phase,
    offeredPerSecond: rate,
    // n requests on schedule span (n - 1) / rate seconds; adding one interval makes that exactly the rate.
    sentPerSecond: round(shots.length / (((shots.at(-1)?.sentMs ?? first) - first) / 1000 + 1 / rate), 1),
    sent: shots.length,
    seconds: round(seconds, 3),
    answeredPerSecond: round(answered.length / seconds, 1),
    acceptedPerSecond: round(ok / seconds, 1),
    ok,
    throttled: count('throttled'),
    errors: count('error'),
    unanswered: shots.length - answered.length,
    latencyMs: { p50: round(quantile(latencies, 0.5), 3), p95: round(quantile(latencies, 0.95), 3), max: round(quantile(latencies, 1), 3) },
  };
}

/** True when the server answered so late that it was queueing rather than keeping up. */
export function fellBehind(step: StepSummary, baselineP50Ms: number): boolean {
  return step.throttled === 0 && step.latencyMs.p50 > queueBound(baselineP50Ms);
}

/** The median latency beyond which a step is queueing. */
export function queueBound(baselineP50Ms: number): number {
  return Math.max(QUEUE_FACTOR * baselineP50Ms, baselineP50Ms + QUEUE_MARGIN_MS);
}

/**
 * Calls let through per second while held above the limit, counted from the hold's first refusal (so that
 * a burst let through at its start does not count). Null when fewer than two got through: a window or
 * quota that stays shut, whose limit is a count (the burst), not a rate.
 */
export function sustainedRate(hold: Shot[]): number | null {
  const firstRefusal = hold.findIndex((s) => s.result === 'throttled');
  if (firstRefusal === -1) {
    // Not refused while held: what got through is what was offered.
    const span = (hold.at(-1)!.sentMs - hold[0].sentMs) / 1000;
    return span > 0 ? hold.filter((s) => s.result === 'ok').length / span : null;
  }
  const after = hold.slice(firstRefusal);
  const ok = after.filter((s) => s.result === 'ok').length;
  const span = (after.at(-1)!.sentMs - after[0].sentMs) / 1000;
  return ok >= 2 && span > 0 ? ok / span : null;
}

/**
 * The burst: the most calls let through in any stretch ending at the first refusal, less what the
 * sustained rate accounts for over that stretch. For a token bucket that is its size; for a window or quota
 * (no sustained rate), every call let through before it shut. Also when that stretch began (ms).
 */
export function burstBefore(shots: Shot[], ratePerSecond: number | null): { burst: number; fromMs: number } | null {
  const f = shots.findIndex((s) => s.result === 'throttled');
  if (f === -1) return null;
  const tf = shots[f].sentMs;
  let accepted = 0;
  let best = { burst: 0, fromMs: tf };
  for (let i = f - 1; i >= 0; i--) {
    if (shots[i].result !== 'ok') continue;
    accepted++;
    const excess = accepted - ((ratePerSecond ?? 0) * (tf - shots[i].sentMs)) / 1000;
    if (excess > best.burst) best = { burst: excess, fromMs: shots[i].sentMs };
  }
  return { burst: Math.round(best.burst), fromMs: best.fromMs };
}

export function rateVerdict(f: RateFindings): Verdict {
  const load = f.steps;
  const last = load.at(-1);
  const at = last ? ` at ${formatRate(last.offeredPerSecond)} req/s` : '';
  const fail = (...reasons: string[]): Verdict => ({ pass: false, reasons });
  if (f.exit) {
    const how = f.exit.signal ? `killed by ${f.exit.signal}` : `exit code ${f.exit.code}`;
    return fail(`server exited under burst (${how})${at}`);
  }
  const unanswered = load.reduce((n, s) => n + s.unanswered, 0);
  const sent = load.reduce((n, s) => n + s.sent, 0);
  const timeout = `within ${formatWait(f.timeoutSeconds)} (--timeout)`;
  if (!f.rejection) {
    const silent = load.find((s) => s.unanswered > 0);
    if (silent) return fail(`${silent.unanswered.toLocaleString('en-US')} requests got no answer ${timeout} at ${formatRate(silent.offeredPerSecond)} req/s, with no rejections`);
    // A server that answers later and later instead of refusing: whether it does so on purpose or because
    // it is saturated, a client sees the same thing, and no limiter.
    const queued = load.find((s) => fellBehind(s, f.baselineLatencyMs.p50));
    if (queued) {
      return fail(`no rate limiting detected up to ${formatRate(queued.offeredPerSecond)} req/s: the server queued requests instead of `
        + `refusing them (latency grew to ${Math.round(queued.latencyMs.p95).toLocaleString('en-US')} ms)`);
    }
    const top = Math.max(0, ...load.map((s) => s.offeredPerSecond));
    return fail(`no rate limiting detected up to ${formatRate(top)} req/s`);
  }
  const reasons: string[] = [];
  if (unanswered > 0) {
    reasons.push(`${unanswered.toLocaleString('en-US')} of ${sent.toLocaleString('en-US')} requests got no answer ${timeout} while throttled`);
  }
  const base = f.baselineLatencyMs.p50;
  const queued = load.find((s) => s.throttled > 0 && s.latencyMs.p50 > queueBound(base));
  if (queued) {
    reasons.push(`the server queues under burst: latency grew to ${Math.round(queued.latencyMs.p95).toLocaleString('en-US')} ms `
      + `at ${formatRate(queued.offeredPerSecond)} req/s, though it refused some calls`);
  }
  const allowed = Math.max(2 * base, FAST_REJECTION_MIN_MS);
  if (f.rejection.p95Ms > allowed && f.rejection.p95Ms > 2 * f.rejection.acceptedP95Ms) {
    reasons.push(`rejections are slow: p95 ${round(f.rejection.p95Ms, 1)} ms, over the ${round(allowed, 1)} ms allowed `
      + `(twice the normal p50 of ${round(base, 2)} ms, and at least ${FAST_REJECTION_MIN_MS} ms), while calls let through took p95 ${round(f.rejection.acceptedP95Ms, 1)} ms`);
  }
  if (f.recoverySeconds === null) {
    const hint = f.rejection.retryHint;
    const asked = hint && hint.seconds > f.recoveryTimeoutSeconds ? `; it asked to retry after ${formatWait(hint.seconds)}` : '';
    reasons.push(`limiter never recovered within ${formatWait(f.recoveryTimeoutSeconds)}${asked}`);
  }
  return { pass: reasons.length === 0, reasons };
}

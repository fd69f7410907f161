// The rate limit arithmetic and verdict alone: shots laid out on the test's own clock against a model
// limiter, and findings as a results JSON holds them, give the same answer every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { burstBefore, fellBehind, rateVerdict, summarize, sustainedRate, type Shot } from '../../src/judge/rate.js';
import type { RateFindings, StepSummary } from '../../src/results.js';
import { newResults } from '../../src/results.js';
import { render } from '../../src/report/text.js';

/** Shots sent on schedule through phases of [rate, count], answered by a limiter that says yes or no. */
function simulate(phases: [number, number][], allow: (ms: number) => boolean, gapMs = 5): Shot[][] {
  let t = 0;
  return phases.map(([rate, count]) => {
    const shots: Shot[] = [];
    for (let i = 0; i < count; i++) {
      const sentMs = t + (i * 1000) / rate;
      shots.push({ call: 0, sentMs, latencyMs: 0.5, result: allow(sentMs) ? 'ok' : 'throttled' });
    }
    t += (count * 1000) / rate + gapMs;
    return shots;
  });
}

function tokenBucket(rate: number, burst: number, neverRefill = false) {
  let tokens = burst;
  let last = 0;
  let empty = false;
  return (ms: number) => {
    if (!(neverRefill && empty)) tokens = Math.min(burst, tokens + ((ms - last) * rate) / 1000);
    last = ms;
    if (tokens >= 1) {
      tokens--;
      return true;
    }
    empty = true;
    return false;
  };
}

function slidingWindow(limit: number, windowMs: number) {
  const kept: number[] = [];
  return (ms: number) => {
    while (kept.length && kept[0] <= ms - windowMs) kept.shift();
    if (kept.length >= limit) return false;
    kept.push(ms);
    return true;
  };
}

const LADDER: [number, number][] = [[10, 10], [20, 20], [40, 40], [80, 80], [160, 160], [160, 320]];

test('a token bucket of 100/s, burst 20: the sustained rate and the bucket size come back out', () => {
  const phases = simulate(LADDER, tokenBucket(100, 20));
  const hold = phases.at(-1)!;
  const rate = sustainedRate(hold)!;
  assert.ok(Math.abs(rate - 100) < 5, `rate ${rate}`);
  const burst = burstBefore(phases.flat(), rate)!;
  assert.ok(Math.abs(burst.burst - 20) <= 3, `burst ${burst.burst}`);
  assert.equal(phases[3].filter((s) => s.result === 'throttled').length, 0, 'no refusals at 80/s');
  assert.ok(phases[4].some((s) => s.result === 'throttled'), 'refusals at 160/s');
});

test('a sliding window: no sustained rate, and the burst is every call it let through', () => {
  const phases = simulate(LADDER, slidingWindow(100, 60_000));
  assert.equal(sustainedRate(phases.at(-1)!), null);
  assert.equal(burstBefore(phases.flat(), null)!.burst, 100);
  assert.equal(burstBefore(phases.flat(), null)!.fromMs, 0, 'counted from the very first call');
});

test('a limiter that never resets looks the same as a window until recovery is probed', () => {
  const phases = simulate(LADDER, tokenBucket(100, 20, true));
  assert.equal(sustainedRate(phases.at(-1)!), null);
  assert.ok(burstBefore(phases.flat(), null)!.burst > 100);
});

test('step summaries: offered, sent, answered and let-in rates', () => {
  const [shots] = simulate([[100, 100]], (ms) => ms < 500);
  const s = summarize('step', 100, shots);
  assert.equal(s.sent, 100);
  assert.equal(s.ok, 50);
  assert.equal(s.throttled, 50);
  assert.equal(s.offeredPerSecond, 100);
  assert.equal(s.sentPerSecond, 100);
  assert.ok(Math.abs(s.acceptedPerSecond - 50) < 1);
  assert.equal(s.unanswered, 0);
});

const step = (offered: number, extra: Partial<StepSummary> = {}): StepSummary => ({
  phase: 'step', offeredPerSecond: offered, sentPerSecond: offered, sent: offered, seconds: 1, answeredPerSecond: offered,
  acceptedPerSecond: offered, ok: offered, throttled: 0, errors: 0, unanswered: 0, latencyMs: { p50: 0.5, p95: 1, max: 2 }, ...extra,
});

const passing: RateFindings = {
  topRatePerSecond: 4000,
  baselineLatencyMs: { p50: 0.5, p95: 1 },
  steps: [step(10, { phase: 'baseline' }), step(20), step(40), step(80), step(160, { ok: 120, throttled: 40, acceptedPerSecond: 120 }),
    step(160, { phase: 'hold', sent: 320, ok: 200, throttled: 120, acceptedPerSecond: 100 })],
  observedLimitPerSecond: 100,
  burst: 20,
  windowSeconds: null,
  rejection: { style: 'jsonrpc', code: -32000, message: 'Rate limit exceeded', p95Ms: 0.3, acceptedP95Ms: 0.4, retryHint: null },
  recoverySeconds: 0.1,
  recoveryTimeoutSeconds: 120,
  timeoutSeconds: 10,
};

test('the verdict: PASS when refused fast, everything answered, and let in again', () => {
  assert.deepEqual(rateVerdict(passing), { pass: true, reasons: [] });
});

test('the verdict: each failure in one sentence', () => {
  const reason = (f: Partial<RateFindings>) => rateVerdict({ ...passing, ...f }).reasons;
  assert.deepEqual(reason({ recoverySeconds: null }), ['limiter never recovered within 2 min']);
  assert.deepEqual(reason({ recoverySeconds: null, recoveryTimeoutSeconds: 5, rejection: { ...passing.rejection!, retryHint: { source: 'text', seconds: 3600 } } }),
    ['limiter never recovered within 5 s; it asked to retry after 60 min']);
  assert.match(reason({ rejection: { ...passing.rejection!, p95Ms: 250 } })[0], /^rejections are slow: p95 250 ms, over the 50 ms allowed/);
  // A slow tool earns slower rejections: twice its normal median.
  assert.deepEqual(reason({ baselineLatencyMs: { p50: 200, p95: 300 }, rejection: { ...passing.rejection!, p95Ms: 250 } }), []);
  // A stall of the whole machine delays the calls let through as much: not the limiter's doing.
  assert.deepEqual(reason({ rejection: { ...passing.rejection!, p95Ms: 250, acceptedP95Ms: 240 } }), []);
  const slowHold = [...passing.steps.slice(0, -1), { ...passing.steps.at(-1)!, latencyMs: { p50: 400, p95: 800, max: 900 } }];
  assert.deepEqual(reason({ steps: slowHold, rejection: { ...passing.rejection!, p95Ms: 800, acceptedP95Ms: 800 } }),
    ['the server queues under burst: latency grew to 800 ms at 160 req/s, though it refused some calls']);
  assert.deepEqual(reason({ exit: { code: 3, signal: null } }), ['server exited under burst (exit code 3) at 160 req/s']);
  const dropped = [...passing.steps.slice(0, -1), { ...passing.steps.at(-1)!, unanswered: 120 }];
  assert.match(reason({ steps: dropped })[0], /^120 of 630 requests got no answer within 10 s \(--timeout\) while throttled/);
});

test('the verdict without any refusal: no limiter, a queue, silence', () => {
  const none = { ...passing, rejection: null, observedLimitPerSecond: null, burst: null, recoverySeconds: null };
  const ladder = [10, 20, 40, 80, 160, 320, 640, 1280, 2560, 4000].map((r) => step(r));
  assert.deepEqual(rateVerdict({ ...none, steps: ladder }).reasons, ['no rate limiting detected up to 4,000 req/s']);
  const queued = [step(10), step(20), step(40), step(80), step(160, { latencyMs: { p50: 300, p95: 900, max: 1000 } })];
  assert.equal(fellBehind(queued[4], 0.5), true);
  assert.equal(fellBehind(step(160, { latencyMs: { p50: 40, p95: 300, max: 400 } }), 0.5), false, 'a stall in part of a step is not queueing');
  assert.deepEqual(rateVerdict({ ...none, steps: queued }).reasons,
    ['no rate limiting detected up to 160 req/s: the server queued requests instead of refusing them (latency grew to 900 ms)']);
  const silent = [step(10), step(20), step(40, { unanswered: 7 })];
  assert.deepEqual(rateVerdict({ ...none, steps: silent }).reasons, ['7 requests got no answer within 10 s (--timeout) at 40 req/s, with no rejections']);
});

test('the report renders from a results object alone', () => {
  const r = Object.assign(newResults({ test: 'ratelimit', command: 'node', serverArgs: [], example: false }),
    passing, { verdict: 'pass' as const, requests: 650, throttled: 160 });
  const text = render(r, 'results/ratelimit_x.json', false);
  assert.match(text, /^Rate Limit Test\nLimit: ~100 req\/s \(a burst of ~20 more got through first\)\n/);
  assert.match(text, /Rejections: JSON-RPC -32000 "Rate limit exceeded", p95 0\.3 ms, retry hint: none\nRecovery: 0\.1 s\n/);
  assert.match(text, /Offered→let in \(req\/s\): 10→10 {2}20→20 {2}40→40 {2}80→80 {2}160→120 {2}hold 160→100/);
  assert.match(text, /Status: PASS ✓\nDetails: results\/ratelimit_x.json$/);
  const windowed = render({ ...r, burst: 100, windowSeconds: 59.6, observedLimitPerSecond: 1.7, recoverySeconds: 53 }, null, false);
  assert.match(windowed, /Limit: 100 requests per ~60 s \(none let through while flooded: a window or quota\)/);
  const none = render({ ...r, rejection: null, verdict: 'fail', reasons: ['no rate limiting detected up to 160 req/s'] }, null, false);
  assert.match(none, /Limit: none found up to 160 req\/s/);
  assert.doesNotMatch(none, /Recovery/);
});

// The rate limit test end to end: the CLI against fixture servers whose limiters are known, as a user
// would run it. Each run is bounded by the ladder's top rate, --recovery-timeout and a hard limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runCli } from '../helpers/cli.js';
import { marker, processesWith } from '../helpers/processes.js';

async function ratelimit(settings: string[], extra: string[] = []) {
  const mark = marker();
  const run = await runCli(['ratelimit', '--recovery-timeout', '10s', ...extra, '--', process.execPath, fixture('ratelimit-server.js'), ...settings, mark],
    { limitMs: 90_000 });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.ok(run.results, `results JSON on stdout; stderr: ${run.stderr}`);
  return run;
}

const passed = (run: Awaited<ReturnType<typeof ratelimit>>) => {
  assert.equal(run.code, 0, `${run.results.reasons.join('; ')}\n${run.stderr}`);
  assert.equal(run.results.verdict, 'pass');
};

test('ratelimit: PASS for a token bucket of 100/s, burst 20, refusing with JSON-RPC -32000; limit within 30%', async () => {
  const run = await ratelimit(['bucket', 'rate=100', 'burst=20', 'reply=jsonrpc']);
  passed(run);
  const r = run.results;
  assert.ok(r.observedLimitPerSecond >= 70 && r.observedLimitPerSecond <= 130, `limit ${r.observedLimitPerSecond}`);
  assert.ok(r.burst >= 5 && r.burst <= 60, `burst ${r.burst}`);
  assert.equal(r.windowSeconds, null);
  assert.deepEqual({ style: r.rejection.style, code: r.rejection.code, hint: r.rejection.retryHint }, { style: 'jsonrpc', code: -32000, hint: null });
  assert.ok(r.recoverySeconds < 3, `recovery ${r.recoverySeconds}`);
  assert.ok(r.steps.every((s: any) => s.unanswered === 0));
  assert.deepEqual(r.steps.map((s: any) => s.phase).slice(0, 2), ['baseline', 'step']);
  assert.match(run.stderr, /Limit: ~\d+ req\/s/);
  assert.match(run.stderr, /Rejections: JSON-RPC -32000 ".*Rate limit exceeded", p95 [\d.]+ ms, retry hint: none/);
});

test('ratelimit: PASS for the same bucket answering isError "rate limited, retry after 1s", and the hint is honoured', async () => {
  const run = await ratelimit(['bucket', 'reply=text']);
  passed(run);
  const r = run.results;
  assert.equal(r.rejection.style, 'isError');
  assert.deepEqual(r.rejection.retryHint, { source: 'text', seconds: 1 });
  // The bucket would let a call in after 10 ms; waiting out the hint makes recovery about a second.
  assert.ok(r.recoverySeconds >= 0.95 && r.recoverySeconds < 3, `recovery ${r.recoverySeconds}`);
  assert.ok(r.observedLimitPerSecond >= 70 && r.observedLimitPerSecond <= 130, `limit ${r.observedLimitPerSecond}`);
});

test('ratelimit: PASS for a sliding window (100 calls per 12 s) answering with an error inside result; recovery near the window', async () => {
  const run = await ratelimit(['window', 'limit=100', 'window=12'], ['--recovery-timeout', '20s']);
  passed(run);
  const r = run.results;
  assert.equal(r.rejection.style, 'resultError');
  assert.equal(r.rejection.code, 'RATE_LIMITED');
  assert.ok(Math.abs(r.burst - 100) <= 2, `burst ${r.burst}`);
  // Let in again when the first call counted leaves the window: 12 s after it, give or take a probe.
  assert.ok(r.windowSeconds >= 11.5 && r.windowSeconds <= 13.5, `window ${r.windowSeconds}`);
  assert.ok(r.recoverySeconds > 1 && r.recoverySeconds < 12, `recovery ${r.recoverySeconds}`);
  assert.match(run.stderr, /Limit: 100 requests per ~1\d s/);
});

test('ratelimit: FAIL for a limiter that trips once and never resets', async () => {
  const started = Date.now();
  const run = await ratelimit(['trip-once'], ['--recovery-timeout', '3s']);
  assert.equal(run.code, 1, run.stderr);
  assert.deepEqual(run.results.reasons, ['limiter never recovered within 3 s']);
  assert.equal(run.results.recoverySeconds, null);
  assert.ok(run.results.probes >= 3);
  assert.ok(Date.now() - started < 30_000);
});

test('ratelimit: FAIL when there is no limiter, in bounded time at the default top rate', async () => {
  const started = Date.now();
  const run = await ratelimit(['none']);
  assert.equal(run.code, 1, run.stderr);
  // Up to the top rate, or up to where this (shared, noisy) machine made the server fall behind.
  assert.match(run.results.reasons[0], /^no rate limiting detected up to [\d,]+ req\/s/);
  assert.equal(run.results.rejection, null);
  assert.ok(run.results.steps.length <= 11);
  assert.ok(Date.now() - started < 45_000);
});

test('ratelimit: --max-rate caps the ladder', async () => {
  const run = await ratelimit(['none'], ['--max-rate', '50']);
  assert.equal(run.code, 1, run.stderr);
  assert.deepEqual(run.results.reasons, ['no rate limiting detected up to 50 req/s']);
  assert.deepEqual(run.results.steps.map((s: any) => s.offeredPerSecond), [10, 20, 40, 50]);
});

test('ratelimit: FAIL for a server that queues instead of refusing', async () => {
  const run = await ratelimit(['queue', 'rate=100']);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.results.reasons[0], /^no rate limiting detected up to \d+ req\/s: the server queued requests instead of refusing them \(latency grew to [\d,]+ ms\)$/);
});

test('ratelimit: FAIL when refusals are slow', async () => {
  const run = await ratelimit(['slow-reject', 'delay=300']);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.results.reasons[0], /^rejections are slow: p95 \d+(\.\d)? ms/);
  assert.ok(run.results.rejection.p95Ms >= 250);
});

test('ratelimit: FAIL when refused calls are never answered', async () => {
  const run = await ratelimit(['drop'], ['--timeout', '2s']);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.results.reasons[0], /^\d+ requests got no answer within 2 s \(--timeout\) at \d+ req\/s, with no rejections$/);
});

test('ratelimit: FAIL when the server exits under burst', async () => {
  const run = await ratelimit(['crash', 'rate=150']);
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.results.reasons[0], /^server exited under burst \(exit code 3\) at \d+ req\/s$/);
  assert.deepEqual(run.results.server.exit, { code: 3, signal: null });
});

test('ratelimit: a call that fails every time is left out, so its "limit" text does not pass for throttling', async () => {
  // By default the one trial call before the load leaves it out; named, the baseline does.
  for (const extra of [[], ['--tool', 'lookup', '--tool', 'page']]) {
    const run = await ratelimit(['none', 'strict=1'], ['--max-rate', '40', ...extra]);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(run.results.reasons, ['no rate limiting detected up to 40 req/s']);
    assert.deepEqual(run.results.calls.map((c: any) => c.tool), ['lookup']);
    assert.match(run.results.warnings.join('\n'), extra.length
      ? /page failed every time at 10 req\/s \(limit must be at most 10\), so it is left out/
      : /left out of the load, after one trial call each: page \(failed: limit must be at most 10\)/);
  }
});

test('ratelimit: exit 2 with the first error when every call fails before any load', async () => {
  const run = await ratelimit(['broken']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /^mcp-hammer: every call failed at 10 req\/s, before any load; first error: upstream unavailable \(check --tool and --args\)$/m);
  assert.doesNotMatch(run.stderr, /at .*\.js:\d+/, 'no stack trace');
});

test('ratelimit: the retry hint in an error\'s data inside result (seconds) is found, and the first probe waits it out', async () => {
  const run = await ratelimit(['window-data', 'limit=100', 'window=12'], ['--recovery-timeout', '20s']);
  passed(run);
  const r = run.results;
  assert.deepEqual({ style: r.rejection.style, code: r.rejection.code, field: r.rejection.retryHint?.field }, { style: 'resultError', code: -32000, field: 'result.error.data.retryAfter' });
  assert.ok(r.rejection.retryHint.seconds >= 1 && r.rejection.retryHint.seconds <= 12, `hint ${r.rejection.retryHint.seconds}`);
  // Without the hint, probing twice a second took 14 probes; with it, the first or second is let in.
  assert.ok(r.probes <= 3, `probes ${r.probes}`);
  assert.match(run.stderr, /retry hint: \d+(\.\d)? s \(result\.error\.data\.retryAfter\)/);
});

test('memory: a run whose calls a rate limiter refused says so (share, style, message) and how to test past it', async () => {
  const mark = marker();
  const run = await runCli(['memory', '--duration', '8s', '--', process.execPath, fixture('ratelimit-server.js'), 'window-data', 'limit=100', 'window=60', mark], { limitMs: 60_000 });
  assert.deepEqual(processesWith(mark), []);
  const r = run.results;
  assert.ok(r.throttling.share > 0.9, JSON.stringify(r.throttling));
  assert.deepEqual({ style: r.throttling.style, code: r.throttling.code, message: r.throttling.message, field: r.throttling.retryHint?.field },
    { style: 'resultError', code: -32000, message: 'Rate limit exceeded', field: 'result.error.data.retryAfter' });
  assert.ok(r.warnings.some((w: string) => /^the server's rate limiter refused 99\.\d\d% of calls \([\d,]+ of [\d,]+: error in result -32000 "Rate limit exceeded", retry after \d+ s\), so the run measured the refusal path.*raise the server's limit for the test/.test(w)),
    r.warnings.join('\n'));
  assert.ok(!r.warnings.some((w: string) => /^most calls failed/.test(w)), 'said once, as throttling');
  assert.match(run.stderr, /Throttled: 99\.\d\d% of calls \([\d,]+\) refused by the server's rate limiter: error in result -32000 "Rate limit exceeded", retry hint \d+ s \(result\.error\.data\.retryAfter\)/);
});

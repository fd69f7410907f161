// The client mix: --clients read as documented, and the verdict under a mix replayed on runs recorded from
// the planted fixtures and their tidy twins (test/recorded/mix-*.json): each FAIL names the behaviour that
// leaks, each tidy server PASSes saying what abandoned sessions hold for a while.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_MIX, POLITE, describeMix, parseMix, Varied, hadamard } from '../../src/clients/mix.js';
import { HELP } from '../../src/options.js';
import { CannotRun } from '../../src/errors.js';
import { MixJudge } from '../../src/stress/mixjudge.js';
import { conclude } from '../../src/judge/pipeline.js';
import { CPYTHON_BUDGETS } from '../../src/stress/length.js';
import { DEFAULT_BUDGETS } from '../../src/judge/trend.js';
import type { Connection } from '../../src/transport/connection.js';
import { recordedMixRun } from '../helpers/recorded.js';

test('--clients: nothing, "default" or "" give the default mix; "polite" the polite client; pairs change the default', () => {
  assert.deepEqual(parseMix(undefined), DEFAULT_MIX);
  assert.deepEqual(parseMix('default'), DEFAULT_MIX);
  assert.deepEqual(parseMix(''), DEFAULT_MIX);
  assert.deepEqual(parseMix('polite'), POLITE);
  assert.deepEqual(parseMix('abandon=100, cancel=0'), { ...DEFAULT_MIX, abandon: 100, cancel: 0 });
  assert.equal(describeMix(POLITE), 'polite');
  assert.equal(describeMix(parseMix(describeMix(DEFAULT_MIX))), describeMix(DEFAULT_MIX));
});

test('--clients: an unknown share, a share out of range or not a number is one line that says what to give', () => {
  assert.throws(() => parseMix('abandonn=5'), (e: Error) => e instanceof CannotRun && /unknown share 'abandonn'.*polite/.test(e.message));
  assert.throws(() => parseMix('abandon=101'), (e: Error) => e instanceof CannotRun && /abandon must be a number from 0 to 100/.test(e.message));
  assert.throws(() => parseMix('sessions=0'), (e: Error) => e instanceof CannotRun && /sessions must be a number from 1/.test(e.message));
  assert.throws(() => parseMix('cancel=lots'), (e: Error) => e instanceof CannotRun && /got 'lots'/.test(e.message));
});

test('--help states the default mix the code uses', () => {
  const said = HELP.replace(/\s+/g, ' ').match(/default: (sessions=[^;]+);/)?.[1].replace(/ /g, '');
  assert.equal(said, describeMix(DEFAULT_MIX));
});

test('the varied mix: each share high in 4 blocks of every 8, each pair of shares agreeing in 4, the mean the base', () => {
  for (let a = 1; a < 8; a++) {
    assert.equal([0, 1, 2, 3, 4, 5, 6, 7].filter((r) => hadamard(r, a) > 0).length, 4);
    for (let b = a + 1; b < 8; b++) assert.equal([0, 1, 2, 3, 4, 5, 6, 7].filter((r) => hadamard(r, a) === hadamard(r, b)).length, 4);
  }
  const varied = new Varied(DEFAULT_MIX);
  const blocks = Array.from({ length: 8 }, () => varied.next());
  assert.equal(blocks.reduce((s, m) => s + m.cancel, 0) / 8, DEFAULT_MIX.cancel);
  assert.ok(blocks.some((m) => m.cancel > DEFAULT_MIX.cancel) && blocks.some((m) => m.cancel < DEFAULT_MIX.cancel));
});

/** The verdict the run reached, replayed on its recording through the one verdict pipeline. */
function replay(name: string) {
  const run = recordedMixRun(name);
  const reclaim = run.reclaim;
  const conn = (reclaim ? { reclaim: () => reclaim } : {}) as unknown as Connection;
  const budgets = run.data.server.runtime === 'cpython' ? CPYTHON_BUDGETS : DEFAULT_BUDGETS;
  const mix = new MixJudge(run.calls, budgets, { bytesPerRequest: 1024 }, run.watched, conn, run.data.clients.declaredSessionTimeoutSeconds);
  const { process, heap } = mix.trends(run.floors);
  const facts = {
    requests: run.data.requests, ok: run.data.requests, errorCount: 0, errorSamples: [], stopReason: run.data.stopReason,
    timeoutMs: 30_000, durationSeconds: run.data.durationSeconds, requestsPerSecond: run.data.requestsPerSecond, stderrTail: [],
    overHttp: run.data.server.transport !== undefined,
  };
  const ran = { durationSeconds: run.data.durationSeconds, requestsPerSecond: run.data.requestsPerSecond, setLength: false };
  const { judged } = conclude(facts, { process, heap: run.watched ? heap : undefined }, mix.rule(run.floors, ran, run.alone), null, false);
  return { verdict: judged.verdict, text: judged.reasons.join('\n'), mix, run };
}

const leaks: [string, RegExp, string][] = [
  ['mix-node-sessions-kept', /explained by abandoned sessions: \d+(\.\d)? KB each/, 'a Node SDK server that frees a session only on DELETE'],
  ['mix-python-sessions-kept', /explained by abandoned sessions: \d+(\.\d)? KB each/, 'a Python SDK server with no idle timeout'],
  ['mix-python-both-eras', /explained by abandoned sessions: \d+(\.\d)? KB each/, 'the same, default options: 2025-era session clients beside 2026-07-28 ones'],
  ['mix-node-delete-leak', /explained by sessions ended with DELETE: \d+(\.\d)? KB each/, 'a DELETE that skips part of the cleanup'],
  ['mix-node-stream-leak', /explained by dropped event streams: \d+(\.\d)? KB each/, 'a listener kept per dropped GET stream'],
  ['mix-modern-listen-leak', /explained by dropped event streams: \d+(\.\d)? KB each/, 'state kept per dropped subscriptions/listen stream (2026-07-28)'],
  ['mix-node-cancel-leak', /explained by cancelled calls: \d+(\.\d)? KB each/, 'state kept per cancelled call'],
  ['mix-node-hangup-leak', /requests hung up on: \d+(\.\d)? KB each/, "cleanup hung on the response's 'finish'"],
  ['mix-node-refused-leak', /explained by refused requests: \d+(\.\d)? KB each/, 'a session allocated for a refused request'],
  ['mix-stdio-cancel-leak', /explained by cancelled calls: \d+(\.\d)? KB each/, 'state kept per cancelled call over stdio'],
];

for (const [name, named, what] of leaks) {
  test(`recorded mix run ${name}: FAIL naming the behaviour (${what})`, () => {
    const { verdict, text } = replay(name);
    assert.equal(verdict, 'fail', text);
    assert.match(text, named);
  });
}

test('recorded mix run mix-server-everything: the reference server FAILs, its calls keeping memory (its event store) and its abandoned sessions never freed, each with its cost; the rest cleared', () => {
  const { verdict, text } = replay('mix-server-everything');
  assert.equal(verdict, 'fail', text);
  assert.match(text, /explained by calls: [\d.]+ KB each \([\d,]+ made alone kept [\d.]+ MB\) and abandoned sessions: [\d.]+ KB each/);
  assert.match(text, /cleared when tried alone: .*dropped event streams/);
  assert.match(text, /abandoned sessions are not freed/);
});

test('recorded mix runs: behaviours that left nothing behind when tried alone are cleared by name', () => {
  const { text } = replay('mix-node-cancel-leak');
  assert.match(text, /cleared when tried alone: .*abandoned sessions/);
  assert.doesNotMatch(text, /explained by [^;]*abandoned sessions/);
});

test('recorded mix runs: sessions never freed come with what to do', () => {
  for (const name of ['mix-node-sessions-kept', 'mix-python-sessions-kept']) {
    assert.match(replay(name).text, /abandoned sessions are not freed .*idle timeout.*--session-timeout/);
  }
});

const tidy: [string, string][] = [
  ['mix-node-tidy', 'a Node SDK server that frees abandoned sessions after an idle time'],
  ['mix-node-no-delete', 'one that refuses DELETE (405)'],
  ['mix-node-no-get-stream', 'one without a GET stream (405)'],
];

for (const [name, what] of tidy) {
  test(`recorded mix run ${name}: PASS with the memory abandoned sessions hold for a while said (${what})`, () => {
    const { verdict, text } = replay(name);
    assert.equal(verdict, 'pass', text);
    assert.match(text, /abandoned sessions hold \d+(\.\d)? KB each until the server frees them/);
  });
}

for (const name of ['mix-stdio-cancel-tidy', 'mix-modern-clean', 'mix-sse-clean']) {
  test(`recorded mix run ${name}: PASS, ruling out a leak per behaviour at the rate it happened`, () => {
    const { verdict, text } = replay(name);
    assert.equal(verdict, 'pass', text);
    assert.match(text, /no leak of 1\.0 KB\/request, .*16\.0 KB per .*cancelled call/);
  });
}

test('a recorded mix run replays to the verdict it reached live', () => {
  for (const [name] of [...leaks, ...tidy]) {
    const { verdict, run } = replay(name);
    assert.equal(verdict, run.data.verdict, name);
  }
});

test('recorded mix run mix-python-sdk-timeout-declared: the SDK\'s 30-minute idle timeout declared, abandoned sessions are bounded: PASS with the memory they hold at this rate', () => {
  const { verdict, text } = replay('mix-python-sdk-timeout-declared');
  assert.equal(verdict, 'pass', text);
  assert.match(text, /abandoned sessions \([\d.]+ KB each, tried alone\), which the server frees after 30 min idle as declared with --session-timeout \(not verified by this run\): at this run's [\d,]+ abandoned a minute they hold up to [\d.]+ [MG]B/);
  assert.doesNotMatch(text, /calls to echo/);
});

test('a user\'s declared idle timeout makes abandoned sessions bounded, said as not verified', () => {
  const run = recordedMixRun('mix-node-sessions-kept');
  const conn = { reclaim: () => run.reclaim } as unknown as Connection;
  const mix = new MixJudge(run.calls, DEFAULT_BUDGETS, { bytesPerRequest: 1024 }, run.watched, conn, 1800);
  const target = mix.target(run.floors);
  assert.ok(!target.perEvent?.some((e) => e.unit === 'abandoned session'), 'abandoned sessions declared freed are not a per-event target');
  const bounds = mix.bounds();
  assert.equal(bounds?.declaredSeconds, 1800);
});

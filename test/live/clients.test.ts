// The default client mix end to end, once per transport and rule: a planted server FAILs naming the
// behaviour that leaks, its tidy twin PASSes. Node SDK servers over Streamable HTTP (sessions freed only on
// DELETE, and freed after an idle time), over stdio (state kept per cancelled call, and its twin), a
// 2026-07-28 server that keeps state per dropped subscriptions/listen stream, and a Python SDK server that
// keeps every abandoned session. The attribution rules themselves, the other planted
// shapes and a declared idle timeout (--session-timeout) are replayed on recorded runs in the fast tier
// (test/unit/mix.test.ts); the bench's verdict cases run every shape live.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fixture, runCli } from '../helpers/cli.js';
import { freePort, marker, processesWith } from '../helpers/processes.js';
import { fixturePython, repoRoot } from '../fixtures/python/venv.js';

const why = (run: { results?: any; stderr: string }) => `${run.results?.reasons?.join('; ')}\n${run.stderr}`;

/** The memory test with default options on a server mcp-hammer starts and reaches over HTTP on a free port. */
async function overHttp(server: (port: number) => string[], extra: string[] = []) {
  const port = await freePort();
  const mark = marker();
  const run = await runCli(['memory', '--url', `http://127.0.0.1:${port}/mcp`, ...extra, '--', ...server(port), mark], { limitMs: 420_000 });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.ok(run.results, `results JSON on stdout; stderr: ${run.stderr}`);
  return run;
}

const node = (mode: string) => (port: number) => [process.execPath, fixture('http-server.js'), mode, `port=${port}`];
const python = (mode: string) => (port: number) => [fixturePython(), join(repoRoot(), 'test', 'fixtures', 'python', 'http_server.py'), mode, `port=${port}`];

test('clients: a Node SDK server that frees sessions only on DELETE FAILs, naming abandoned sessions and their cost', async () => {
  const run = await overHttp(node('sessions'));
  assert.equal(run.code, 1, why(run));
  assert.match(run.results.reasons.join('\n'), /explained by abandoned sessions: [\d.]+ KB each/);
  assert.match(run.results.reasons.join('\n'), /idle timeout/);
  const c = run.results.clients;
  assert.ok(c.events.abandoned > 0 && c.events.deleted > 0 && c.events.dropped > 0 && c.events.cancelled > 0 && c.events.hungUp > 0 && c.events.refused > 0, JSON.stringify(c.events));
  assert.equal(c.alone.find((p: any) => p.leaks)?.name, 'abandoned');
  assert.ok(c.reclaim.held > 0 && c.reclaim.freed === 0, JSON.stringify(c.reclaim));
  assert.match(run.stderr, /Tried alone/);
});

test('clients: its tidy twin (idle sessions freed after 1 s) PASSes, saying what abandoned sessions hold for a while', async () => {
  const run = await overHttp(node('tidy'));
  assert.equal(run.code, 0, why(run));
  assert.match(run.results.reasons.join('\n'), /abandoned sessions hold [\d.]+ KB each until the server frees them/);
  assert.ok(run.results.clients.reclaim.freed > 0);
  assert.equal(run.results.clients.getStream, 'offered');
});

test('clients: over stdio, a server keeping state per cancelled call FAILs naming cancelled calls; its twin PASSes', async () => {
  const [leak, tidy] = [await runCli(['memory', '--', process.execPath, fixture('memory-server.js'), 'cancel-leak'], { limitMs: 360_000 }),
    await runCli(['memory', '--', process.execPath, fixture('memory-server.js'), 'cancel-tidy'], { limitMs: 360_000 })];
  assert.equal(leak.code, 1, why(leak));
  assert.match(leak.results.reasons.join('\n'), /cancelled calls: [\d.]+ KB each/);
  assert.equal(tidy.code, 0, why(tidy));
  assert.ok(tidy.results.clients.events.cancelled > 0);
});

test('clients: in 2026-07-28, a server keeping state per dropped subscriptions/listen stream FAILs naming dropped streams', async () => {
  const run = await overHttp((port) => [process.execPath, fixture('modern-server.js'), 'listen-leak', 'transport=http', 'era=modern-only', `port=${port}`]);
  assert.equal(run.code, 1, why(run));
  assert.match(run.results.reasons.join('\n'), /explained by dropped event streams: [\d.]+ KB each/);
  assert.equal(run.results.clients.streamKind, 'subscriptions/listen');
  assert.match(run.stderr, /subscriptions\/listen streams \([\d,]+ dropped\)/);
});

test('clients: a Python SDK server with no idle timeout, which serves both eras, meets 2025-era session clients beside 2026-07-28 ones and FAILs naming abandoned sessions', async () => {
  const run = await overHttp(python('kept'));
  assert.equal(run.code, 1, why(run));
  assert.match(run.results.reasons.join('\n'), /explained by abandoned sessions: [\d.]+ KB each/);
  assert.equal(run.results.server.runtime, 'cpython');
  assert.equal(run.results.server.era, 'modern');
  const [legacy, modern] = run.results.clients.eras;
  assert.ok(legacy.era === 'legacy' && legacy.events.abandoned > 0 && modern.era === 'modern' && modern.events.opened === 0, JSON.stringify(run.results.clients.eras));
  assert.ok(!run.results.warnings.some((w: string) => /2025-era clients .* not tested/.test(w)), run.results.warnings.join('\n'));
  assert.match(run.stderr, /Clients, 2025 era \(sessions\): .*Clients, 2026-07-28: /s);
});

test('clients: --clients polite makes one session and nothing else', async () => {
  const run = await overHttp(node('sessions'), ['--clients', 'polite']);
  assert.equal(run.code, 0, why(run));
  assert.equal(run.results.clients?.mix ?? 'polite', 'polite');
  assert.ok(!run.results.clients?.events?.abandoned);
});

// The three tests end to end on servers that speak only MCP 2026-07-28 (the v2 SDK with legacy: 'reject'),
// over stdio and Streamable HTTP, with default options (each run lasts until decided): the verdicts must be
// those of the same behaviours in the 2025 era, and the results must name the revision. The v2 SDK's HTTP
// handler builds a server per request (~100-250 calls/s here), so over HTTP the leaks are made large per call,
// and (as in http.test.ts) the server runs with a predictable GC schedule, with which a clean one settles
// within seconds instead of climbing for most of the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runCli } from '../helpers/cli.js';
import { freePort, marker, processesWith } from '../helpers/processes.js';
import { join } from 'node:path';
import { fixturePython, repoRoot } from '../fixtures/python/venv.js';

const SERVER = fixture('modern-server.js');

/** A run against the modern-only fixture; over HTTP mcp-hammer starts it on a port chosen beforehand. */
async function modern(testName: string, http: boolean, settings: string[], extra: string[] = []) {
  const mark = marker();
  const port = http ? await freePort() : 0;
  const where = http ? ['--url', `http://127.0.0.1:${port}/mcp`] : [];
  const server = [SERVER, ...settings, 'era=modern-only', ...(http ? ['transport=http', `port=${port}`] : []), mark];
  const node = http ? [process.execPath, '--predictable-gc-schedule'] : [process.execPath];
  const run = await runCli([testName, ...where, ...extra, '--', ...node, ...server], { limitMs: 400_000 });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.ok(run.results, `results JSON on stdout; stderr: ${run.stderr}`);
  assert.equal(run.results.server.protocolVersion, '2026-07-28');
  assert.equal(run.results.server.era, 'modern');
  assert.match(run.stderr, /\(MCP 2026-07-28, stateless\): calling/);
  return run;
}

const why = (run: { results?: any; stderr: string }) => `${run.results?.reasons?.join('; ')}\n${run.stderr}`;

for (const http of [false, true]) {
  const over = http ? 'HTTP' : 'stdio';

  test(`modern (${over}): memory PASS for a clean server`, async () => {
    const run = await modern('memory', http, ['clean']);
    assert.equal(run.code, 0, why(run));
    assert.deepEqual(run.results.errors, {});
    assert.deepEqual(run.results.calls.map((c: any) => c.tool), ['echo']);
    if (http) assert.equal(run.results.sessions, undefined, 'no sessions in 2026-07-28');
  });

  test(`modern (${over}): memory FAIL for a server keeping memory per call`, async () => {
    // One polite client: the mix's own phases after a FAIL are proved in clients.test.ts.
    const run = await modern('memory', http, ['leak', `kb=${http ? 128 : 4}`], ['--clients', 'polite']);
    assert.equal(run.code, 1, why(run));
    assert.match(run.results.reasons[0], /grows with every request/);
  });

  test(`modern (${over}): cache FAIL for a memo that never forgets a key`, async () => {
    // Values large next to the Map's own steps of growth, so that memory climbs steadily with the keys.
    const run = await modern('cache', http, ['cache', `kb=${http ? 256 : 16}`]);
    assert.equal(run.code, 1, why(run));
    assert.equal(run.results.reasons[0], 'unbounded cache: memory grows with every new argument value');
    assert.deepEqual(run.results.varied, ['key']);
  });

  test(`modern (${over}): ratelimit PASS for a token bucket refusing with JSON-RPC -32000`, async () => {
    // Over HTTP the bucket is smaller: the v2 SDK's handler cannot serve the rates that trip 100/s in time.
    const run = await modern('ratelimit', http, ['ratelimit', ...(http ? ['rate=10', 'burst=5'] : [])], ['--recovery-timeout', '10s']);
    assert.equal(run.code, 0, why(run));
    assert.deepEqual({ style: run.results.rejection.style, code: run.results.rejection.code }, { style: 'jsonrpc', code: -32000 });
    assert.ok(run.results.recoverySeconds < 3, `recovery ${run.results.recoverySeconds}`);
  });
}

test('modern (stdio): a Python mcp 2.x server, dual-era, is tested in 2026-07-28 by default, and passes clean', async () => {
  const python = fixturePython(); // makes .venv-fixtures on first use
  const mark = marker();
  const run = await runCli(['memory', '--', python, join(repoRoot(), 'test', 'fixtures', 'python', 'memory_server.py'), 'clean', mark], { limitMs: 400_000 });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.ok(run.results, run.stderr);
  assert.deepEqual([run.results.server.protocolVersion, run.results.server.era, run.results.server.name], ['2026-07-28', 'modern', 'python-fixture-clean']);
  assert.equal(run.code, 0, why(run));
  assert.deepEqual(run.results.errors, {});
});

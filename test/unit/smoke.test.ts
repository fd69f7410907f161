// One short live run per transport and era, to show the pieces connect: the CLI starts a fixture server,
// negotiates, loads it for a few thousand requests and writes its results. The verdict is not the point
// (a run this short may be too short to decide, exit 2); the connection is: requests answered, no errors,
// the revision spoken, no process left behind. The judged runs are in the live tier.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runCli, type CliRun } from '../helpers/cli.js';
import { freePort, marker, processesWith } from '../helpers/processes.js';

const REQUESTS = 3000;

async function smoke(args: string[], server: string[]): Promise<CliRun> {
  const mark = marker();
  const run = await runCli(['memory', '--requests', String(REQUESTS), ...args, '--', ...server, mark], { limitMs: 60_000 });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.ok(run.results, `results JSON on stdout; stderr: ${run.stderr}`);
  assert.ok([0, 1, 2].includes(run.code!), run.stderr);
  assert.ok(run.results.requests >= REQUESTS, `${run.results.requests} requests`);
  assert.deepEqual(run.results.errors, {}, run.stderr);
  assert.ok(run.results.memory.samples.length > 0, 'the server was measured');
  assert.match(run.stderr, /^Memory Test \(/m);
  return run;
}

test('smoke: stdio, 2025 (SDK v1 server)', async () => {
  const run = await smoke([], [process.execPath, fixture('memory-server.js'), 'clean']);
  assert.equal(run.results.server.era, 'legacy');
});

test('smoke: stdio, 2026-07-28 (SDK v2 server, modern only)', async () => {
  const run = await smoke([], [process.execPath, fixture('modern-server.js'), 'clean', 'era=modern-only']);
  assert.equal(run.results.server.protocolVersion, '2026-07-28');
});

test('smoke: Streamable HTTP, 2025, with sessions', async () => {
  const port = await freePort();
  const run = await smoke(['--url', `http://127.0.0.1:${port}/mcp`, '--requests-per-session', '100'],
    [process.execPath, fixture('http-server.js'), 'sessions', `port=${port}`]);
  assert.equal(run.results.server.transport, 'streamable-http');
  assert.equal(run.results.server.era, 'legacy');
  assert.ok(run.results.sessions.opened >= REQUESTS / 100, JSON.stringify(run.results.sessions));
});

test('smoke: Streamable HTTP, 2026-07-28', async () => {
  const port = await freePort();
  const run = await smoke(['--url', `http://127.0.0.1:${port}/mcp`],
    [process.execPath, fixture('modern-server.js'), 'clean', 'transport=http', 'era=modern-only', `port=${port}`]);
  assert.equal(run.results.server.protocolVersion, '2026-07-28');
  assert.equal(run.results.sessions, undefined);
});

test('smoke: HTTP+SSE (2024-11-05)', async () => {
  const port = await freePort();
  const run = await smoke(['--url', `http://127.0.0.1:${port}/sse`, '--sse'],
    [process.execPath, fixture('http-server.js'), 'sessions', `port=${port}`]);
  assert.equal(run.results.server.transport, 'sse');
});

// Faults and bad input: each case gets one clear line, the right exit code, no stack trace, a results file
// for every run that started, and no process left behind. Every run here is short and bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, runCli, tempDir, type CliRun } from '../helpers/cli.js';
import { marker, processesWith } from '../helpers/processes.js';

const FAULT = fixture('fault-server.js');
const SHORT = ['--requests', '3000', '--duration', '5s'];

/** Runs the memory test against the fault server in a mode; checks nothing is left running. */
async function fault(mode: string, extra: string[] = [], env?: NodeJS.ProcessEnv): Promise<CliRun> {
  const mark = marker();
  const run = await runCli(['memory', ...SHORT, ...extra, '--', process.execPath, FAULT, mode, mark], { env });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  return run;
}

function assertOneLine(run: CliRun, code: number, pattern: RegExp): void {
  assert.equal(run.code, code, run.stderr);
  const first = run.stderr.split('\n').find((l) => l.startsWith('mcp-hammer:')) ?? '';
  assert.match(first, pattern, run.stderr);
  assert.doesNotMatch(run.stderr, /^\s+at .*:\d+:\d+\)?$/m, 'no stack trace');
}

// Starting the server

test('command not found: exit 2, one line, a results file', async () => {
  const out = tempDir();
  const run = await runCli(['memory', '--out', out, '--', 'no-such-mcp-server-command']);
  assertOneLine(run, 2, /command not found: no-such-mcp-server-command/);
  assert.equal(run.results.verdict, 'error');
  assert.equal(readdirSync(out).filter((f) => f.endsWith('.json')).length, 1);
});

test('command not executable: exit 2, permission denied', async () => {
  const script = join(tempDir(), 'server.sh');
  writeFileSync(script, '#!/bin/sh\necho hi\n');
  chmodSync(script, 0o644);
  assertOneLine(await runCli(['memory', '--', script]), 2, /permission denied/);
});

test('server exits before the handshake: its exit code and stderr are shown', async () => {
  const run = await fault('exit-early');
  assertOneLine(run, 2, /exited before the MCP handshake finished \(exit code 4\): fatal: missing configuration/);
});

test('server never finishes the handshake: a stated timeout', async () => {
  const started = Date.now();
  const run = await fault('no-handshake', ['--startup-timeout', '1s']);
  assertOneLine(run, 2, /did not finish the MCP handshake within 1 s/);
  assert.ok(Date.now() - started < 10_000);
});

test('unsupported protocol version: named in the message', async () => {
  assertOneLine(await fault('old-version'), 2, /protocol version "1999-01-01".*not support/);
});

// Arguments

for (const [args, pattern] of [
  [['memory', '--bogus'], /Unknown option '--bogus'/],
  [['leaks'], /unknown test 'leaks'; choose memory, cache or ratelimit/],
  [['memory', '--requests', '0'], /--requests must be a whole number of at least 1 \(got '0'\)/],
  [['memory', '--requests=-5'], /--requests must be a whole number/],
  [['memory', '--requests', 'lots'], /--requests must be a whole number/],
  [['memory', '--duration', '5x'], /--duration must be a time such as 90s/],
  [['memory', '--concurrency', '1.5'], /--concurrency must be a whole number/],
] as [string[], RegExp][]) {
  test(`bad arguments: ${args.join(' ')}`, async () => {
    const mark = marker();
    const run = await runCli([...args, '--', process.execPath, FAULT, 'normal', mark]);
    assertOneLine(run, 2, pattern);
    assert.deepEqual(processesWith(mark), []);
  });
}

test('invalid --args JSON: exit 2 with an example', async () => {
  assertOneLine(await fault('normal', ['--tool', 'echo', '--args', '{text:']), 2, /--args is not valid JSON.*example/);
});

test('unknown --tool: the tools the server has are listed', async () => {
  assertOneLine(await fault('normal', ['--tool', 'nope']), 2, /unknown tool 'nope'; this server has: echo/);
});

test('arguments the server rejects: counted, and when every call fails exit 2 quoting the first error', async () => {
  const run = await fault('reject');
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.results.reasons[0], /every call failed.*-32602 Invalid params: text must be a colour/);
  assert.ok(run.results.errors.jsonrpc.count >= 1000);
});

test('results folder that cannot be written: exit 2 before the server starts', async () => {
  const file = join(tempDir(), 'not-a-folder');
  writeFileSync(file, '');
  const flag = join(tempDir(), 'started');
  const run = await runCli(['memory', '--out', join(file, 'results'), '--', process.execPath, FAULT, 'argv'],
    { env: { MCP_HAMMER_FIXTURE_OUT: flag } });
  assertOneLine(run, 2, /cannot write results to .*choose another folder with --out/);
  assert.equal(existsSync(flag), false, 'the server must not have been started');
});

// During the run

test('banner and log lines on stdout: a warning, and the run goes on', async () => {
  const run = await fault('banner', ['--requests', '5000']);
  assert.ok(run.results.requests >= 4999);
  assert.match(run.results.warnings.join(' '), /non-JSON line.*Server starting/);
  assert.match(run.stderr, /Warning: the server wrote .* non-JSON line/);
});

test('a 12 MB answer is read whole, not a crash', async () => {
  const run = await fault('huge', ['--requests', '10', '--concurrency', '2', '--duration', '60s']);
  assert.equal(run.results.requests, 10);
  assert.deepEqual(run.results.errors, {});
  assert.ok(run.results.connection.largestMessageBytes > 12 * 1024 * 1024);
});

test('notifications, unknown ids and server-to-client requests are handled', async () => {
  const run = await fault('chatty', ['--requests', '2000']);
  const c = run.results.connection;
  assert.ok(c.notifications >= 10 && c.unknownIds >= 10, JSON.stringify(c));
  assert.ok(c.serverRequests.ping >= 10 && c.serverRequests['roots/list'] >= 10 && c.serverRequests['sampling/createMessage'] >= 10);
  const tail = run.results.stderrTail.join('\n');
  assert.match(tail, /reply ping-\d+ result/);
  assert.match(tail, /reply roots-\d+ result/);
  assert.match(tail, /reply sampling-\d+ error -32601/);
});

test('server killed by a signal: FAIL saying so, with the requests done', async () => {
  const run = await fault('sigkill-after=1500');
  assert.equal(run.code, 1, run.stderr);
  assert.match(run.results.reasons[0], /exited under load \(killed by SIGKILL\) after [\d,]+ requests/);
});

test('a server that ignores SIGTERM, and its grandchild, are both ended', async () => {
  const mark = marker();
  const run = await runCli(['memory', '--requests', '2000', '--', process.execPath, FAULT, 'stubborn', mark]);
  assert.ok(run.results, run.stderr);
  assert.deepEqual(processesWith(mark), []);
});

// The tester itself

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} mid-run: server ended, partial results kept, exit 130`, async () => {
    const mark = marker();
    const out = tempDir();
    const run = await runCli(['memory', '--duration', '60s', '--out', out, '--', process.execPath, FAULT, 'normal', mark], {
      onSpawn: (pid) => setTimeout(() => process.kill(pid, signal), 3000),
    });
    assert.equal(run.code, 130, run.stderr);
    assert.equal(run.results.verdict, 'interrupted');
    assert.ok(run.results.requests > 0);
    const files = readdirSync(out).filter((f) => f.endsWith('.json'));
    assert.equal(JSON.parse(readFileSync(join(out, files[0]), 'utf8')).verdict, 'interrupted');
    assert.deepEqual(processesWith(mark), []);
  });
}

test('a bug inside mcp-hammer: server ended, said to be a bug, exit 2', async () => {
  const run = await fault('normal', [], { MCP_HAMMER_TEST_BUG: '1' });
  assert.equal(run.code, 2);
  assert.match(run.stderr, /mcp-hammer hit a bug.*please report it/i);
  assert.equal(run.results.verdict, 'error');
});

// Security

test('no shell: arguments reach the server exactly; the environment reaches it, its values are written nowhere', async () => {
  const out = tempDir();
  const file = join(tempDir(), 'argv.json');
  const secret = 'sk-this-value-must-not-leak-1234';
  const args = ['two words', '$HOME', 'a;b', "it's", '"q"', '*'];
  const run = await runCli(['memory', '--requests', '500', '--out', out, '--', process.execPath, FAULT, 'argv', ...args],
    { env: { MCP_HAMMER_FIXTURE_OUT: file, MCP_HAMMER_FIXTURE_SECRET: secret } });
  const seen = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(seen.argv, args);
  assert.equal(seen.secretReached, true);
  const written = readdirSync(out).map((f) => readFileSync(join(out, f), 'utf8')).join('');
  for (const text of [run.stdout, run.stderr, written]) assert.ok(!text.includes(secret));
});

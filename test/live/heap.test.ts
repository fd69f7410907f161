// --heap end to end: the CLI against fixture servers that keep known things per call, as real processes
// with the inspector on loopback. Each run stops when decided (as a user's would), or at a hard limit,
// and must leave no process behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { fixture, runCli, tempDir, type CliRun } from '../helpers/cli.js';
import { listeningPorts, marker, processesWith } from '../helpers/processes.js';
import { Inspectors } from '../../src/heap/inspectors.js';
import { startServer, TAIL_BYTES } from '../../src/server/process.js';

const SERVER = fixture('heap-server.js');

// A wrapper that starts the server as its child, as npx does. It is a Node process too, with its own
// inspector: the serving child must be the one watched. Like the fixture, it tells its inspector's address
// to the file a test names (see the fixture for why).
const WRAPPER = `const f = process.env.HEAP_FIXTURE_INSPECTOR_FILE;
  if (f) require('node:fs').appendFileSync(f, require('node:inspector').url() + '\\n');
  const c = require('node:child_process').spawn(process.execPath, process.argv.slice(1), { stdio: 'inherit' });
  c.on('exit', (code) => process.exit(code ?? 1)); process.on('SIGTERM', () => c.kill());`;

/** The line of `function <name>` in the compiled fixture, as the report should name it. */
function lineOf(name: string): number {
  const lines = readFileSync(SERVER, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith(`function ${name}(`));
  assert.ok(at >= 0, `function ${name} in the fixture`);
  return at + 1;
}

/** One polite client: what --heap names does not depend on the mix, whose phases after a FAIL take a minute. */
const POLITE = ['--clients', 'polite'];

async function heapRun(mode: string, extra: string[] = [], command: string[] = [process.execPath, SERVER], test = 'memory',
  o: { mark?: string; env?: NodeJS.ProcessEnv } = {}) {
  const mark = o.mark ?? marker();
  const run = await runCli([test, '--heap', ...extra, '--', ...command, mode, mark], { limitMs: 400_000, env: o.env });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.ok(run.results, `results JSON on stdout; stderr: ${run.stderr}`);
  return run;
}

/** The first growth entry names the kind and the allocating function's file and line. */
function assertFirst(run: Awaited<ReturnType<typeof heapRun>>, name: string, fn: string) {
  const heap = run.results.heap;
  assert.ok(heap, run.stderr);
  assert.equal(heap.problem, undefined, heap.problem);
  const first = heap.growth[0];
  assert.ok(first, `a growth entry; stderr: ${run.stderr}`);
  assert.equal(first.name, name, JSON.stringify(heap.growth));
  assert.ok(first.count > 1000, `count ${first.count}`);
  assert.equal(first.function, fn, JSON.stringify(first));
  assert.match(first.location, new RegExp(`heap-server\\.js:${lineOf(fn)}$`));
  assert.ok(first.perRequest > 100, `bytes per request ${first.perRequest}`);
  // And on screen, under the verdict.
  assert.match(run.stderr, new RegExp(`Growing since warm-up \\(heap, after GC\\):\\n  \\+[\\d.]+ [KMG]?B +${name} +[\\d,]+ x [\\d.]+ [KM]?B +\\S*heap-server\\.js:${lineOf(fn)}  \\(${fn}\\)`));
  assert.ok(['process memory', 'heap after GC', 'both'].includes(run.results.memory.decidedBy));
}

test('heap: an array kept per call is named Array, at the function that keeps it', async () => {
  const run = await heapRun('array', POLITE);
  assertFirst(run, 'Array', 'keepArray');
  assert.match(run.results.heap.growth[0].retainedBy, /^history\[\d+\]$/);
  assert.ok(run.results.heap.series.length >= 8, 'a heap-after-GC point per block');
  assert.equal(run.results.heap.series.length, run.results.memory.floors.length);
});

test('heap: the cache test names a Map growing per unique key, counted in entries', async () => {
  const run = await heapRun('map', [], undefined, 'cache');
  assertFirst(run, 'Map', 'keepKey');
  const { growth, baseline, end } = run.results.heap;
  // The baseline is taken inside the control phase, whose repeated key adds no entry: one entry per key of
  // the flood and the trace, keys and values not counted twice.
  assert.ok(baseline.requests < run.results.control.requests);
  const keys = end.requests - run.results.control.requests;
  assert.ok(growth[0].count <= keys + 1 && growth[0].count > keys * 0.9, `${growth[0].count} entries for ${keys} keys`);
  assert.equal(growth[0].retainedBy, 'cache');
  assert.equal(run.code, 1, run.results.reasons.join('; '));
});

test('heap: a closure per call, behind a wrapper process (as npx starts servers), is named Closure', async () => {
  const run = await heapRun('closure', POLITE, [process.execPath, '-e', WRAPPER, SERVER]);
  assertFirst(run, 'Closure', 'keepClosure');
  assert.match(run.results.heap.growth[0].definedAt, /heap-server\.js:\d+$/);
  assert.ok(run.results.heap.pid > 0);
  assert.ok(!run.results.stderrTail.some((l: string) => /Debugger (listening|attached|ending)/.test(l)), 'inspector lines are not server stderr');
});

test('heap: on a clean server nothing is listed above the noise floor, and the run passes', async () => {
  const run = await heapRun('clean');
  assert.equal(run.code, 0, `${run.results.reasons.join('; ')}\n${run.stderr}`);
  assert.deepEqual(run.results.heap.growth, [], JSON.stringify(run.results.heap.growth));
  assert.match(run.stderr, /Growing since warm-up \(heap, after GC\): nothing above 256\.0 KB/);
  assert.ok(run.results.heap.traceRequests > 0);
});

test('heap: the cache test on a server that keeps nothing lists nothing, and passes', async () => {
  const run = await heapRun('clean', [], undefined, 'cache');
  assert.equal(run.code, 0, `${run.results.reasons.join('; ')}\n${run.stderr}`);
  assert.deepEqual(run.results.heap.growth, [], JSON.stringify(run.results.heap.growth));
  assert.ok(run.results.uniqueKeys > 1000);
});

test('heap: a server with no Node.js inspector gets one sentence, and the test runs without it', async () => {
  // env -u NODE_OPTIONS stands for any server that is not Node.js: no process of it opens an inspector.
  const run = await heapRun('clean', [], ['env', '-u', 'NODE_OPTIONS', process.execPath, SERVER]);
  assert.notEqual(run.code, 2, run.stderr);
  assert.equal(run.results.heap, undefined);
  assert.match(run.results.warnings.join('\n'), /^--heap works on Node\.js and Python servers, .*: the test runs without it$/m);
  assert.doesNotMatch(run.stderr, /Growing since warm-up/);
});

test('heap: without --heap the heap after GC is still read as evidence, and nothing is named', async () => {
  const mark = marker();
  const run = await runCli(['memory', '--requests', '3000', '--', process.execPath, SERVER, 'array', mark]);
  assert.deepEqual(processesWith(mark), []);
  assert.equal(run.results.heap, undefined);
  assert.ok(run.results.memory.heapAfterGc.floors.length > 0, 'the heap after GC at every floor');
  assert.ok(run.results.memory.decidedBy);
  assert.doesNotMatch(run.stderr, /Growing since warm-up|Debugger listening/);
});

test('heap: --no-inspector judges the process memory alone: no inspector, no heap after GC', async () => {
  const mark = marker();
  const run = await runCli(['memory', '--no-inspector', '--requests', '3000', '--', process.execPath, SERVER, 'array', mark]);
  assert.deepEqual(processesWith(mark), []);
  assert.equal(run.results.heap, undefined);
  assert.equal(run.results.memory.heapAfterGc, undefined);
  assert.equal(run.results.memory.decidedBy, undefined);
  assert.doesNotMatch(run.stderr, /Heap|Debugger listening/);
});

test('heap: Ctrl-C mid-run keeps the heap series measured so far, and says why there is no growth list', async () => {
  const mark = marker();
  const { file, out } = secretPlaces();
  const run = await runCli(['memory', '--heap', '--duration', '60s', '--out', out, '--', process.execPath, SERVER, 'array', mark], {
    limitMs: 60_000, onSpawn: (pid) => setTimeout(() => process.kill(pid, 'SIGINT'), 8000), env: { HEAP_FIXTURE_INSPECTOR_FILE: file },
  });
  assertAddressesNowhere(file, run, out, 1);
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.equal(run.code, 130, run.stderr);
  const { heap } = run.results;
  assert.ok(heap.series.length >= 2, JSON.stringify(heap));
  assert.match(heap.problem, /^the run ended early \(interrupted\)/);
  assert.deepEqual(heap.growth, []);
  assert.match(run.stderr, /Heap: the run ended early \(interrupted\)/);
});

// The inspector's address is the key to running code in the server. With --heap it is published on the
// server's stderr only, which mcp-hammer alone reads, and shown nowhere.

/** A file for the fixture's inspector addresses, and a results folder, both new. */
function secretPlaces(): { file: string; out: string } {
  const dir = tempDir();
  return { file: join(dir, 'inspectors'), out: join(dir, 'results') };
}

/** The random paths of the inspector addresses the fixture's processes wrote to the file. */
function secretsIn(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((url) => {
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/[0-9a-f-]{36}$/);
    return url.slice(url.lastIndexOf('/') + 1);
  });
}

/** None of the addresses (by their secret path) is on screen, on stdout or in a results file. */
function assertAddressesNowhere(file: string, run: CliRun, out: string, processes: number) {
  const secrets = secretsIn(file);
  assert.equal(secrets.length, processes, `an address per Node.js process: ${secrets}`);
  const written = existsSync(out) ? readdirSync(out).map((f) => readFileSync(join(out, f), 'utf8')) : [];
  assert.equal(written.length, 1, 'one results file');
  for (const secret of secrets) {
    for (const [where, text] of [['stderr', run.stderr], ['stdout', run.stdout], ['the results file', written[0]]]) {
      assert.ok(!text.includes(secret), `the inspector's address is in ${where}:\n${text}`);
      // Nor half of it, as a line cut short would leave.
      assert.ok(!text.includes(secret.slice(0, 18)) && !text.includes(secret.slice(18)), `part of the inspector's address is in ${where}`);
    }
  }
  assert.doesNotMatch(run.stderr + run.stdout + written[0], /Debugger (listening|ending)|ws:\/\//);
}

/** Status and body of a GET on 127.0.0.1, as any program on the machine could send it. */
function httpGet(port: number, path: string): Promise<string> {
  return new Promise((resolve) => {
    const req = get({ host: '127.0.0.1', port, path, agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d) => { body += d; }).on('end', () => resolve(`${path}: ${res.statusCode} ${body}`));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', (err) => resolve(`${path}: ${err.message}`));
  });
}

test('heap: the inspector tells its address to no one over HTTP nor on screen, and the run still names what grew', async () => {
  const mark = marker();
  const { file, out } = secretPlaces();
  // While the run goes on, every port the server's processes listen on (their inspectors: the fixture
  // opens none of its own) is asked for the inspector's listing, as any program on the machine could.
  const answers = new Map<number, string[]>();
  let running = true;
  const asking = (async () => {
    while (running) {
      for (const port of listeningPorts(processesWith(mark))) {
        if (!answers.has(port)) answers.set(port, await Promise.all(['/json/list', '/json/version', '/json'].map((p) => httpGet(port, p))));
      }
      await delay(200);
    }
  })();
  const run = await heapRun('array', ['--out', out, ...POLITE], [process.execPath, '-e', WRAPPER, SERVER], 'memory', { mark, env: { HEAP_FIXTURE_INSPECTOR_FILE: file } });
  running = false;
  await asking;
  const secrets = secretsIn(file);
  const seen = JSON.stringify([...answers], null, 1);
  // The wrapper and the server each listen: both were asked.
  assert.ok(answers.size >= 2, `listening ports found while the run went on: ${seen}`);
  for (const answer of [...answers.values()].flat()) {
    assert.doesNotMatch(answer, /ws:\/\/|webSocketDebuggerUrl|devtools/, seen);
    for (const secret of secrets) assert.ok(!answer.includes(secret), seen);
  }
  assertFirst(run, 'Array', 'keepArray');
  assert.doesNotMatch(run.results.warnings.join('\n'), /publishes its address/);
  assertAddressesNowhere(file, run, out, 2);
});

test('heap: a server that exits before the handshake has its last words quoted, never its inspector\'s address', async () => {
  const mark = marker();
  const { file, out } = secretPlaces();
  const run = await runCli(['memory', '--heap', '--out', out, '--', process.execPath, SERVER, 'exit', mark], { env: { HEAP_FIXTURE_INSPECTOR_FILE: file } });
  assert.deepEqual(processesWith(mark), []);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /the server exited before the MCP handshake finished \(.*\): heap fixture: giving up before the handshake$/m);
  assert.match(run.results.reasons[0], /: heap fixture: giving up before the handshake$/);
  // Started twice: a server that exits after the 2026-07-28 probe is given the 2025 handshake in a new process.
  assertAddressesNowhere(file, run, out, 2);
});

test('heap: the stderr tail drops every line with an inspector address, also one the tail cut in two', async () => {
  const a = randomUUID();
  const b = randomUUID();
  // The tail keeps the last TAIL_BYTES of stderr: the long line puts the cut inside the first address's
  // path, whose second half would otherwise be a line of its own.
  const lines = [
    `Debugger ending on ws://127.0.0.1:9/${a}`,
    'Starting inspector on 127.0.0.1:9 failed: address already in useDebugger listening on ws://127.0.0.1:10/' + b,
    `server: my debugger is at ws://localhost:11/${randomUUID()}`,
    'server: hello',
  ].join('\n') + '\n';
  const end = a.slice(18) + '\n';
  const long = 'y'.repeat(TAIL_BYTES - end.length - lines.length - 1) + '\n';
  const text = `Debugger listening on ws://127.0.0.1:9/${a.slice(0, 18)}${end}${long}${lines}`;
  const watch = { spawn: new Inspectors().spawnHooks({}) };
  const server = await startServer(process.execPath, ['-e', 'process.stderr.write(process.argv[1])', text],
    { onStderr: watch.spawn.onStderr, hideStderrLine: watch.spawn.hideStderrLine });
  await server.exited;
  await server.stop();
  assert.deepEqual(server.stderrTail(), [long.trim(), 'server: hello']);
});

test('heap: a server whose own --inspect-publish-uid lists the inspector over HTTP gets a warning', async () => {
  // A flag on the command line wins over NODE_OPTIONS: this server asks for its address on HTTP too.
  const run = await heapRun('clean', ['--duration', '3s'], [process.execPath, '--inspect-publish-uid=stderr,http', SERVER]);
  assert.match(run.results.warnings.join('\n'), /^the inspector of process \d+ publishes its address over HTTP .*run code in the server$/m);
  assert.ok(run.results.heap, run.stderr);
});

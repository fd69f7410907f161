// --heap end to end: the CLI against fixture servers that keep known things per call, as real processes
// with the inspector on loopback. Each run is bounded by its --duration (plus snapshots and the probe)
// and a hard limit, and must leave no process behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fixture, marker, processesWith, runCli } from './helpers.js';

const SERVER = fixture('heap-server.js');

/** The line of `function <name>` in the compiled fixture, as the report should name it. */
function lineOf(name: string): number {
  const lines = readFileSync(SERVER, 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith(`function ${name}(`));
  assert.ok(at >= 0, `function ${name} in the fixture`);
  return at + 1;
}

async function heapRun(mode: string, extra: string[] = [], command: string[] = [process.execPath, SERVER], test = 'memory') {
  const mark = marker();
  const run = await runCli([test, '--heap', '--duration', '10s', ...extra, '--', ...command, mode, mark], { limitMs: 150_000 });
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
  const run = await heapRun('array');
  assertFirst(run, 'Array', 'keepArray');
  assert.match(run.results.heap.growth[0].retainedBy, /^history\[\d+\]$/);
  assert.ok(run.results.heap.series.length >= 16, 'a heap-after-GC point per block');
});

test('heap: the cache test names a Map growing per unique key, counted in entries', async () => {
  const run = await heapRun('map', [], undefined, 'cache');
  assertFirst(run, 'Map', 'keepKey');
  const { growth, baseline, end } = run.results.heap;
  // The baseline is taken inside the control phase, whose repeated key adds no entry: one entry per key of
  // the flood and the probe, keys and values not counted twice.
  assert.ok(baseline.requests < run.results.control.requests);
  const keys = end.requests - run.results.control.requests;
  assert.ok(growth[0].count <= keys + 1 && growth[0].count > keys * 0.9, `${growth[0].count} entries for ${keys} keys`);
  assert.equal(growth[0].retainedBy, 'cache');
  assert.equal(run.code, 1, run.results.reasons.join('; '));
});

test('heap: a closure per call, behind a wrapper process (as npx starts servers), is named Closure', async () => {
  // The wrapper is a Node process too, with its own inspector: the serving child must be the one watched.
  const wrapper = `const c = require('node:child_process').spawn(process.execPath, process.argv.slice(1), { stdio: 'inherit' });
    c.on('exit', (code) => process.exit(code ?? 1)); process.on('SIGTERM', () => c.kill());`;
  const run = await heapRun('closure', [], [process.execPath, '-e', wrapper, SERVER]);
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
  assert.ok(run.results.heap.probeRequests > 0);
});

test('heap: the cache test on a server that keeps nothing lists nothing, and passes', async () => {
  const run = await heapRun('clean', [], undefined, 'cache');
  assert.equal(run.code, 0, `${run.results.reasons.join('; ')}\n${run.stderr}`);
  assert.deepEqual(run.results.heap.growth, [], JSON.stringify(run.results.heap.growth));
  assert.ok(run.results.uniqueKeys > 1000);
});

test('heap: a server with no Node.js inspector gets one sentence, and the test runs without it', async () => {
  // env -u NODE_OPTIONS stands for any server that is not Node.js: no process of it opens an inspector.
  const run = await heapRun('clean', ['--duration', '6s'], ['env', '-u', 'NODE_OPTIONS', process.execPath, SERVER]);
  assert.notEqual(run.code, 2, run.stderr);
  assert.equal(run.results.heap, undefined);
  assert.match(run.results.warnings.join('\n'), /^--heap works on Node\.js servers only, .*: the test runs without it$/m);
  assert.doesNotMatch(run.stderr, /Growing since warm-up/);
});

test('heap: without --heap nothing changes (no inspector, no heap results)', async () => {
  const mark = marker();
  const run = await runCli(['memory', '--requests', '3000', '--', process.execPath, SERVER, 'array', mark]);
  assert.deepEqual(processesWith(mark), []);
  assert.equal(run.results.heap, undefined);
  assert.equal(run.results.memory.decidedBy, undefined);
  assert.doesNotMatch(run.stderr, /Heap|Debugger listening/);
});

test('heap: Ctrl-C mid-run keeps the heap series measured so far, and says why there is no growth list', async () => {
  const mark = marker();
  const run = await runCli(['memory', '--heap', '--duration', '60s', '--', process.execPath, SERVER, 'array', mark], {
    limitMs: 60_000, onSpawn: (pid) => setTimeout(() => process.kill(pid, 'SIGINT'), 8000),
  });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.equal(run.code, 130, run.stderr);
  const { heap } = run.results;
  assert.ok(heap.series.length >= 2, JSON.stringify(heap));
  assert.match(heap.problem, /^the run ended early \(interrupted\)/);
  assert.deepEqual(heap.growth, []);
  assert.match(run.stderr, /Heap: the run ended early \(interrupted\)/);
});

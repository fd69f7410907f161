// The memory leak test end to end: the CLI against fixture servers with known behaviour, at default
// settings, as a user would run it. Each run is bounded by its --duration (30 s) and a hard limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runCli } from '../helpers/cli.js';
import { marker, processesWith } from '../helpers/processes.js';

async function memory(mode: string, extra: string[] = []) {
  const mark = marker();
  const run = await runCli(['memory', ...extra, '--', process.execPath, fixture('memory-server.js'), mode, mark], { limitMs: 360_000 });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.ok(run.results, `results JSON on stdout; stderr: ${run.stderr}`);
  return run;
}

// The other shapes (a burst every 50th call, a listener per call, slow servers) are replayed from recorded
// series in the fast tier; these two prove the connection for the heap and for memory outside it.
for (const mode of ['heap-leak', 'buffer-leak']) {
  test(`memory: FAIL for ${mode}`, async () => {
    const run = await memory(mode);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.results.verdict, 'fail');
    assert.match(run.results.reasons[0], /grows with every request/);
    // The evidence that decided gives the size: the heap after GC where it was read.
    const perRequest = run.results.memory.heapAfterGc?.bytesPerRequest ?? run.results.memory.bytesPerRequest;
    assert.ok(perRequest > 500, `bytes per request ${perRequest}`);
    assert.ok(run.results.durationSeconds < 60);
  });
}

for (const mode of ['clean', 'garbage']) {
  test(`memory: PASS for ${mode}`, async () => {
    const run = await memory(mode);
    assert.equal(run.code, 0, `${run.results.reasons.join('; ')}\n${run.stderr}`);
    assert.equal(run.results.verdict, 'pass');
    assert.equal(run.results.errors.jsonrpc, undefined);
    assert.equal(run.results.server.runtime, 'node');
    assert.equal(run.results.memory.decidedBy, 'heap after GC');
  });
}

test('memory: with --duration the length is the user\'s, and a run too short to rule out the leak size says so (exit 2)', async () => {
  const run = await memory('slow-clean', ['--duration', '8s']);
  assert.equal(run.code, 2);
  assert.equal(run.results.stopReason, 'duration');
  assert.match(run.results.reasons[0], /cannot be excluded in [\d.]+ s at [\d,]+ requests\/s .*give a longer --duration/);
});

test('memory: FAIL when the server dies mid-run, with its exit code and the requests done', async () => {
  const run = await memory('crash-after=3000');
  assert.equal(run.code, 1);
  assert.match(run.results.reasons[0], /exited under load \(exit code 3\) after [\d,]+ requests/);
  assert.ok(run.results.requests >= 2999);
});

test('memory: FAIL with "out of memory" when the server runs out of heap', async () => {
  const mark = marker();
  const run = await runCli(['memory', '--', process.execPath, '--max-old-space-size=48', fixture('memory-server.js'), 'oom', mark]);
  assert.deepEqual(processesWith(mark), []);
  assert.equal(run.code, 1);
  assert.match(run.results.reasons[0], /exited under load .* out of memory/);
  assert.ok(run.results.stderrTail.some((l: string) => /heap out of memory/i.test(l)));
});

test('memory: FAIL when the server stops answering, and the run stays bounded', async () => {
  const started = Date.now();
  const run = await memory('hang-after=2000', ['--timeout', '2s']);
  assert.equal(run.code, 1);
  assert.match(run.results.reasons[0], /stopped answering after [\d,]+ requests/);
  assert.ok(Date.now() - started < 20_000);
});

test('memory: never calls a tool that is not annotated read-only', async () => {
  const run = await memory('clean', ['--requests', '2000']);
  assert.deepEqual(run.results.calls.map((c: any) => c.tool), ['echo']);
  assert.equal(run.results.server.exit, undefined);
});

test('memory: the bundled example server passes (the Quick start)', async () => {
  const run = await runCli(['memory'], { limitMs: 360_000 });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.results.server.example, true);
  assert.match(run.stderr, /bundled example time server/);
  assert.match(run.stderr, /mcp-hammer memory -- node dist\/index.js/);
});

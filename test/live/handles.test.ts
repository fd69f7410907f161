// Handle leaks end to end: the CLI against the handle-server fixture, at default settings (30 s), as a
// user would run it. Leaking modes FAIL naming the kind; clean ones and a fixed pool PASS; nothing is
// left running, the `sleep` children of child-leak included (they carry the marker on their command line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runCli } from '../helpers/cli.js';
import { marker, processesWith } from '../helpers/processes.js';

const linux = process.platform === 'linux';

async function hammer(test: 'memory' | 'cache', mode: string) {
  const mark = marker();
  const server = mode === 'emfile'
    // Node cannot lower its own descriptor limit; a shell can, then becomes the server (exec).
    ? ['sh', '-c', `ulimit -n 256; exec "${process.execPath}" "${fixture('handle-server.js')}" emfile ${mark}`]
    : [process.execPath, fixture('handle-server.js'), mode, mark];
  const run = await runCli([test, '--', ...server]);
  assert.deepEqual(processesWith(mark), [], 'no process of the server may be left behind');
  assert.ok(run.results, `results JSON on stdout; stderr: ${run.stderr}`);
  return run;
}

const leaks: [string, RegExp, RegExp][] = [
  ['file-leak', /^open files grow with requests: \+1 per (49|50|51) requests, [\d,]+ -> [\d,]+ over [\d,]+ requests/, /files rising/],
  ['child-leak', /^child processes grow with requests: \+1 per [\d,]+ requests, .* \(newest: sleep\)/, /processes rising/],
  ['emfile', /^the server ran out of file descriptors: 256 open in one process, its limit is 256 \([\d,]+ open files in the tree\); EMFILE in its answers/,
    /files at the descriptor limit/],
];

for (const [mode, reason, line] of leaks) {
  test(`handles: FAIL for ${mode}, naming the kind`, { skip: !linux }, async () => {
    const run = await hammer('memory', mode);
    assert.equal(run.code, 1, run.stderr);
    assert.equal(run.results.verdict, 'fail');
    assert.ok(run.results.reasons.some((r: string) => reason.test(r)), run.results.reasons.join('\n'));
    assert.match(run.stderr, new RegExp(`\\nHandles: .*${line.source}`));
    assert.ok(run.results.durationSeconds < 60);
    const h = run.results.handles;
    assert.ok(h.costMs.median < 20, `counting cost ${h.costMs.median} ms per floor`);
    if (mode === 'child-leak') {
      assert.ok(h.outlived.length > 10, `outlived: ${h.outlived.length}`);
      assert.ok(h.outlived.every((p: { command: string }) => p.command === 'sleep'));
      assert.match(run.stderr, /processes of the server's tree outlived its exit \(sleep ×\d+\); mcp-hammer ended them/);
    }
  });
}

// Socket leaks and the clean servers are replayed from recorded series in the fast tier.
for (const mode of ['pool']) {
  test(`handles: PASS for ${mode}`, { skip: !linux }, async () => {
    const run = await hammer('memory', mode);
    assert.equal(run.code, 0, `${run.results.reasons.join('; ')}\n${run.stderr}`);
    const h = run.results.handles;
    for (const kind of ['files', 'sockets', 'pipes', 'other', 'threads', 'processes']) {
      assert.equal(h.kinds[kind].leaking, false, kind);
      assert.equal(h.kinds[kind].series.length, run.results.memory.floors.length, `${kind}: a count at every floor`);
    }
    assert.equal(h.kinds.processes.end, 1);
    assert.deepEqual(h.outlived, []);
    // The inspector's connection and listening socket are the server's too.
    assert.match(run.stderr, /\nHandles: \d+ files?, \d+ sockets, \d+ pipes, \d+ threads, 1 process: flat\n/);
  });
}

test('handles: the cache test counts them too, over both phases', { skip: !linux }, async () => {
  const run = await hammer('cache', 'file-leak');
  assert.equal(run.code, 1, run.stderr);
  assert.ok(run.results.reasons.some((r: string) => /^open files grow with requests: \+1 per (49|50|51) requests/.test(r)), run.results.reasons.join('\n'));
  const series = run.results.handles.kinds.files.series;
  assert.ok(series.at(-1)[0] > run.results.control.requests, 'the flood continues the control phase\'s requests');
});

// Python servers on the official Python SDK (mcp 2.x, MCPServer), run as a new user would: default options,
// the run lasting until the evidence decides. Their memory hardly scatters and never saw-tooths, so the
// verdict must come from growth that scales with the requests, not from garbage collections. The first
// run of the suite makes the fixtures' virtual environment (.venv-fixtures, from
// test/fixtures/python/requirements.txt); .ci/run makes it before the tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { marker, processesWith } from '../helpers/processes.js';
import { fixturePython, repoRoot } from '../fixtures/python/venv.js';

const SERVER = join(repoRoot(), 'test', 'fixtures', 'python', 'memory_server.py');
const python = fixturePython();

async function hammerPython(test: 'memory' | 'cache', mode: string) {
  const mark = marker();
  const run = await runCli([test, '--', python, SERVER, mode, mark], { limitMs: 360_000 });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.ok(run.results, `results JSON on stdout; stderr: ${run.stderr}`);
  return run;
}

const why = (run: { results?: any; stderr: string }) => `${run.results?.reasons?.join('; ')}\n${run.stderr}`;

// Garbage, a 2 KB leak and an lru_cache are replayed from recorded series in the fast tier.
for (const mode of ['clean']) {
  test(`python: PASS for ${mode}, saying what it ruled out`, async () => {
    const run = await hammerPython('memory', mode);
    assert.equal(run.code, 0, why(run));
    assert.equal(run.results.stopReason, 'decided');
    assert.match(run.results.reasons[0], /^no leak of 1\.0 KB\/request, 16\.0 KB per cancelled call or more$/);
    assert.ok(run.results.ruledOutBytesPerRequest <= 1024);
    assert.equal(run.results.server.name.length > 0, true);
    assert.equal(run.results.server.runtime, 'cpython');
  });
}

for (const [mode, least] of [['keep-500b', 300]] as const) {
  test(`python: FAIL for ${mode}, the leak's size reported`, async () => {
    const run = await hammerPython('memory', mode);
    assert.equal(run.code, 1, why(run));
    assert.equal(run.results.stopReason, 'decided');
    assert.match(run.results.reasons[0], /memory grows with every request/);
    assert.ok(run.results.memory.bytesPerRequest > least, `bytes per request ${run.results.memory.bytesPerRequest}`);
  });
}

test('python: the cache test FAILs a dict memo that is never evicted', async () => {
  const run = await hammerPython('cache', 'memo');
  assert.equal(run.code, 1, why(run));
  assert.match(run.results.reasons[0], /unbounded cache/);
});

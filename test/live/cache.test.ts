// The cache flooding test end to end: the CLI against fixture servers with known caches, at default
// settings where the verdict is what is tested. Each run is bounded by its --duration and a hard limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runCli } from '../helpers/cli.js';
import { marker, processesWith } from '../helpers/processes.js';

const KB = 1024;
const MB = 1024 * KB;

async function cache(mode: string, extra: string[] = []) {
  const mark = marker();
  const started = Date.now();
  const run = await runCli(['cache', ...extra, '--', process.execPath, fixture('cache-server.js'), mode, mark], { limitMs: 360_000 });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.ok(run.results, `results JSON on stdout; stderr: ${run.stderr}`);
  return { ...run, wallSeconds: (Date.now() - started) / 1000 };
}

test('cache: FAIL for a memo keeping 8 KB per unique key forever', async () => {
  const run = await cache('unbounded');
  assert.equal(run.code, 1, run.stderr);
  const r = run.results;
  assert.equal(r.verdict, 'fail');
  assert.equal(r.reasons[0], 'unbounded cache: memory grows with every new argument value');
  assert.ok(r.bytesPerKey > 6 * KB && r.bytesPerKey < 20 * KB, `bytes per key ${r.bytesPerKey}`);
  assert.ok(r.projectedAtMillionKeys > 5 * 1024 * MB, `projected ${r.projectedAtMillionKeys}`);
  assert.deepEqual(r.varied, ['query']);
  assert.ok(r.uniqueKeys > 10_000, `unique keys ${r.uniqueKeys}`);
  assert.equal(r.plainLeak, false);
  assert.match(run.stderr, /Growth: [\d.]+ KB per unique key, still rising \([\d.]+ GB projected at 1M keys\)/);
  assert.ok(run.wallSeconds < 60, `took ${run.wallSeconds} s`);
});

for (const mode of ['lru=500']) {
  test(`cache: PASS for ${mode}`, async () => {
    const run = await cache(mode);
    assert.equal(run.code, 0, `${run.results.reasons.join('; ')}\n${run.stderr}`);
    assert.equal(run.results.verdict, 'pass');
    assert.deepEqual(run.results.errors, {});
    assert.ok(run.results.uniqueKeys > 10_000, `unique keys ${run.results.uniqueKeys}`);
    assert.ok(run.wallSeconds < 60, `took ${run.wallSeconds} s`);
  });
}

test('cache: a bigger bounded cache levels off and says at what size', async () => {
  // 5,000 entries of ~10 KB: ~50 MB, filled within the first second of the flood.
  const run = await cache('lru=5000', []);
  assert.equal(run.code, 0, `${run.results.reasons.join('; ')}\n${run.stderr}`);
  const level = run.results.levelsOffAt;
  assert.ok(level && level.bytes > 30 * MB && level.bytes < 100 * MB, `levels off at ${JSON.stringify(level)}`);
  assert.match(run.stderr, /levels off at ~\d+ MB above baseline by ~[\d,]+ keys: bounded/);
});

test('cache: a plain leak (growth with repeated requests too) is told apart from a cache', async () => {
  const run = await cache('leak');
  assert.equal(run.code, 1, run.stderr);
  assert.equal(run.results.plainLeak, true);
  assert.match(run.results.reasons[0], /grows with every request, new argument values or not: .* a leak rather than a cache/);
  assert.ok(run.results.control.bytesPerRequest > 1000, `control ${JSON.stringify(run.results.control)}`);
});

test('cache: a server that refuses every generated value cannot be judged (exit 2)', async () => {
  const run = await cache('strict');
  assert.equal(run.code, 2);
  assert.match(run.stderr, /refused every generated value \(lookup: unknown query 'k\d+'\), so no cache can be reached/);
  assert.ok(run.wallSeconds < 20);
});

test('cache: a server that refuses most flooded calls cannot be judged: its cache was not reached (exit 2)', async () => {
  const run = await cache('refuse-most', ['--duration', '10s']);
  assert.equal(run.code, 2, run.stderr);
  assert.equal(run.results.verdict, 'error');
  assert.match(run.results.reasons[0], /rejected most flooded calls \(\d+%\), so its cache was not reached/);
  assert.match(run.stderr, /Status: ERROR/);
});

test('cache: nothing that can vary (an enum, a boolean) exits 2 saying so', async () => {
  const run = await cache('none', ['--tool', 'status']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /nothing to vary: status\.level: it is an enum \(2 values\)/);
  const named = await cache('none', ['--vary', 'nope']);
  assert.equal(named.code, 2);
  assert.match(named.stderr, /--vary nope: no tool called has that argument; the tools called take: lookup\(query\); status\(level, verbose\)/);
});

test('cache: values follow the schema\'s pattern, so the server accepts every one', async () => {
  // code_info's code must match ^[A-Z]{3}-\d{4}$ (the SDK rejects anything else); region is an enum.
  const run = await cache('none', ['--tool', 'code_info', '--duration', '8s']);
  assert.deepEqual(run.results.errors, {});
  assert.deepEqual(run.results.calls.map((c: any) => [c.tool, c.varied]), [['code_info', ['code']]]);
  assert.ok(run.results.uniqueKeys > 500);
});

test('cache: FAIL when the server dies under the flood', async () => {
  const run = await cache('crash-after=4000', ['--duration', '20s']);
  assert.equal(run.code, 1);
  assert.match(run.results.reasons[0], /exited under load \(exit code 3\) after [\d,]+ requests/);
});

test('cache: the bundled example server passes, flooding only what it accepts', async () => {
  const run = await runCli(['cache'], { limitMs: 360_000 });
  assert.equal(run.code, 0, `${run.results?.reasons.join('; ')}\n${run.stderr}`);
  assert.equal(run.results.server.example, true);
  assert.ok(run.results.warnings.some((w: string) => /get_current_time is left out: the server refused every generated value/.test(w)));
  assert.deepEqual(run.results.varied, ['time', 'from', 'to']);
});

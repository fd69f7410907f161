// The cache test's statistics and rendering alone: synthetic floors in, the same verdict every time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readRecorded } from '../helpers/recorded.js';
import { cacheTrend, cacheVerdict, notReached } from '../../src/judge/cache.js';
import { judgeRun, type RunFacts } from '../../src/judge/run.js';
import type { Point } from '../../src/judge/trend.js';
import { newResults } from '../../src/results.js';
import { render } from '../../src/report/text.js';

const KB = 1024;
const MB = 1024 * KB;

/** n floors, one every `step` requests, at 60 MB plus f(requests), with deterministic GC-like noise. */
function floors(n: number, step: number, f: (r: number) => number, noiseBytes = 1 * MB): Point[] {
  return Array.from({ length: n }, (_, i) => {
    const requests = (i + 1) * step;
    return { requests, bytes: 60 * MB + f(requests) + (((i * 7919) % 13) / 13 - 0.5) * noiseBytes };
  });
}

const flat = floors(14, 5000, () => 0);
const TARGET = { bytesPerRequest: 1024 };
const LENGTH = { durationSeconds: 30, requestsPerSecond: 5000, setLength: true };

test('memory growing with every new key, and not with repeated requests, is an unbounded cache', () => {
  const c = cacheTrend(flat, floors(34, 3000, (k) => k * 8 * KB));
  assert.equal(c.flood.shape, 'rising');
  assert.equal(c.plainLeak, false);
  assert.ok(Math.abs(c.bytesPerKey - 8 * KB) < 200, `bytes per key ${c.bytesPerKey}`);
  assert.ok(c.projectedAtMillionKeys > 7.5 * 1024 * MB);
  const v = cacheVerdict(c, 0, TARGET, LENGTH);
  assert.equal(v.pass, false);
  assert.equal(v.reasons[0], 'unbounded cache: memory grows with every new argument value');
});

test('growth just as fast with one repeated argument set is a plain leak, not a cache', () => {
  const c = cacheTrend(floors(14, 5000, (r) => r * 2 * KB), floors(34, 3000, (k) => k * 2 * KB));
  assert.equal(c.plainLeak, true);
  const v = cacheVerdict(c, 0, TARGET, LENGTH);
  assert.equal(v.pass, false);
  assert.match(v.reasons[0], /a leak rather than a cache/);
});

test('warm-up growth early in the control phase does not make a cache look like a plain leak', () => {
  const warming = floors(14, 500, (r) => Math.min(r, 2500) * 8 * KB);
  const c = cacheTrend(warming, floors(34, 3000, (k) => k * 8 * KB));
  assert.equal(c.plainLeak, false);
});

test('a cache that fills up and stops passes and says at what size, from the level before the flood', () => {
  // 50 MB filled within the flood's first block, then flat: the flood's own trend sees nothing.
  const c = cacheTrend(flat, floors(34, 3000, () => 50 * MB));
  assert.notEqual(c.flood.shape, 'rising');
  assert.ok(c.levelsOffAt && Math.abs(c.levelsOffAt.bytes - 50 * MB) < 2 * MB, JSON.stringify(c.levelsOffAt));
  assert.equal(c.levelsOffAt!.keys, 3000);
  assert.equal(cacheVerdict(c, 0, TARGET, LENGTH).pass, true);
});

test('a large cache churning old garbage saw-tooths over many blocks; its size is read from the lowest floors', () => {
  // 50 MB of cache, plus garbage climbing 0..140 MB over 12 blocks before each full collection.
  const c = cacheTrend(flat, floors(34, 1200, (k) => 50 * MB + ((k / 1200) % 12) * 12 * MB));
  assert.ok(c.levelsOffAt && Math.abs(c.levelsOffAt.bytes - 50 * MB) < 2 * MB, JSON.stringify(c.levelsOffAt));
  // No FAIL; but a saw-tooth of 130 MB over 40,000 keys hides growth of 1 KB per key, so no PASS either:
  // the run must go on, and says how far it got.
  const v = cacheVerdict(c, 0, TARGET, LENGTH);
  assert.equal(v.undecided, true);
  assert.match(v.reasons[0], /^no leak of [\d.]+ KB\/key or more; a smaller one \(down to 1\.0 KB\/key\) cannot be excluded in 30 s/);
});

test('a few MB more once the flood starts is not called a cache', () => {
  const c = cacheTrend(flat, floors(34, 3000, () => 5 * MB));
  assert.equal(c.levelsOffAt, undefined);
  assert.equal(cacheVerdict(c, 0, TARGET, LENGTH).pass, true);
});

test('most flooded calls refused: undecided when memory stays flat, FAIL when it grows anyway', () => {
  const quiet = cacheVerdict(cacheTrend(flat, floors(34, 3000, () => 0)), 0.8, TARGET, LENGTH);
  assert.equal(quiet.undecided, true);
  assert.match(quiet.reasons[0], /rejected most flooded calls \(80%\), so its cache was not reached/);
  const growing = cacheVerdict(cacheTrend(flat, floors(34, 3000, (k) => k * 8 * KB)), 0.8, TARGET, LENGTH);
  assert.equal(growing.pass, false);
  assert.equal(growing.undecided, undefined);
});

test('most flooded calls refused in a run too short for a trend: the cache was not reached, not "run longer"', () => {
  const short = cacheTrend(flat, floors(6, 3000, () => 0));
  assert.equal(short.flood.shape, 'too short');
  const facts: RunFacts = {
    requests: 40_000, ok: 8_000, errorCount: 32_000, errorSamples: [], stopReason: 'duration', timeoutMs: 10_000,
    durationSeconds: 10, requestsPerSecond: 4_000, stderrTail: [], overHttp: false,
  };
  const judged = judgeRun(facts, short.flood, () => cacheVerdict(short, 0.8, TARGET, LENGTH), notReached(0.8));
  assert.equal(judged.verdict, 'error');
  assert.match(judged.reasons[0], /rejected most flooded calls \(80%\), so its cache was not reached/);
  assert.equal(notReached(0.3), null);
  assert.match(judgeRun(facts, short.flood, () => cacheVerdict(short, 0.3, TARGET, LENGTH), notReached(0.3)).reasons[0], /too short to measure a trend/);
});

test('renderCache draws the report from a results object', () => {
  const r = newResults({ test: 'cache', command: 'node', serverArgs: [], example: false });
  Object.assign(r, {
    verdict: 'fail', reasons: ['unbounded cache: memory grows with every new argument value'], requests: 50_000,
    durationSeconds: 24, requestsPerSecond: 2083, uniqueKeys: 50_000, bytesPerKey: 8400, projectedAtMillionKeys: 8.6e9,
    calls: [{ method: 'tools/call', tool: 'lookup', arguments: {}, varied: ['query'] }],
    control: { requests: 20_000, bytesPerRequest: 3, shape: 'flat' },
    memory: {
      signal: '', baseline: 110 * MB, end: 512 * MB, baselineRss: 0, endRss: 0, bytesPerRequest: 8400, bytesPerMillionRequests: 8.4e9,
      shape: 'rising', noise: 0, warmupRequests: 0, samples: [[0, 0, 110 * MB, 0], [24, 50_000, 512 * MB, 0]],
    },
  });
  const text = render(r, 'results/cache_x.json', false);
  assert.match(text, /^Cache Flood Test \(50,000 unique keys, 24 s, 2,083 req\/s\)$/m);
  assert.match(text, /^Varied: lookup\.query$/m);
  assert.match(text, /^Start: 110MB \(after warm-up\)\nEnd: 512MB$/m);
  assert.match(text, /^Growth: 8\.2 KB per unique key, still rising \(8\.0 GB projected at 1M keys\)$/m);
  assert.match(text, /^Status: FAIL ✗  unbounded cache: memory grows with every new argument value$/m);
  assert.match(text, /^Details: results\/cache_x\.json$/m);
});

test('recorded: an unbounded 8 KB memo that V8 collected in one big fall near the end is still unbounded', () => {
  const data = readRecorded('cache-unbounded');
  const all = data.floors.map(([requests, bytes]: [number, number]) => ({ requests, bytes }));
  const control = all.filter((p: { requests: number }) => p.requests <= data.controlRequests);
  const flood = all.filter((p: { requests: number }) => p.requests > data.controlRequests)
    .map((p: { requests: number; bytes: number }) => ({ requests: p.requests - data.controlRequests, bytes: p.bytes }));
  const c = cacheTrend(control, flood);
  assert.equal(c.flood.shape, 'rising');
  assert.equal(cacheVerdict(c, 0, TARGET, LENGTH).pass, false);
});

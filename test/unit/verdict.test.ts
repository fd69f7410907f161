// The statistics alone: recorded or synthetic series in, the same verdict every time.
import { test } from 'node:test';
import { readRecorded } from '../helpers/recorded.js';
import assert from 'node:assert/strict';
import { memoryTrend, type Point } from '../../src/judge/trend.js';
import { median, theilSen } from '../../src/judge/stats.js';
import { leakVerdict } from '../../src/judge/leak.js';
import { Histogram } from '../../src/load/latency.js';
import { sparkline } from '../../src/report/text.js';

const MB = 1024 * 1024;
const TARGET = { bytesPerRequest: 1024 };
const LENGTH = { durationSeconds: 30, requestsPerSecond: 20_000, setLength: true };

/** 48 floors over `total` requests: a warm-up ramp, then f(requests), with deterministic GC-like noise. */
function series(total: number, f: (r: number) => number, noiseBytes = 2 * MB): Point[] {
  const points: Point[] = [];
  for (let i = 1; i <= 48; i++) {
    const requests = Math.round((total * i) / 48);
    const warm = i <= 6 ? (i - 6) * 8 * MB : 0;
    const noise = (((i * 7919) % 13) / 13 - 0.5) * noiseBytes;
    points.push({ requests, bytes: 100 * MB + warm + f(requests) + noise });
  }
  return points;
}

test('theilSen ignores a few spikes that least squares would follow', () => {
  const pts = Array.from({ length: 20 }, (_, i) => ({ requests: i, bytes: 10 * i }));
  pts[15].bytes = 10_000;
  pts[16].bytes = -10_000;
  assert.equal(theilSen(pts), 10);
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 2, 3]), 2.5);
});

test('a flat series after warm-up passes', () => {
  const trend = memoryTrend(series(600_000, () => 0));
  assert.equal(trend.shape, 'flat');
  assert.ok(Math.abs(trend.bytesPerRequest) < 10);
  assert.equal(leakVerdict(trend, TARGET, LENGTH).pass, true);
});

test('1 KB per request is a leak, with the rate reported', () => {
  const trend = memoryTrend(series(600_000, (r) => r * 1024));
  assert.equal(trend.shape, 'rising');
  assert.ok(Math.abs(trend.bytesPerRequest - 1024) < 50);
  const v = leakVerdict(trend, TARGET, LENGTH);
  assert.equal(v.pass, false);
  assert.match(v.reasons[0], /1\.0 KB per request/);
});

test('growth that levels off (a bounded cache) passes and says where it flattened', () => {
  const trend = memoryTrend(series(600_000, (r) => Math.min(r, 250_000) * 400));
  assert.equal(trend.shape, 'levels off');
  assert.ok(trend.levelsOffAt && trend.levelsOffAt.bytes > 10 * MB);
  assert.equal(leakVerdict(trend, TARGET, LENGTH).pass, true);
});

test('small steady growth in a short run is not called a leak while one saw-tooth could explain it', () => {
  // 100 B/request over 30,000 requests is 3 MB: a slow server on its way up one saw-tooth looks the same.
  const trend = memoryTrend(series(40_000, (r) => r * 100, 0.5 * MB));
  assert.notEqual(trend.shape, 'rising');
  const v = leakVerdict(trend, TARGET, LENGTH);
  assert.equal(v.undecided, true);
  assert.match(v.reasons[0], /cannot be excluded in 30 s at 20,000 requests\/s .*give a longer --duration/);
});

test('growth hidden in noise is not called a leak', () => {
  const trend = memoryTrend(series(600_000, (r) => r * 20, 40 * MB));
  assert.notEqual(trend.shape, 'rising');
});

test('a run with too few blocks is too short to judge', () => {
  assert.equal(memoryTrend(series(1000, () => 0).slice(0, 8)).shape, 'too short');
});

test('the latency histogram is within 2% at every scale', () => {
  const h = new Histogram();
  for (let i = 1; i <= 10_000; i++) h.record(i / 100); // 0.01 ms .. 100 ms
  for (const [q, want] of [[0.5, 50], [0.95, 95], [0.99, 99]]) {
    const got = h.quantile(q);
    assert.ok(Math.abs(got - want) / want < 0.02, `q${q}: ${got} vs ${want}`);
  }
  assert.equal(h.summary().max, 100);
  assert.equal(new Histogram().quantile(0.5), 0);
});

test('sparkline squeezes a long series and draws flat as flat', () => {
  assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), '▁▂▃▄▅▆▇█');
  assert.equal(sparkline(Array(500).fill(3), 40), '▁'.repeat(40));
  assert.ok(sparkline(Array.from({ length: 1000 }, (_, i) => i), 60).length <= 61);
});

test('growth that slows down in a short run is settling or unclear, neither PASS nor FAIL', () => {
  // Settling like V8 does, fast at first and slower later, still climbing at the end of a short run.
  const trend = memoryTrend(series(60_000, (r) => (1 - Math.exp(-r / 20_000)) * 80 * MB, 0.5 * MB));
  assert.ok(trend.shape === 'settling' || trend.shape === 'unclear', trend.shape);
  assert.equal(leakVerdict(trend, TARGET, LENGTH).undecided, true);
});

test('a PASS says how small a leak the run ruled out: the longer the run, the smaller', () => {
  const long = memoryTrend(series(600_000, () => 0));
  const short = memoryTrend(series(40_000, () => 0));
  assert.ok(long.ruledOutBytesPerRequest < 100, `long ${long.ruledOutBytesPerRequest}`);
  assert.ok(short.ruledOutBytesPerRequest > 200, `short ${short.ruledOutBytesPerRequest}`);
  assert.deepEqual(leakVerdict(long, TARGET, LENGTH), { pass: true, reasons: ['no leak of 1.0 KB/request or more'] });
  assert.equal(leakVerdict(memoryTrend(series(600_000, () => 0)), { bytesPerRequest: 16 }, LENGTH).undecided, true);
});

// Series recorded from real runs against the fixture servers: the same verdict every time.
function recorded(name: string) {
  const data = readRecorded(name);
  return memoryTrend(data.floors.map(([requests, bytes]: [number, number]) => ({ requests, bytes })));
}

test('recorded runs: leaks rise or ask for a longer run, clean servers are flat, a slow saw-tooth is no leak', () => {
  assert.equal(recorded('burst-leak').shape, 'rising');
  // 1.3 KB per call, only 86,000 calls on a machine busy with other work and no marked collection: the
  // growth alone is too large for a saw-tooth.
  assert.equal(recorded('heap-leak-busy-machine').shape, 'rising');
  assert.equal(recorded('clean').shape, 'flat');
  assert.equal(recorded('bounded-cache').shape, 'flat');
  // 1 MB of garbage per call on a machine busy with other work: V8 collected once in ten seconds, and the
  // run ended on a 36 MB climb.
  assert.equal(recorded('garbage-slow-sawtooth').shape, 'unclear');
  // The same server on a quiet machine: a saw-tooth every ~5 blocks back to the same floor, and the run
  // ended at the top of one. Flat, not a heap still settling.
  assert.equal(recorded('garbage-ends-on-peak').shape, 'flat');
});

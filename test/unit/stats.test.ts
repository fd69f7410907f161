// The statistics module on known values: what each function gives is worked out by hand here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLine, median, quantile, robustSd, scatterAbout, theilSen, thin } from '../../src/judge/stats.js';

const points = (ys: number[], xs = ys.map((_, i) => i)) => ys.map((bytes, i) => ({ requests: xs[i], bytes }));

test('median: the middle value, the mean of the two middle ones, 0 for none; the input is left as it was', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.equal(median([7]), 7);
  assert.equal(median([]), 0);
  assert.equal(median([5, 5, 5, 1, 9]), 5);
  const values = [9, 8, 7, 6, 5];
  median(values);
  assert.deepEqual(values, [9, 8, 7, 6, 5]);
  // Large and shuffled: selection gives what sorting gives.
  const many = Array.from({ length: 10_001 }, (_, i) => (i * 7919) % 10_001);
  assert.equal(median(many), 5000);
});

test('quantile: nearest rank', () => {
  const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(quantile(v, 0.5), 5);
  assert.equal(quantile(v, 0.95), 10);
  assert.equal(quantile(v, 0.9), 9);
  assert.equal(quantile(v, 0), 1);
  assert.equal(quantile(v, 1), 10);
  assert.equal(quantile([4, 1, 3, 2], 0.5), 2);
  assert.equal(quantile([], 0.5), 0);
});

test('robustSd: 1.4826 x the median absolute deviation about the median; one outlier does not move it', () => {
  // Deviations from the median 3: 2, 1, 0, 1, 2 -> MAD 1.
  assert.equal(robustSd([1, 2, 3, 4, 5]), 1.4826);
  assert.equal(robustSd([1, 2, 3, 4, 5000]), 1.4826);
  assert.equal(robustSd([7, 7, 7]), 0);
});

test('theilSen: the median pairwise slope, which a few spikes cannot drag', () => {
  assert.equal(theilSen(points([0, 2, 4, 6, 8])), 2);
  // Two spikes in twenty points: least squares would tilt; the median of the slopes does not.
  const ys = Array.from({ length: 20 }, (_, i) => 100 + 3 * i);
  ys[5] += 10_000;
  ys[14] -= 10_000;
  assert.equal(theilSen(points(ys)), 3);
  // Pairs with the same x are left out.
  assert.equal(theilSen([{ requests: 1, bytes: 0 }, { requests: 1, bytes: 50 }, { requests: 2, bytes: 10 }, { requests: 3, bytes: 20 }]), 10);
  assert.equal(theilSen(points([5])), 0);
});

test('theilSen on a long series: thinned, still exact on a line, and quick', () => {
  const long = points(Array.from({ length: 5000 }, (_, i) => 1e6 + 64 * i));
  const started = performance.now();
  assert.equal(theilSen(long), 64);
  assert.ok(performance.now() - started < 1000);
});

test('fitLine and scatterAbout: the Theil-Sen line and the robust scatter of the points about it', () => {
  const line = fitLine(points([10, 13, 14, 19, 22]));
  // Pairwise slopes 3, 2, 3, 3, 1, 3, 3, 5, 4, 3 -> median 3; intercepts 10, 10, 8, 10, 10 -> median 10.
  assert.deepEqual(line, { slope: 3, intercept: 10 });
  // Residuals 0, 0, -2, 0, 0 -> median absolute residual 0.
  assert.equal(scatterAbout(points([10, 13, 14, 19, 22]), line), 0);
  assert.equal(scatterAbout(points([11, 12, 17, 18, 22]), { slope: 3, intercept: 10 }), 1.4826);
});

test('thin: at most max points, evenly spread, the first and the last kept', () => {
  const xs = Array.from({ length: 11 }, (_, i) => i);
  assert.deepEqual(thin(xs, 6), [0, 2, 4, 6, 8, 10]);
  assert.deepEqual(thin(xs, 20), xs);
  assert.equal(thin(Array.from({ length: 1000 }, (_, i) => i), 150).at(-1), 999);
});

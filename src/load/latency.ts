// Latency without per-request storage: a log-linear histogram (HDR-style, 1/64 relative precision) in a
// fixed array, so the tester's memory stays flat at a million requests. Written by hand because recording
// is on the hot path, and the existing HDR packages bring WebAssembly and far more than four percentiles.
import type { LatencySummary } from '../results.js';

const SUB_BUCKETS = 64;
const MIN_US = 1; // resolution: one microsecond
const EXPONENTS = 40; // up to ~2^40 µs, about 12 days

export class Histogram {
  private counts = new Float64Array(EXPONENTS * SUB_BUCKETS);
  count = 0;
  max = 0;

  record(ms: number): void {
    const us = ms * 1000;
    if (ms > this.max) this.max = ms;
    this.count++;
    this.counts[index(us < MIN_US ? MIN_US : us)]++;
  }

  /** The value at quantile q (0..1), in milliseconds, accurate to about 1.5%. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const target = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i];
      if (seen >= target) return Math.min(this.max, upperBound(i) / 1000);
    }
    return this.max;
  }

  summary(): LatencySummary {
    return {
      p50: round(this.quantile(0.5)), p95: round(this.quantile(0.95)), p99: round(this.quantile(0.99)),
      max: round(this.max), count: this.count,
    };
  }
}

function index(us: number): number {
  const exp = Math.floor(Math.log2(us));
  const e = exp < 6 ? 0 : exp - 5; // below 64 µs the buckets are exact microseconds
  const sub = e === 0 ? Math.floor(us) : Math.floor(us / 2 ** (e - 1)) - SUB_BUCKETS;
  return Math.min(EXPONENTS * SUB_BUCKETS - 1, e * SUB_BUCKETS + Math.min(SUB_BUCKETS - 1, sub));
}

function upperBound(i: number): number {
  const e = Math.floor(i / SUB_BUCKETS);
  const sub = i % SUB_BUCKETS;
  return e === 0 ? sub + 1 : (sub + SUB_BUCKETS + 1) * 2 ** (e - 1);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

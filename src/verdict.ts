// Pure statistics: memory floors in, a trend and a pass/fail with plain-sentence reasons out.
// No clock, no I/O: a recorded series always gives the same verdict.
//
// The rule, in plain words: the first part of the run is warm-up (V8 and the SDK grow by tens of MB before
// they settle) and is left out. After it, the lowest memory of each block is fitted against the number of
// requests with Theil-Sen (the median of all pairwise slopes, which a few GC spikes cannot drag). The
// server leaks when that slope is over a per-request budget, the growth it predicts over the run is over a
// total budget and well above the noise, and the second half of the run still climbs (a cache that fills
// up and stops is not a leak).

export interface Point {
  requests: number;
  bytes: number;
}

export interface Budgets {
  /** Bytes per request below which growth is not called a leak. */
  bytesPerRequest: number;
  /** Total bytes of growth over the measured part of the run below which it is not called a leak. */
  totalBytes: number;
  /** Share of the run (by blocks) treated as warm-up. */
  warmupFraction: number;
  /** Fewest blocks after warm-up for a verdict. */
  minBlocks: number;
}

export const DEFAULT_BUDGETS: Budgets = {
  bytesPerRequest: 64,
  totalBytes: 8 * 1024 * 1024,
  warmupFraction: 0.25,
  minBlocks: 8,
};

export type Shape = 'flat' | 'rising' | 'levels off' | 'too short';

export interface Trend {
  shape: Shape;
  /** Floor at the end of warm-up, and at the end of the run. */
  baseline: number;
  end: number;
  bytesPerRequest: number;
  earlyBytesPerRequest: number;
  lateBytesPerRequest: number;
  /** Growth the fit predicts over the measured requests. */
  growth: number;
  /** Scatter of the floors around the fit (robust standard deviation). */
  noise: number;
  /** The requests measured after warm-up. */
  measuredRequests: number;
  blocks: number;
  warmupBlocks: number;
  /** Where a rising series flattened: bytes above baseline, and after how many requests. */
  levelsOffAt?: { bytes: number; requests: number };
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Theil-Sen slope: the median of the slopes between every pair of points. */
export function theilSen(points: Point[]): number {
  const slopes: number[] = [];
  // Thin long series so that the pairs stay under ~200,000.
  const step = Math.max(1, Math.ceil(points.length / 600));
  const pts = points.filter((_, i) => i % step === 0);
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const dx = pts[j].requests - pts[i].requests;
      if (dx > 0) slopes.push((pts[j].bytes - pts[i].bytes) / dx);
    }
  }
  return median(slopes);
}

export function memoryTrend(floors: Point[], budgets: Budgets = DEFAULT_BUDGETS): Trend {
  const warmupBlocks = Math.min(floors.length, Math.ceil(floors.length * budgets.warmupFraction));
  const measured = floors.slice(warmupBlocks);
  const base = floors[Math.max(0, warmupBlocks - 1)]?.bytes ?? 0;
  const endBytes = floors.at(-1)?.bytes ?? 0;
  const empty: Trend = {
    shape: 'too short', baseline: base, end: endBytes, bytesPerRequest: 0, earlyBytesPerRequest: 0,
    lateBytesPerRequest: 0, growth: 0, noise: 0, measuredRequests: 0, blocks: floors.length, warmupBlocks,
  };
  if (measured.length < budgets.minBlocks) return empty;

  const slope = theilSen(measured);
  const x0 = measured[0].requests;
  const span = measured.at(-1)!.requests - x0;
  const intercept = median(measured.map((p) => p.bytes - slope * p.requests));
  const noise = 1.4826 * median(measured.map((p) => Math.abs(p.bytes - (intercept + slope * p.requests))));
  const half = measured.length >> 1;
  const early = theilSen(measured.slice(0, half + 1));
  const late = theilSen(measured.slice(half));
  const growth = slope * span;
  const trend: Trend = {
    ...empty, bytesPerRequest: slope, earlyBytesPerRequest: early, lateBytesPerRequest: late, growth, noise,
    measuredRequests: span,
  };
  const over = (perRequest: number, requests: number) =>
    perRequest > budgets.bytesPerRequest && perRequest * requests > Math.max(budgets.totalBytes, 4 * noise);

  // Still climbing in the second half: a leak. Growth confined to the first half: something filled up.
  if (over(late, span / 2)) return { ...trend, shape: 'rising' };
  const rose = endBytes - base > Math.max(budgets.totalBytes, 4 * noise);
  if (!over(slope, span) && !over(early, span / 2) && !rose) return { ...trend, shape: 'flat' };
  const top = median(measured.slice(half).map((p) => p.bytes));
  const reached = measured.find((p) => p.bytes >= base + 0.9 * (top - base)) ?? measured[half];
  return { ...trend, shape: 'levels off', levelsOffAt: { bytes: Math.max(0, top - base), requests: reached.requests } };
}

export interface Verdict {
  pass: boolean;
  reasons: string[];
}

export const MB = 1024 * 1024;

export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= 1024 * MB) return `${(bytes / 1024 / MB).toFixed(1)} GB`;
  if (abs >= 10 * MB) return `${Math.round(bytes / MB)} MB`;
  if (abs >= MB) return `${(bytes / MB).toFixed(1)} MB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${Math.round(bytes)} B`;
}

/**
 * The leak verdict from a trend; crashes, hangs and error floods are judged by the caller. With session
 * churn (a new session every requestsPerSession requests) growth is also told per session, since state kept
 * after a session has ended is the usual leak of HTTP servers.
 */
export function leakVerdict(trend: Trend, requestsPerSession?: number): Verdict {
  if (trend.shape === 'rising' && requestsPerSession) {
    const sessions = Math.round(trend.measuredRequests / requestsPerSession);
    return {
      pass: false,
      reasons: [`memory grows as sessions come and go: ${formatBytes(trend.bytesPerRequest * requestsPerSession)} per session `
        + `(a new session every ${requestsPerSession.toLocaleString('en-US')} requests; ${formatBytes(trend.bytesPerRequest)} per request) after warm-up, `
        + `${formatBytes(trend.growth)} over ${sessions.toLocaleString('en-US')} sessions, still rising: ended sessions are not freed, or every request leaks`],
    };
  }
  if (trend.shape === 'rising') {
    return {
      pass: false,
      reasons: [`memory grows with every request: ${formatBytes(trend.bytesPerRequest)} per request after warm-up, `
        + `${formatBytes(trend.growth)} over ${trend.measuredRequests.toLocaleString('en-US')} requests, still rising`],
    };
  }
  return { pass: true, reasons: [] };
}

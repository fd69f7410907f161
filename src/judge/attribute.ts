// Which call or client behaviour the growth comes from, and what each costs. Pure: floors in (the memory
// that decided, and at each floor the counts of what the load did: the calls made of each call, sessions
// abandoned and ended with DELETE, streams dropped, calls cancelled, requests hung up on, refused
// requests), costs out.
//
// Every block of the run loads in different proportions (clients/mix.ts, requests/deck.ts), so the counts
// do not grow in step. The growth of each block after warm-up is then the sum of each count's growth times
// its cost, plus noise: a linear model fitted by non-negative least squares (Lawson and Hanson 1974: no
// cost can be negative; noise would otherwise lend a clean call a negative cost to balance a leaky one).
// A cost is established when it is over three of its standard errors and the growth it explains counts.
import type { Point } from './fit.js';

/** What a factor is: a call of the load, a client behaviour, or what is held for a while (sessions until freed). */
export type FactorKind = 'call' | 'behaviour' | 'held';

export interface FactorInput {
  name: string;
  kind: FactorKind;
  /** What the events are called in a sentence: 'calls to echo', 'abandoned sessions', 'dropped streams', ... */
  unit: string;
  /** Its cumulative count at each floor. */
  counts: number[];
}

export interface Factor {
  name: string;
  kind: FactorKind;
  unit: string;
  /** Events over the part judged (after warm-up): the count's rises. */
  events: number;
  /** The count's highest value over the part judged (for a count that goes down too: sessions held). */
  peak: number;
  bytesPerEvent: number;
  /** Standard error of bytesPerEvent. */
  stderr: number;
  /** Growth it explains over the part judged: its cost times the count's change. */
  bytes: number;
  /** Over three standard errors, and a share of the growth that counts (for a count that goes down too, at its peak). */
  established: boolean;
}

export interface Attribution {
  factors: Factor[];
  /** The growth of the part judged, and the share of it the factors explain. */
  growth: number;
  explained: number;
  /** Blocks fitted. */
  blocks: number;
}

/** Fewest blocks after warm-up, per factor fitted, for costs worth reporting. */
const BLOCKS_PER_FACTOR = 3;

/**
 * Costs of each factor, from the floors after `from` (the warm-up). significant: growth that counts over the
 * part judged (the trend's significance); a factor explaining less than a quarter of it is not established.
 */
export function attribute(floors: Point[], inputs: FactorInput[], from: number, significant: number): Attribution | null {
  const start = Math.max(0, from - 1);
  const n = floors.length - 1 - start;
  const used = inputs.filter((f) => f.counts.some((c, k) => k > start && c !== f.counts[k - 1]));
  if (!used.length || n < BLOCKS_PER_FACTOR * used.length) return null;
  // One row per block: its growth, and the growth of each count over it.
  const rows: number[][] = [];
  const y: number[] = [];
  for (let k = start + 1; k < floors.length; k++) {
    rows.push(used.map((f) => f.counts[k] - f.counts[k - 1]));
    y.push(floors[k].bytes - floors[k - 1].bytes);
  }
  const { cost, stderr } = nonNegative(rows, y);
  const growth = floors.at(-1)!.bytes - floors[start].bytes;
  const factors = used.map((f, j): Factor => {
    let events = 0;
    let peak = 0;
    for (let k = start + 1; k < floors.length; k++) {
      events += Math.max(0, f.counts[k] - f.counts[k - 1]);
      peak = Math.max(peak, f.counts[k]);
    }
    const bytes = cost[j] * (f.counts[floors.length - 1] - f.counts[start]);
    const monotone = f.counts.every((c, k) => k === 0 || c >= f.counts[k - 1]);
    return {
      name: f.name, kind: f.kind, unit: f.unit, events, peak, bytesPerEvent: cost[j], stderr: stderr[j], bytes,
      established: cost[j] > 3 * stderr[j] && (monotone ? bytes : cost[j] * peak) > significant / 4,
    };
  }).sort((a, b) => b.bytes - a.bytes);
  const explained = growth > 0 ? Math.min(1, factors.reduce((s, f) => s + f.bytes, 0) / growth) : 0;
  return { factors, growth, explained, blocks: n };
}

/**
 * Non-negative least squares by Lawson and Hanson's active set method, on columns scaled to unit length
 * (counts of calls and of sessions differ by orders of magnitude); with the standard errors of the costs
 * left positive, from the ordinary least squares refit on them.
 */
export function nonNegative(rows: number[][], y: number[]): { cost: number[]; stderr: number[] } {
  const p = rows[0]?.length ?? 0;
  const scale = Array.from({ length: p }, (_, j) => Math.sqrt(rows.reduce((s, r) => s + r[j] * r[j], 0)) || 1);
  const a = rows.map((r) => r.map((v, j) => v / scale[j]));
  const g = gram(a);
  const h = Array.from({ length: p }, (_, j) => a.reduce((s, r, i) => s + r[j] * y[i], 0));
  const x = new Array(p).fill(0);
  const passive = new Set<number>();
  const tol = 1e-10 * Math.max(1, ...h.map(Math.abs));
  for (let iteration = 0; iteration < 3 * p; iteration++) {
    const w = h.map((hj, j) => hj - g[j].reduce((s, gjk, k) => s + gjk * x[k], 0));
    let t = -1;
    for (let j = 0; j < p; j++) if (!passive.has(j) && w[j] > tol && (t < 0 || w[j] > w[t])) t = j;
    if (t < 0) break;
    passive.add(t);
    for (;;) {
      const s = solveOn(g, h, passive);
      const negative = [...passive].filter((j) => s[j] <= 0);
      if (!negative.length) {
        for (let j = 0; j < p; j++) x[j] = s[j];
        break;
      }
      const alpha = Math.min(...negative.map((j) => x[j] / (x[j] - s[j])));
      for (let j = 0; j < p; j++) x[j] += alpha * (s[j] - x[j]);
      for (const j of [...passive]) if (x[j] <= tol) { passive.delete(j); x[j] = 0; }
    }
  }
  return { cost: x.map((v, j) => v / scale[j]), stderr: errors(a, y, x, g, passive).map((e, j) => e / scale[j]) };
}

function gram(a: number[][]): number[][] {
  const p = a[0].length;
  return Array.from({ length: p }, (_, j) => Array.from({ length: p }, (_, k) => a.reduce((s, r) => s + r[j] * r[k], 0)));
}

/** The least squares solution on the passive columns (the others 0): G_PP s = h_P, by Gaussian elimination. */
function solveOn(g: number[][], h: number[], passive: Set<number>): number[] {
  const idx = [...passive];
  const m = idx.map((j) => [...idx.map((k) => g[j][k]), h[j]]);
  const sol = eliminate(m);
  const s = new Array(h.length).fill(0);
  idx.forEach((j, i) => { s[j] = sol[i]; });
  return s;
}

/** Solve an augmented matrix [M | v] by Gaussian elimination with partial pivoting; a singular column gives 0. */
function eliminate(m: number[][]): number[] {
  const n = m.length;
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    if (Math.abs(m[c][c]) < 1e-12) continue;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => (Math.abs(row[i]) < 1e-12 ? 0 : row[n] / row[i]));
}

/** Standard errors of the positive costs: residual variance times the diagonal of (G_PP)^-1; 0 elsewhere. */
function errors(a: number[][], y: number[], x: number[], g: number[][], passive: Set<number>): number[] {
  const p = x.length;
  const out = new Array(p).fill(0);
  const idx = [...passive];
  const dof = y.length - idx.length;
  if (!idx.length || dof <= 0) return out;
  const rss = a.reduce((s, r, i) => s + (y[i] - r.reduce((t, v, j) => t + v * x[j], 0)) ** 2, 0);
  const variance = rss / dof;
  idx.forEach((j, i) => {
    // The i-th column of the inverse: solve G_PP z = e_i.
    const m = idx.map((r, ri) => [...idx.map((k) => g[r][k]), ri === i ? 1 : 0]);
    out[j] = Math.sqrt(Math.max(0, variance * eliminate(m)[i]));
  });
  return out;
}

/** Fewer events than this tell nothing about their cost. */
const FEW_EVENTS = 20;

/**
 * "explained by abandoned sessions: 41 KB each (980 of them, 39 MB); cleared: calls to echo, cancelled
 * calls; too few to tell: 3 dropped event streams". A factor is cleared when even its cost plus three
 * standard errors is under a quarter of the smallest cost named. Null when nothing is established.
 */
export function attributionSentence(a: Attribution, formatBytes: (b: number) => string): string | null {
  // A count that goes down as well as up (sessions held for a while) explains no lasting growth: not named.
  const named = a.factors.filter((f) => f.established && f.kind !== 'held');
  if (!named.length) return null;
  const each = named.map((f) => `${f.unit}: ${formatBytes(f.bytesPerEvent)} each (${Math.round(f.events).toLocaleString('en-US')} of them, ${formatBytes(f.bytes)})`);
  const smallest = Math.min(...named.map((f) => f.bytesPerEvent));
  const others = a.factors.filter((f) => !f.established && f.kind !== 'held');
  const few = others.filter((f) => f.events < FEW_EVENTS);
  const cleared = others.filter((f) => f.events >= FEW_EVENTS && f.bytesPerEvent + 3 * f.stderr < smallest / 4);
  return [`explained by ${each.join(' and ')}`,
    ...(cleared.length ? [`cleared: ${cleared.map((f) => f.unit).join(', ')}`] : []),
    ...(few.length ? [`too few to tell: ${few.map((f) => `${f.events} ${f.unit}`).join(', ')}`] : [])].join('; ');
}

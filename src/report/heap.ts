// The lines --heap adds under the verdict: for a Node.js server the heap after GC at warm-up and at the
// end, for a Python server the traced calls after the run and what tracing cost; then, in one format for
// both, what grew. Rendering only: it reads the results, never the server.
import type { HeapGrowth, HeapResults } from '../results.js';
import { count as n, formatBytes, MB } from '../format.js';

const mb = (bytes: number) => `${bytes >= 10 * MB ? Math.round(bytes / MB) : (bytes / MB).toFixed(1)} MB`;

/** per: what perRequest counts ('request', or 'key' in the cache test). */
export function heapLines(h: HeapResults, decidedBy?: string, per = 'request'): string[] {
  if (h.pid === undefined) return [];
  const lines: string[] = [];
  const verdict = decidedBy ? `; verdict from ${decidedBy === 'both' ? 'both process memory and heap' : decidedBy}` : '';
  if (h.runtime === 'cpython') lines.push(...tracingLines(h, verdict));
  else if (h.baseline && h.end) lines.push(`Heap after GC (pid ${h.pid}): ${mb(h.baseline.bytes)} at warm-up, ${mb(h.end.bytes)} at the end${verdict}`);
  if (h.problem) lines.push(`Heap: ${h.problem}`);
  if (!h.end || h.problem) return lines;
  const title = h.runtime === 'cpython' ? 'Kept by the traced calls (after a full collection)' : 'Growing since warm-up (heap, after GC)';
  if (h.growth.length === 0) {
    lines.push(`${title}: nothing above ${formatBytes(h.minBytes)}`);
    return lines;
  }
  lines.push(`${title}:`);
  const width = Math.max(...h.growth.map((g) => g.name.length));
  for (const g of h.growth) lines.push(growthLine(g, width, per));
  const held = h.growth[0].retainedBy;
  if (held) lines.push(`  the largest is held by: ${held}`);
  return lines;
}

function growthLine(g: HeapGrowth, width: number, per: string): string {
  const size = `+${formatBytes(g.bytes)}`.padEnd(9);
  const each = `${n(g.count)} x ${formatBytes(g.bytes / Math.max(1, g.count))}`.padEnd(18);
  const where = g.location ? `  ${g.location}${g.function ? `  (${g.function})` : ''}` : '';
  const count = g.countPerRequest !== undefined ? ` in ${fewer(g.countPerRequest)}` : '';
  const rate = g.perRequest > 0 ? `  ${formatBytes(g.perRequest)}${count} per ${per}` : '';
  return `  ${size} ${g.name.padEnd(width)}  ${each}${where}${rate}`.trimEnd();
}

/** A count per request: 1, 2.5, 0.031. */
const fewer = (v: number): string => (v >= 10 ? n(v) : v >= 1 ? String(Math.round(v * 10) / 10) : String(Number(v.toPrecision(2))));

/** A Python server: the calls traced after the run, what they left allocated, and the slowdown tracing caused. */
function tracingLines(h: HeapResults, verdict: string): string[] {
  const t = h.tracemalloc;
  if (!t || !h.baseline) return [];
  const lines = [`Traced after the run (pid ${h.pid}, Python ${t.python}, tracemalloc, ${t.frames} frames): ${n(h.traceRequests)} calls`
    + `${t.tracedBytes !== undefined ? `, ${formatBytes(t.tracedBytes)} still allocated` : ''}${verdict}`];
  const s = t.slowdown;
  if (s) lines.push(`Tracing cost: ${n(s.withoutTracing)} requests/s without tracemalloc, ${n(s.withTracing)} with it (${slower(s.withoutTracing, s.withTracing)})`);
  return lines;
}

/** How much slower the traced calls ran: a ratio past twice, else a percentage. */
function slower(without: number, traced: number): string {
  if (traced <= 0) return 'no call finished while traced';
  const ratio = without / traced;
  if (ratio >= 2) return `${ratio >= 10 ? Math.round(ratio) : ratio.toFixed(1)}x slower`;
  const percent = Math.round((ratio - 1) * 100);
  return percent > 0 ? `${percent}% slower` : 'no slower, within the noise';
}

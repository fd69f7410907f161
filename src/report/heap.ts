// The lines --heap adds under the verdict: the heap after GC at warm-up and at the end, and what grew.
// Rendering only: it reads the results, never the server.
import type { HeapResults } from '../results.js';
import { count as n, formatBytes, MB } from '../format.js';

const mb = (bytes: number) => `${bytes >= 10 * MB ? Math.round(bytes / MB) : (bytes / MB).toFixed(1)} MB`;

export function heapLines(h: HeapResults, decidedBy?: string): string[] {
  if (h.pid === undefined) return [];
  const lines: string[] = [];
  if (h.baseline && h.end) {
    lines.push(`Heap after GC (pid ${h.pid}): ${mb(h.baseline.bytes)} at warm-up, ${mb(h.end.bytes)} at the end`
      + `${decidedBy ? `; verdict from ${decidedBy === 'both' ? 'both process memory and heap' : decidedBy}` : ''}`);
  }
  if (h.problem) lines.push(`Heap: ${h.problem}`);
  if (!h.end || h.problem) return lines;
  if (h.growth.length === 0) {
    lines.push(`Growing since warm-up (heap, after GC): nothing above ${formatBytes(h.minBytes)}`);
    return lines;
  }
  lines.push('Growing since warm-up (heap, after GC):');
  const width = Math.max(...h.growth.map((g) => g.name.length));
  for (const g of h.growth) {
    const size = `+${formatBytes(g.bytes)}`.padEnd(9);
    const each = `${n(g.count)} x ${formatBytes(g.bytes / Math.max(1, g.count))}`.padEnd(18);
    const where = g.location ? `  ${g.location}  (${g.function})` : '';
    lines.push(`  ${size} ${g.name.padEnd(width)}  ${each}${where}`.trimEnd());
  }
  const held = h.growth[0].retainedBy;
  if (held) lines.push(`  the largest is held by: ${held}`);
  return lines;
}

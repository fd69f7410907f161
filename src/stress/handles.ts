// The handle counts of the memory and cache tests: the hook the load calls at each block floor, and after
// the run the results' `handles` section with its verdict (judge/handles.ts), the EMFILE evidence, the
// processes that outlived the server, and what counting cost.
import { countHandles, hasHandleCounts } from '../sampling/handles.js';
import { HANDLE_KINDS, judgeHandles, type HandleJudgeOptions, type HandlePoint, type HandlesJudged } from '../judge/handles.js';
import type { Floor } from '../load/closedloop.js';
import type { ServerProcess } from '../server/process.js';
import type { CacheResults, HandleCounts, HandleKind, HandleKindSection, MemoryResults } from '../results.js';
import { median } from '../judge/stats.js';
import { round } from '../format.js';

const NOT_AVAILABLE = 'handle counts (open files, sockets, pipes, threads, processes) are not available here (no /proc): only memory is judged';

/** The floor hook for HammerOptions.handles; undefined where there is nothing to count (no /proc, no process). */
export function handleCounter(server: ServerProcess): ((pids: number[]) => HandleCounts | null) | undefined {
  return hasHandleCounts && server.pid ? countHandles : undefined;
}

/** A line where the server said it ran out of descriptors: in its answers (error samples) or on its stderr. */
function emfileEvidence(results: MemoryResults | CacheResults): HandleJudgeOptions['emfile'] {
  const emfile = /EMFILE|too many open files/i;
  const answer = Object.values(results.errors).flatMap((e) => e?.samples ?? []).find((s) => emfile.test(s));
  if (answer) return { text: answer, where: 'answers' };
  const line = results.stderrTail.find((l) => emfile.test(l));
  return line ? { text: line, where: 'stderr' } : undefined;
}

/** "sleep ×12, node": the names of processes, most frequent first. */
function describeProcesses(list: { command: string }[]): string {
  const counts = new Map<string, number>();
  for (const p of list) counts.set(p.command || '?', (counts.get(p.command || '?') ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([c, k]) => (k > 1 ? `${c} ×${k}` : c)).join(', ');
}

/**
 * Judges the handles at the floors (requests counted over the whole run) and writes `handles` and its
 * warnings into the results; the verdict for withHandles, or null when nothing was counted. Call after
 * the server has been ended, so that what outlived it is known.
 */
export function fillHandles(results: MemoryResults | CacheResults, floors: Floor[], server: ServerProcess): HandlesJudged | null {
  const series: HandlePoint[] = floors.flatMap((f): HandlePoint[] => (f.handles ? [[f.requests, f.handles]] : []));
  const emfile = emfileEvidence(results);
  const outlived = server.outlived();
  if (outlived.length) {
    results.warnings.push(`${outlived.length} process${outlived.length > 1 ? 'es' : ''} of the server's tree outlived its exit `
      + `(${describeProcesses(outlived)}); mcp-hammer ended ${outlived.length > 1 ? 'them' : 'it'}`);
  }
  if (!hasHandleCounts && server.pid) results.warnings.push(NOT_AVAILABLE);
  if (!series.length) return emfile ? judgeHandles([], { emfile }) : null;
  const judged = judgeHandles(series, { emfile });
  const last = series.at(-1)![1];
  const unreadable = Math.max(...series.map(([, c]) => c.unreadable ?? 0));
  if (unreadable) {
    results.warnings.push(`the descriptors of ${unreadable} process${unreadable > 1 ? 'es' : ''} of the tree could not be read `
      + '(EACCES: another user\'s); their threads and the processes are counted, their descriptors are not');
  }
  const kinds = {} as Record<HandleKind, HandleKindSection>;
  for (const kind of HANDLE_KINDS) {
    const k = judged.kinds[kind];
    kinds[kind] = {
      start: k.start, end: k.end, perRequest: round(k.perRequest, 6), jitter: round(k.jitter, 2), shape: k.shape, leaking: k.leaking,
      series: series.map(([r, c]) => [r, c[kind]]),
    };
  }
  const ms = series.map(([, c]) => c.ms ?? 0);
  results.handles = {
    kinds,
    warmupRequests: judged.warmupRequests,
    mostFds: last.mostFds ?? 0,
    fdLimit: last.fdLimit ?? null,
    newest: last.newest ?? [],
    ...(emfile && { emfile: emfile.text }),
    outlived,
    costMs: { median: round(median(ms), 3), max: round(Math.max(...ms), 3) },
  };
  return judged;
}

// Memory of a whole process tree (a server started through npx or sh -c is a grandchild).
// On Linux it is read from /proc; elsewhere (macOS) from `ps`, which is slower and knows only RSS.
import { readFile, readdir } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface MemoryReading {
  /** Leak signal: anonymous proportional memory (Pss_Anon), summed over the tree; RSS where that is unknown. */
  anon: number;
  /** Resident set size summed over the tree (shared pages counted once per process). */
  rss: number;
  pids: number[];
}

export type Sampler = () => Promise<MemoryReading>;

const hasProc = existsSync('/proc/self/stat');

/** Every descendant of root (and root itself), found by walking parent pids. */
export async function processTree(root: number): Promise<number[]> {
  const parents = hasProc ? await procParents() : await psParents();
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents) {
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  if (!parents.has(root)) return [];
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) ?? []));
  return tree;
}

async function procParents(): Promise<Map<number, number>> {
  const parents = new Map<number, number>();
  const names = await readdir('/proc');
  await Promise.all(names.map(async (name) => {
    const pid = Number(name);
    if (!Number.isInteger(pid)) return;
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'latin1');
      // The command name may hold spaces and parentheses: the fields we want follow the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(pid, Number(fields[1]));
    } catch {
      // the process ended while we looked
    }
  }));
  return parents;
}

function ps(args: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile('ps', args, { encoding: 'utf8' }, (_err, stdout) => resolve(stdout ?? ''));
  });
}

async function psParents(): Promise<Map<number, number>> {
  const parents = new Map<number, number>();
  for (const line of (await ps(['-A', '-o', 'pid=,ppid='])).split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (pid > 0) parents.set(pid, ppid);
  }
  return parents;
}

const KB = 1024;

/** Pss_Anon and Rss of one process, in bytes; null if it has gone. */
export async function processMemory(pid: number): Promise<{ anon: number; rss: number } | null> {
  if (!hasProc) {
    const kb = Number((await ps(['-o', 'rss=', '-p', String(pid)])).trim());
    return kb > 0 ? { anon: kb * KB, rss: kb * KB } : null;
  }
  try {
    const text = await readFile(`/proc/${pid}/smaps_rollup`, 'latin1');
    return { anon: field(text, 'Pss_Anon:') * KB, rss: field(text, 'Rss:') * KB };
  } catch {
    // Kernels before 4.14 have no smaps_rollup; status has RssAnon (not proportional, close enough).
    try {
      const text = await readFile(`/proc/${pid}/status`, 'latin1');
      return { anon: field(text, 'RssAnon:') * KB, rss: field(text, 'VmRSS:') * KB };
    } catch {
      return null;
    }
  }
}

function field(text: string, name: string): number {
  const at = text.indexOf(name);
  if (at < 0) return 0;
  return parseInt(text.slice(at + name.length), 10) || 0;
}

/**
 * A sampler for the tree under root. Finding the tree costs a scan of /proc (~3 ms), reading one
 * process ~1.3 ms, so the tree is rescanned at most once a second and the known pids are read each time.
 */
export function treeSampler(root: number, rescanMs = 1000): Sampler {
  let pids: number[] = [root];
  let scannedAt = -Infinity;
  return async () => {
    const now = performance.now();
    if (now - scannedAt > rescanMs) {
      const tree = await processTree(root);
      if (tree.length) pids = tree;
      scannedAt = now;
    }
    const readings = await Promise.all(pids.map(processMemory));
    let anon = 0;
    let rss = 0;
    const alive: number[] = [];
    readings.forEach((r, i) => {
      if (!r) return;
      anon += r.anon;
      rss += r.rss;
      alive.push(pids[i]);
    });
    return { anon, rss, pids: alive };
  };
}

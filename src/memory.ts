// Memory of a whole process tree (a server started through npx or sh -c is a grandchild).
// On Linux it is read from /proc; elsewhere (macOS) from `ps`, which is slower and knows only RSS.
import { readdir } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { close, existsSync, open, read } from 'node:fs';

export interface MemoryReading {
  /** Leak signal: anonymous proportional memory (Pss_Anon), summed over the tree; RSS where that is unknown. */
  anon: number;
  /** Resident set size summed over the tree (shared pages counted once per process). */
  rss: number;
  pids: number[];
  /** CPU time the tree has used so far, in seconds (Linux only): tells whether the server or the tester is busier. */
  cpuSeconds?: number;
}

export type Sampler = () => Promise<MemoryReading>;

const hasProc = existsSync('/proc/self/stat');

/**
 * A small /proc file as text, or null if it is gone. fs.readFile costs several times more here: /proc files
 * report size 0, so it allocates 64 KB and goes back to the thread pool again and again, and the sampler
 * reads these files many times a second while the load runs.
 */
function readProc(path: string): Promise<string | null> {
  return new Promise((resolve) => {
    open(path, 'r', (err, fd) => {
      if (err) return resolve(null);
      const chunks: Buffer[] = [];
      const next = () => {
        const buf = Buffer.allocUnsafe(4096);
        read(fd, buf, 0, buf.length, null, (err2, n) => {
          if (!err2 && n > 0) chunks.push(buf.subarray(0, n));
          // These files are far smaller than the buffer and come whole in one read; read on only if it filled.
          if (!err2 && n === buf.length) return next();
          close(fd, () => {});
          resolve(err2 ? null : Buffer.concat(chunks).toString('latin1'));
        });
      };
      next();
    });
  });
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

// Clock ticks per second in /proc/PID/stat: USER_HZ, 100 on every Linux that matters.
const TICKS = 100;
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
    const stat = await readProc(`/proc/${pid}/stat`);
    if (stat) parents.set(pid, Number(statFields(stat)[1])); // else it ended while we looked
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

/** Pss_Anon and Rss of one process, in bytes, and its CPU time in seconds (Linux); null if it has gone. */
export async function processMemory(pid: number): Promise<{ anon: number; rss: number; cpuSeconds?: number } | null> {
  if (!hasProc) {
    const kb = Number((await ps(['-o', 'rss=', '-p', String(pid)])).trim());
    return kb > 0 ? { anon: kb * KB, rss: kb * KB } : null;
  }
  const [rollup, stat] = await Promise.all([readProc(`/proc/${pid}/smaps_rollup`), readProc(`/proc/${pid}/stat`)]);
  if (!stat) return null;
  const f = statFields(stat);
  const cpuSeconds = (Number(f[11]) + Number(f[12])) / TICKS; // utime + stime
  if (rollup) return { anon: field(rollup, 'Pss_Anon:') * KB, rss: field(rollup, 'Rss:') * KB, cpuSeconds };
  // Kernels before 4.14 have no smaps_rollup; status has RssAnon (not proportional, close enough).
  const status = await readProc(`/proc/${pid}/status`);
  return status ? { anon: field(status, 'RssAnon:') * KB, rss: field(status, 'VmRSS:') * KB, cpuSeconds } : null;
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
    let cpuSeconds: number | undefined;
    const alive: number[] = [];
    readings.forEach((r, i) => {
      if (!r) return;
      anon += r.anon;
      rss += r.rss;
      if (r.cpuSeconds !== undefined) cpuSeconds = (cpuSeconds ?? 0) + r.cpuSeconds;
      alive.push(pids[i]);
    });
    return { anon, rss, pids: alive, cpuSeconds };
  };
}

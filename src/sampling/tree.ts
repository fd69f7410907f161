// Memory of a whole process tree (a server started through npx or sh -c is a grandchild).
// On Linux it is read from /proc; elsewhere (macOS) from `ps`, which is slower and knows only RSS.
//
// The sampler runs several times a second beside the load, on the same cores as the server, so its cost is
// the server's loss: on two cores every microsecond the tester spends is one the server's own threads wait
// for. Hence descriptors kept open and read again at offset 0 (the kernel makes the text anew on each read
// from 0), small files read synchronously (a few microseconds, far less than a trip through the thread
// pool), and only smaps_rollup, which walks the page tables (~1 ms), read off the event loop.
import { execFile } from 'node:child_process';
import { closeSync, existsSync, openSync, read, readdirSync, readSync } from 'node:fs';

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
// Linux lists each thread's children in /proc/PID/task/TID/children (where the kernel has CONFIG_PROC_CHILDREN).
const hasChildren = existsSync(`/proc/self/task/${process.pid}/children`);
// Kernels before 4.14 have no smaps_rollup; status has RssAnon (not proportional, close enough).
const hasRollup = existsSync('/proc/self/smaps_rollup');
const MEMORY_FILE = hasRollup ? 'smaps_rollup' : 'status';
const ANON_FIELD = hasRollup ? 'Pss_Anon:' : 'RssAnon:';
const RSS_FIELD = hasRollup ? 'Rss:' : 'VmRSS:';

const KB = 1024;
// Clock ticks per second in /proc/PID/stat: USER_HZ, 100 on every Linux that matters.
const TICKS = 100;
const scratch = Buffer.allocUnsafe(64 * KB);

/** An open descriptor's whole text, read from offset 0; throws when the process has gone. */
function readAt(fd: number): string {
  let n = 0;
  for (;;) {
    const got = readSync(fd, scratch, n, scratch.length - n, n);
    n += got;
    if (got === 0 || n === scratch.length) return scratch.toString('latin1', 0, n);
  }
}

/** A small /proc file as text, or null if it is gone (or not ours to read). */
function readSmall(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return null;
  }
  try {
    return readAt(fd);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/** The fields of /proc/PID/stat after the command name (which may hold spaces and parentheses). */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function field(text: string, name: string): number {
  const at = text.indexOf(name);
  if (at < 0) return 0;
  return parseInt(text.slice(at + name.length), 10) || 0;
}

/**
 * Every descendant of root (and root itself). Where Linux lists children, the tree is walked down from
 * root, a few small reads per process of the tree; else every process's parent is read (all of /proc, or
 * ps), which on a desktop with hundreds of processes costs the tester more CPU than the rest of sampling.
 */
export async function processTree(root: number): Promise<number[]> {
  if (hasChildren) return walkChildren(root);
  const parents = hasProc ? procParents() : await psParents();
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

function walkChildren(root: number): number[] {
  const tree: number[] = [];
  for (let level = [root]; level.length;) {
    const next: number[] = [];
    for (const pid of level) {
      let tasks: string[];
      try {
        tasks = readdirSync(`/proc/${pid}/task`);
      } catch {
        continue; // it ended
      }
      tree.push(pid);
      // A child belongs to the thread that forked it, which need not be the main one (Go forks from any).
      for (const tid of tasks) {
        const text = readSmall(`/proc/${pid}/task/${tid}/children`);
        if (text) for (const child of text.split(' ')) if (child.trim()) next.push(Number(child));
      }
    }
    level = next;
  }
  return tree;
}

function procParents(): Map<number, number> {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readSmall(`/proc/${pid}/stat`);
    if (stat) parents.set(pid, Number(statFields(stat)[1])); // else it ended while we looked
  }
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

/** Pss_Anon and Rss of one process, in bytes, and its CPU time in seconds (Linux); null if it has gone. */
export async function processMemory(pid: number): Promise<{ anon: number; rss: number; cpuSeconds?: number } | null> {
  if (!hasProc) {
    const kb = Number((await ps(['-o', 'rss=', '-p', String(pid)])).trim());
    return kb > 0 ? { anon: kb * KB, rss: kb * KB } : null;
  }
  const stat = readSmall(`/proc/${pid}/stat`);
  const memory = readSmall(`/proc/${pid}/${MEMORY_FILE}`);
  return stat && memory ? reading(stat, memory) : null;
}

function reading(stat: string, memory: string): { anon: number; rss: number; cpuSeconds: number } {
  const f = statFields(stat);
  return { anon: field(memory, ANON_FIELD) * KB, rss: field(memory, RSS_FIELD) * KB, cpuSeconds: (Number(f[11]) + Number(f[12])) / TICKS };
}

/** A process of the tree with its /proc files held open: a descriptor outlives a reused pid number. */
interface Watched {
  pid: number;
  stat: number;
  memory: number;
  buffer: Buffer;
}

function watch(pid: number): Watched | null {
  let stat = -1;
  try {
    stat = openSync(`/proc/${pid}/stat`, 'r');
    return { pid, stat, memory: openSync(`/proc/${pid}/${MEMORY_FILE}`, 'r'), buffer: Buffer.allocUnsafe(8 * KB) };
  } catch {
    if (stat >= 0) closeSync(stat);
    return null;
  }
}

function unwatch(w: Watched): void {
  closeSync(w.stat);
  closeSync(w.memory);
}

/** The memory file of a watched process, read off the event loop from offset 0; null once it has gone. */
function readMemory(w: Watched): Promise<string | null> {
  return new Promise((resolve) => {
    read(w.memory, w.buffer, 0, w.buffer.length, 0, (err, n) => resolve(err ? null : w.buffer.toString('latin1', 0, n)));
  });
}

/**
 * A sampler for the tree under root. The tree is looked for again at most once a second (a server may
 * start workers late); the processes found are read at every sample. Descriptors of processes that have
 * gone are closed at the next sample; the last few close when mcp-hammer exits, a run being one process.
 */
export function treeSampler(root: number, rescanMs = 1000): Sampler {
  if (!hasProc) return psSampler(root, rescanMs);
  const watched = new Map<number, Watched>();
  let scannedAt = -Infinity;
  return async () => {
    const now = performance.now();
    if (now - scannedAt > rescanMs) {
      scannedAt = now;
      for (const pid of await processTree(root)) {
        if (watched.has(pid)) continue;
        const w = watch(pid);
        if (w) watched.set(pid, w);
      }
    }
    const all = [...watched.values()];
    const memories = await Promise.all(all.map(readMemory));
    let anon = 0;
    let rss = 0;
    let cpuSeconds: number | undefined;
    const alive: number[] = [];
    all.forEach((w, i) => {
      let stat: string | null = null;
      try {
        stat = readAt(w.stat);
      } catch {
        // gone
      }
      const memory = memories[i];
      if (stat === null || memory === null) {
        unwatch(w);
        watched.delete(w.pid);
        return;
      }
      const r = reading(stat, memory);
      anon += r.anon;
      rss += r.rss;
      cpuSeconds = (cpuSeconds ?? 0) + r.cpuSeconds;
      alive.push(w.pid);
    });
    return { anon, rss, pids: alive, cpuSeconds };
  };
}

/** Without /proc: the tree and each process's RSS from ps. */
function psSampler(root: number, rescanMs: number): Sampler {
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

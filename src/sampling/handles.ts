// Handles of a process tree from /proc: open descriptors by kind, threads, processes. Read at block floors
// only (a few a second at most), never beside every memory sample.
//
// Everything here is synchronous on purpose: a readlink through the thread pool costs 3-6 times the wall
// time and more CPU than the sync call, on the same cores as the server; a typical server's whole reading
// takes well under a millisecond. Nothing is kept open between readings (readdir closes its directory),
// so a tree of thousands of processes costs the tester no descriptors of its own.
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import type { HandleCounts } from '../results.js';

/** Handle counts need /proc (Linux); elsewhere (macOS) they are not available. */
export const hasHandleCounts = existsSync('/proc/self/fd');

/**
 * A process with more than EXACT + SAMPLED descriptors is not listed: the count comes from the size of
 * /proc/PID/fd (Linux 6.2 and later give the number of open descriptors there, in ~10 µs, where listing
 * 6,000 takes ~10 ms), the descriptors numbered below EXACT (stdio, the event loop's own, whatever the
 * server opened first) are read one by one, and about SAMPLED numbers spread over the rest tell the kinds
 * of the others. Reading a link costs ~5 µs.
 */
const EXACT = 256;
const SAMPLED = 256;

/** How many of the newest processes are named. */
const NEWEST = 3;

type Kind = 'files' | 'sockets' | 'pipes' | 'other';
const KINDS: Kind[] = ['files', 'sockets', 'pipes', 'other'];
const none = (): Record<Kind, number> => ({ files: 0, sockets: 0, pipes: 0, other: 0 });

/** What a /proc/PID/fd link points at: `/path`, `socket:[123]`, `pipe:[123]`, `anon_inode:[eventfd]`, ... */
export function kindOf(target: string): Kind {
  if (target.startsWith('/')) return 'files';
  if (target.startsWith('socket:')) return 'sockets';
  if (target.startsWith('pipe:')) return 'pipes';
  return 'other';
}

const denied = (err: unknown) => ['EACCES', 'EPERM'].includes((err as NodeJS.ErrnoException).code ?? '');

/** Entries of a /proc directory, or why they cannot be listed. */
function list(path: string): string[] | 'gone' | 'denied' {
  try {
    return readdirSync(path);
  } catch (err) {
    return denied(err) ? 'denied' : 'gone';
  }
}

/** Adds the kind of descriptor fd of pid into seen; false when it is not open (or closed meanwhile: ENOENT). */
function readKind(pid: number, fd: number | string, seen: Record<Kind, number>): boolean {
  try {
    seen[kindOf(readlinkSync(`/proc/${pid}/fd/${fd}`))]++;
    return true;
  } catch {
    return false;
  }
}

/** The number of open descriptors from the size of /proc/PID/fd (0 where the kernel does not give it). */
function openCount(pid: number): number | 'gone' | 'denied' {
  try {
    return statSync(`/proc/${pid}/fd`).size;
  } catch (err) {
    return denied(err) ? 'denied' : 'gone';
  }
}

/** Adds one process's descriptors by kind into counts: the number counted, null when not ours to list. */
function countFds(pid: number, counts: Record<Kind, number>): number | null | 'gone' {
  const size = openCount(pid);
  if (size === 'gone') return 'gone';
  if (size === 'denied') return null;
  if (size <= EXACT + SAMPLED) {
    const fds = list(`/proc/${pid}/fd`);
    if (fds === 'gone') return 'gone';
    if (fds === 'denied') return null;
    let read = 0;
    for (const fd of fds) if (readKind(pid, fd, counts)) read++;
    return read;
  }
  const low = none();
  let lowCount = 0;
  for (let fd = 0; fd < EXACT; fd++) if (readKind(pid, fd, low)) lowCount++;
  // A new descriptor takes the lowest free number, so with size open most numbers below size are taken;
  // probing only there spares the failed reads (a thrown ENOENT costs twice a successful read).
  const seen = none();
  let hits = 0;
  const stride = Math.max(1, Math.floor((size - EXACT) / SAMPLED));
  for (let fd = EXACT; fd < size; fd += stride) if (readKind(pid, fd, seen)) hits++;
  const rest = Math.max(0, size - lowCount);
  let given = 0;
  for (const k of KINDS) {
    const share = hits ? Math.round((seen[k] / hits) * rest) : 0;
    counts[k] += low[k] + share;
    given += share;
  }
  counts[KINDS.reduce((a, b) => (seen[b] > seen[a] ? b : a))] += rest - given;
  return size;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return null;
  }
}

/** The soft limit on open files of a process ("Max open files" in /proc/PID/limits); null when unlimited or unknown. */
export function fdLimit(pid: number): number | null {
  const m = /^Max open files\s+(\d+)/m.exec(readText(`/proc/${pid}/limits`) ?? '');
  return m ? Number(m[1]) : null;
}

/** A process's name, state (R, S, Z, ...) and process group, from /proc/PID/stat; null once it has gone. */
export function processInfo(pid: number): { name: string; state: string; pgrp: number } | null {
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return null;
  const close = stat.lastIndexOf(')');
  const f = stat.slice(close + 2).split(' ');
  return { name: stat.slice(stat.indexOf('(') + 1, close), state: f[0], pgrp: Number(f[2]) };
}

/** Every process whose process group is pgid (one pass over /proc, ~7 ms on a machine of 200 processes); [] without /proc. */
export function groupMembers(pgid: number): number[] {
  if (!hasHandleCounts) return [];
  return readdirSync('/proc').flatMap((name) => {
    const pid = Number(name);
    return Number.isInteger(pid) && processInfo(pid)?.pgrp === pgid ? [pid] : [];
  });
}

/**
 * The handles of the processes given (the tree as the memory sampler last saw it, root first, newest
 * last). A process that has gone meanwhile is left out; one whose descriptors are not ours to list
 * (EACCES) still counts with its threads.
 */
export function countHandles(pids: number[]): HandleCounts {
  const started = performance.now();
  const counts = none();
  let threads = 0;
  let processes = 0;
  let unreadable = 0;
  let most = -1;
  let mostPid = 0;
  const alive: number[] = [];
  for (const pid of pids) {
    const n = countFds(pid, counts);
    if (n === 'gone') continue;
    const tasks = list(`/proc/${pid}/task`);
    if (tasks === 'gone') continue;
    processes++;
    alive.push(pid);
    threads += tasks === 'denied' ? 1 : tasks.length;
    if (n === null) unreadable++;
    else if (n > most) {
      most = n;
      mostPid = pid;
    }
  }
  const newest = alive.slice(1).slice(-NEWEST).map((pid) => processInfo(pid)?.name ?? '?');
  return {
    ...counts, threads, processes,
    mostFds: Math.max(0, most),
    fdLimit: most >= 0 ? fdLimit(mostPid) : null,
    newest, unreadable,
    ms: Math.round((performance.now() - started) * 1000) / 1000,
  };
}

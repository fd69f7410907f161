// Handles of a process tree from /proc: open descriptors by kind, threads, processes. Read at block floors
// only (a few a second at most), never beside every memory sample.
//
// Everything here is synchronous on purpose: a readlink through the thread pool costs 3-6 times the wall
// time and more CPU than the sync call, on the same cores as the server; a typical server's whole reading
// takes well under a millisecond. Nothing is kept open between readings (readdir closes its directory),
// so a tree of thousands of processes costs the tester no descriptors of its own.
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import type { HandleCounts } from '../results.js';

/** Handle counts need /proc (Linux); elsewhere (macOS) they are not available. */
export const hasHandleCounts = existsSync('/proc/self/fd');

/**
 * In a process with many descriptors, those numbered below EXACT (stdio, the event loop's own, whatever
 * the server opened first) are all read, and of the rest about SAMPLED, evenly spread, to tell their kinds;
 * the count itself stays exact. Listing costs ~1 µs per descriptor, reading each link ~5 µs.
 */
const EXACT = 500;
const SAMPLED = 500;

/** How many of the newest processes are named. */
const NEWEST = 3;

type Kind = 'files' | 'sockets' | 'pipes' | 'other';

/** What a /proc/PID/fd link points at: `/path`, `socket:[123]`, `pipe:[123]`, `anon_inode:[eventfd]`, ... */
export function kindOf(target: string): Kind {
  if (target.startsWith('/')) return 'files';
  if (target.startsWith('socket:')) return 'sockets';
  if (target.startsWith('pipe:')) return 'pipes';
  return 'other';
}

/** Entries of a /proc directory, or why they cannot be listed. */
function list(path: string): string[] | 'gone' | 'denied' {
  try {
    return readdirSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'denied' : 'gone';
  }
}

/** Reads the links of every stride-th of fds into seen; how many could be read (a closed one cannot). */
function readKinds(pid: number, fds: string[], stride: number, seen: Record<Kind, number>): number {
  let read = 0;
  for (let i = 0; i < fds.length; i += stride) {
    try {
      seen[kindOf(readlinkSync(`/proc/${pid}/fd/${fds[i]}`))]++;
      read++;
    } catch {
      // closed since the listing (ENOENT): not counted
    }
  }
  return read;
}

/** Adds one process's descriptors by kind into counts: the number counted, null when not ours to list. */
function countFds(pid: number, counts: Record<Kind, number>): number | null | 'gone' {
  const fds = list(`/proc/${pid}/fd`);
  if (fds === 'gone') return 'gone';
  if (fds === 'denied') return null;
  const kinds = Object.keys(counts) as Kind[];
  // (The listing comes sorted as text, 0 1 10 100 ..., not by number.)
  const low = fds.length > EXACT + SAMPLED ? fds.filter((fd) => Number(fd) < EXACT) : fds;
  const exact: Record<Kind, number> = { files: 0, sockets: 0, pipes: 0, other: 0 };
  const total = readKinds(pid, low, 1, exact);
  for (const k of kinds) counts[k] += exact[k];
  if (low === fds) return total;
  // The rest sampled: the kinds in the shares read, scaled to the number listed.
  const high = fds.filter((fd) => Number(fd) >= EXACT);
  const seen: Record<Kind, number> = { files: 0, sockets: 0, pipes: 0, other: 0 };
  const read = readKinds(pid, high, Math.max(1, Math.floor(high.length / SAMPLED)), seen);
  if (!read) return total;
  const rest = high.length;
  let given = 0;
  for (const k of kinds) {
    const share = Math.round((seen[k] / read) * rest);
    counts[k] += share;
    given += share;
  }
  counts[kinds.reduce((a, b) => (seen[b] > seen[a] ? b : a))] += rest - given;
  return total + rest;
}

/** The soft limit on open files of a process ("Max open files" in /proc/PID/limits); null when unlimited or unknown. */
export function fdLimit(pid: number): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/limits`, 'latin1'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** A process's name, state (R, S, Z, ...) and process group, from /proc/PID/stat; null once it has gone. */
export function processInfo(pid: number): { name: string; state: string; pgrp: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const close = stat.lastIndexOf(')');
    const f = stat.slice(close + 2).split(' ');
    return { name: stat.slice(stat.indexOf('(') + 1, close), state: f[0], pgrp: Number(f[2]) };
  } catch {
    return null;
  }
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
  const counts = { files: 0, sockets: 0, pipes: 0, other: 0 };
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

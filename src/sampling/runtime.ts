// Which runtime serves the requests, read off the server's process tree: the executables of its processes
// (/proc/PID/exe). It decides how process memory is read: a tracing collector's memory saw-tooths between
// collections, CPython's does not (its objects are freed as their last reference goes).
import { readlinkSync } from 'node:fs';
import { basename } from 'node:path';

/** 'cpython': a Python interpreter is in the tree and no other runtime known to collect in batches. */
export type Runtime = 'node' | 'cpython' | 'unknown';

const PYTHON = /^python(\d+(\.\d+)*)?$/;
/** Runtimes whose memory saw-tooths; a tree holding one of them is read as one whose memory may. */
const TRACING = /^(node|nodejs|bun|deno|java|dotnet|ruby|beam\.smp|php)$/;

/** The runtime of a process tree; 'unknown' where /proc cannot tell (macOS) or the tree mixes runtimes. */
export function runtimeOf(pids: Iterable<number>): Runtime {
  const names: string[] = [];
  for (const pid of pids) {
    try {
      names.push(basename(readlinkSync(`/proc/${pid}/exe`)));
    } catch {
      // gone, not ours to read, or no /proc
    }
  }
  if (names.some((n) => TRACING.test(n))) return names.some((n) => /^(node|nodejs)$/.test(n)) && !names.some((n) => PYTHON.test(n)) ? 'node' : 'unknown';
  return names.some((n) => PYTHON.test(n)) ? 'cpython' : 'unknown';
}

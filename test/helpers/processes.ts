// Shared by the tiers: the processes a test started, found again by a marker on their command line, and
// the ports they listen on; so that a test can check that nothing it started is left behind.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';

/** A word to put on a fixture's command line, so that its processes can be found afterwards. */
export function marker(): string {
  return `marker-${randomUUID()}`;
}

/** Pids of live processes whose command line holds the marker. */
export function processesWith(mark: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmdline = readFileSync(`/proc/${name}/cmdline`, 'latin1');
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (cmdline.includes(mark) && state !== 'Z') found.push(Number(name));
    } catch {
      // gone
    }
  }
  return found;
}

/**
 * TCP ports on which these processes listen, from /proc: the LISTEN sockets of /proc/PID/net/tcp and tcp6
 * (which list every socket of the network namespace) whose inode is one of the process's descriptors.
 */
export function listeningPorts(pids: number[]): number[] {
  const ports = new Set<number>();
  for (const pid of pids) {
    try {
      const inodes = new Set<string>();
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(safeReadlink(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]);
      }
      for (const table of ['tcp', 'tcp6']) {
        for (const line of readFileSync(`/proc/${pid}/net/${table}`, 'latin1').split('\n').slice(1)) {
          const f = line.trim().split(/\s+/);
          // local_address is HEXIP:HEXPORT; st 0A is LISTEN; the inode is the tenth field.
          if (f.length > 9 && f[3] === '0A' && inodes.has(f[9])) ports.add(parseInt(f[1].split(':')[1], 16));
        }
      }
    } catch {
      // gone
    }
  }
  return [...ports];
}

function safeReadlink(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

/** A TCP port free on 127.0.0.1 right now (for a server that must be told its port before it starts). */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

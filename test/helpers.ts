// Shared by the tests: run the real CLI as a child process, and find processes a run left behind.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

export const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
export const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The results JSON printed with --json, when there is one. */
  results?: any;
}

/** Runs mcp-hammer with args; --json and a temporary --out are added unless given. Bounded by limitMs. */
export function runCli(args: string[], o: { limitMs?: number; env?: NodeJS.ProcessEnv; onSpawn?: (pid: number) => void } = {}): Promise<CliRun> {
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  const rest = args.includes('--') ? args.slice(args.indexOf('--')) : [];
  const extra = [...(own.includes('--json') ? [] : ['--json']), ...(own.includes('--out') ? [] : ['--out', tempDir()])];
  const child = spawn(process.execPath, [CLI, ...own, ...extra, ...rest], {
    env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  o.onSpawn?.(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const limit = setTimeout(() => child.kill('SIGKILL'), o.limitMs ?? 120_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      let results;
      try {
        results = JSON.parse(stdout);
      } catch {
        results = undefined;
      }
      resolve({ code, signal, stdout, stderr, results });
    });
  });
}

/** Folders made by tempDir, removed when the test file's process exits. */
const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  made.push(mkdtempSync(join(tmpdir(), 'mcp-hammer-test-')));
  return made.at(-1)!;
}

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

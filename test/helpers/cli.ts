// Shared by the tiers: run the real CLI as a child process, as a user would, bounded in time.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
/** A fixture server's compiled file, by its name in test/fixtures/ (e.g. 'memory-server.js'). */
export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The results JSON printed with --json, when there is one. */
  results?: any;
}

/** Runs mcp-hammer with args; --json and a temporary --out are added unless given. Bounded by limitMs. */
export function runCli(args: string[], o: { limitMs?: number; env?: NodeJS.ProcessEnv; cwd?: string; onSpawn?: (pid: number) => void } = {}): Promise<CliRun> {
  const own = args.includes('--') ? args.slice(0, args.indexOf('--')) : args;
  const rest = args.includes('--') ? args.slice(args.indexOf('--')) : [];
  const extra = [...(own.includes('--json') ? [] : ['--json']), ...(own.includes('--out') ? [] : ['--out', tempDir()])];
  const child = spawn(process.execPath, [CLI, ...own, ...extra, ...rest], {
    env: { ...process.env, ...o.env }, cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'],
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

// Child processes for the benchmark: run one to its end and read the JSON it prints, watching its peak
// memory on the way; start a server and wait until it says it is listening; find a free local port.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ChildRun {
  /** The last line of stdout that parsed as JSON (the CLI prints its results pretty-printed: the whole). */
  json: any;
  code: number | null;
  stderr: string;
  /** The child's own peak resident memory (VmHWM), last read while it ran; 0 where /proc is missing. */
  peakRssBytes: number;
}

/** Runs node with args to its end. The benchmark's children all end by themselves; limitMs is a backstop. */
export function runNode(args: string[], limitMs: number): Promise<ChildRun> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr = (stderr + d).slice(-8192); });
  let peak = 0;
  // VmHWM is the peak so far, so the last reading before exit is the run's peak (up to the last 100 ms).
  const watch = setInterval(() => { peak = Math.max(peak, vmHwm(child.pid!)); }, 100);
  const limit = setTimeout(() => child.kill('SIGKILL'), limitMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearInterval(watch);
      clearTimeout(limit);
      resolve({ json: parseJson(stdout), code, stderr, peakRssBytes: peak });
    });
  });
}

function parseJson(text: string): any {
  try {
    return JSON.parse(text);
  } catch {
    const line = text.trim().split('\n').at(-1) ?? '';
    try {
      return JSON.parse(line);
    } catch {
      return undefined;
    }
  }
}

function vmHwm(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'latin1');
    const at = status.indexOf('VmHWM:');
    return at < 0 ? 0 : parseInt(status.slice(at + 6), 10) * 1024;
  } catch {
    return 0; // ended, or no /proc
  }
}

/** Starts a node server that writes "listening" to stderr when ready; resolves once it has. */
export function startListening(args: string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    const limit = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${args[0]} did not start listening within 10 s`));
    }, 10_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      if (d.includes('listening')) {
        clearTimeout(limit);
        resolve(child);
      }
    });
    child.on('exit', (code) => reject(new Error(`${args[0]} exited with code ${code} before listening`)));
  });
}

/** Stops a server started by startListening, and waits for it to be gone. */
export function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

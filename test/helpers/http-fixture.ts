// Shared by the tiers: the HTTP fixture server started by a test itself (for --pid, for the transport's own
// tests, for the errors a user meets), on a port the system chooses, found from the line it prints.
import { spawn, type ChildProcess } from 'node:child_process';
import { fixture } from './cli.js';
import { marker } from './processes.js';

export interface HttpFixture {
  child: ChildProcess;
  pid: number;
  port: number;
  url: (path: string) => string;
  stop(): Promise<void>;
}

/**
 * The HTTP fixture server (test/fixtures/http-server.ts) started by the test itself on port 0, with a
 * predictable GC schedule; stop() ends it by its pid (SIGTERM, then SIGKILL).
 */
export async function startHttpFixture(mode: string, ...settings: string[]): Promise<HttpFixture> {
  const child = spawn(process.execPath, ['--predictable-gc-schedule', fixture('http-server.js'), mode, ...settings, marker()], { stdio: ['ignore', 'ignore', 'pipe'] });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    const limit = setTimeout(() => reject(new Error(`fixture did not start: ${text}`)), 15_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(text);
      if (m) {
        clearTimeout(limit);
        resolve(Number(m[1]));
      }
    });
  });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    child, pid: child.pid!, port, url: (path) => `http://127.0.0.1:${port}${path}`,
    async stop() {
      process.kill(child.pid!, 'SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, 'SIGKILL');
    },
  };
}

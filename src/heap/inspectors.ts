// The Node.js processes of the server's tree and their inspectors: the environment that turns the
// inspector on, the server's stderr read for where each listens, a connection to each, and the one that
// serves the requests chosen (the one whose CPU time grew most under load).
//
// The Node processes of the tree are started with the inspector on a loopback port the system chooses
// (NODE_OPTIONS=--inspect=127.0.0.1:0), so that wrappers such as npx work; each says where it listens on
// stderr, and only there (--inspect-publish-uid=stderr): by default the inspector also hands its address,
// the key to running code in the server, to any local program that asks its port over HTTP. The server's
// stderr is a pipe only mcp-hammer reads, and the lines that hold the address are never quoted from it.
import { connectInspector, listedOverHttp, loopbackAddress, type Inspector } from './inspector.js';
import { keepSecret } from '../report/redact.js';

// The inspector's messages, anywhere in a line: `Starting inspector on … failed` ends without a newline,
// so the next message of the process (or the server's next line) is glued to it.
const INSPECTOR_LINES = /Debugger listening on |Debugger ending on |For help, see: https:\/\/nodejs\.org\/en\/docs\/inspector|Debugger attached\.|Waiting for the debugger to disconnect|Starting inspector on /;
/** An inspector's address in any other words, such as a server logging inspector.url(). */
const INSPECTOR_ADDRESS = /wss?:\/\/\S+\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export interface Candidate {
  url: string;
  inspector: Inspector;
  pid: number;
  cpu: number;
}

/** Given to openTarget: the environment with the inspector on, the stderr listener, the lines never to quote. */
export interface SpawnHooks {
  env: NodeJS.ProcessEnv;
  onStderr: (text: string) => void;
  hideStderrLine: (line: string) => boolean;
}

export class Inspectors {
  private readonly urls: string[] = [];
  /** The random paths of the addresses seen: the secret part. */
  private readonly secrets: string[] = [];
  private line = '';
  candidates: Candidate[] = [];

  spawnHooks(env: NodeJS.ProcessEnv): SpawnHooks {
    return {
      // Last, so that they win over the user's NODE_OPTIONS (within it, the last value of a flag counts).
      // A flag on the server's own command line wins over both: see attach.
      env: { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:0 --inspect-publish-uid=stderr`.trim() },
      onStderr: (text) => this.read(text),
      hideStderrLine: (l) => INSPECTOR_LINES.test(l) || INSPECTOR_ADDRESS.test(l) || this.secrets.some((s) => l.includes(s)),
    };
  }

  private read(text: string): void {
    this.line = (this.line + text).slice(-4096);
    const lines = this.line.split('\n');
    this.line = lines.pop() ?? '';
    if (this.line.includes('Waiting for the debugger to disconnect')) this.close();
    for (const l of lines) {
      // A Node.js process that exits (process.exit, an uncaught exception, even a SIGKILL it sends itself)
      // with a debugger attached waits for it to go, forever: let it go, so that it exits as it would.
      if (l.includes('Waiting for the debugger to disconnect')) this.close();
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(l);
      if (!m) continue;
      const secret = m[1].slice(m[1].lastIndexOf('/') + 1);
      this.secrets.push(secret);
      keepSecret(secret);
      if (loopbackAddress(m[1])) this.urls.push(m[1]);
    }
  }

  /**
   * After the handshake: connect to every inspector announced so far. The warnings name those that list
   * their address over HTTP all the same (a server started with its own --inspect-publish-uid).
   */
  async attach(): Promise<string[]> {
    const found = await Promise.all(this.urls.map(attachTo));
    this.candidates = found.filter((c): c is Candidate => c !== null);
    const listed = await Promise.all(this.candidates.map((c) => listedOverHttp(c.url)));
    return this.candidates.filter((_, i) => listed[i]).map((c) => `the inspector of process ${c.pid} publishes its address over HTTP `
      + '(its own --inspect-publish-uid overrides mcp-hammer\'s): while it runs, any program on this machine can read it and run code in the server');
  }

  /** The process that serves the requests: the one whose CPU time grew most since attach. The others are let go. */
  async choose(): Promise<Candidate> {
    if (this.candidates.length > 1) {
      await Promise.all(this.candidates.map(async (c) => {
        try {
          c.cpu = (await cpuOf(c.inspector)).cpu - c.cpu;
        } catch {
          c.cpu = -1;
        }
      }));
      this.candidates.sort((a, b) => b.cpu - a.cpu);
    }
    const chosen = this.candidates[0];
    for (const c of this.candidates.slice(1)) c.inspector.close();
    this.candidates = [chosen];
    return chosen;
  }

  /** Close every inspector connection (before the server is ended: Node waits for a debugger at exit). */
  close(): void {
    for (const c of this.candidates) c.inspector.close();
    this.candidates = [];
  }
}

async function cpuOf(inspector: Inspector): Promise<{ pid: number; cpu: number }> {
  const r = await inspector.send('Runtime.evaluate', {
    expression: '(() => { const u = process.cpuUsage(); return [process.pid, u.user + u.system]; })()',
    returnByValue: true,
  }, 5000);
  const [pid, cpu] = r.result.value as [number, number];
  return { pid, cpu };
}

/** Connect to one inspector and read its process's CPU time; null for a process gone or not answering. */
async function attachTo(url: string): Promise<Candidate | null> {
  try {
    const inspector = await connectInspector(url, 2000);
    try {
      return { url, inspector, ...(await cpuOf(inspector)) };
    } catch {
      inspector.close();
    }
  } catch {
    // a process that has gone, or an inspector that does not answer
  }
  return null;
}

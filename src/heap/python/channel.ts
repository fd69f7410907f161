// --heap on a Python server: the environment that loads mcp-hammer's sitecustomize (site/, shipped with the
// package) in the server's Python processes, and the private channel it answers on.
//
// The channel is one more socket of the pair the server's stdio is made of (SpawnOptions.channel): the
// server inherits it as a file descriptor, and no other process can reach it (it has no name, no port, no
// file), so nothing else on the machine can ask the server for a snapshot. It closes with the server. The
// sitecustomize claims it only when its other end was made by this mcp-hammer process (SO_PEERCRED), says
// hello (pid, Python version), then answers one JSON request a line. Nothing goes through the server's
// stdout, which stays JSON-RPC.
import { fileURLToPath } from 'node:url';
import { delimiter } from 'node:path';
import type { Duplex } from 'node:stream';
import { CHANNEL_FD } from '../../server/process.js';

/** The folder put first on the server's PYTHONPATH: sitecustomize.py and the module it loads on request. */
export const SITE_DIR = fileURLToPath(new URL('./site/', import.meta.url)).replace(/\/$/, '');

/** The server's environment with the sitecustomize on its path and the channel's descriptor named. */
export function pythonEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...env,
    PYTHONPATH: env.PYTHONPATH ? `${SITE_DIR}${delimiter}${env.PYTHONPATH}` : SITE_DIR,
    MCP_HAMMER_HEAP_FD: String(CHANNEL_FD),
    MCP_HAMMER_HEAP_PEER: String(process.pid),
  };
}

/** What a Python process says when it claims the channel. */
export interface Hello {
  pid: number;
  python: string;
  implementation: string;
  executable: string;
}

type Reply = Record<string, any> & { id: number; error?: string };

/** The Node end of the channel: the hellos heard, and requests answered in order. */
export class PyChannel {
  /** The last process to claim the channel (a process that execs another Python claims it again). */
  hello?: Hello;
  /** The pieces of the line being read (a snapshot's reply is one line of megabytes). */
  private pieces: string[] = [];
  private next = 1;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private onHello: (() => void) | null = null;
  private closed = false;

  constructor(private readonly socket: Duplex) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => this.read(text));
    socket.on('close', () => this.close('the server closed the channel'));
    socket.on('error', () => {});
  }

  /** The hello, waiting up to ms for it if none came yet; undefined when none comes. */
  async waitHello(ms: number): Promise<Hello | undefined> {
    if (this.hello || this.closed) return this.hello;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.onHello = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.onHello = null;
    return this.hello;
  }

  /** One request; its reply, or an Error with the server's one line (or the timeout's). */
  request(what: string, params: Record<string, unknown>, timeoutMs: number): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error('the channel to the server is closed'));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`the server did not answer ${what} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.waiting.set(id, { resolve, reject, timer });
      this.socket.write(`${JSON.stringify({ id, do: what, ...params })}\n`);
    });
  }

  close(why = 'the channel was closed'): void {
    if (this.closed) return;
    this.closed = true;
    for (const [id, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new Error(why));
      this.waiting.delete(id);
    }
    this.onHello?.();
    this.socket.destroy();
  }

  private read(text: string): void {
    let from = 0;
    let at: number;
    while ((at = text.indexOf('\n', from)) >= 0) {
      this.pieces.push(text.slice(from, at));
      this.message(this.pieces.join(''));
      this.pieces = [];
      from = at + 1;
    }
    if (from < text.length) this.pieces.push(text.slice(from));
  }

  private message(line: string): void {
    let m: any;
    try {
      m = JSON.parse(line);
    } catch {
      return; // not from the sitecustomize: nothing else writes here
    }
    if (m?.hello) {
      this.hello = m.hello as Hello;
      this.onHello?.();
      return;
    }
    const w = this.waiting.get(m?.id);
    if (!w) return;
    this.waiting.delete(m.id);
    clearTimeout(w.timer);
    if (m.error) w.reject(new Error(m.error));
    else w.resolve(m as Reply);
  }
}

// Servers reached over HTTP (--url): start the command and wait until its port accepts connections, or
// watch a process that is already running (--pid), or reach the URL alone; then connect, negotiate the era
// (negotiate.ts: a 2026-07-28 connection, or a 2025 one and its handshake).
// What is measured is a process tree, as for stdio; a server mcp-hammer did not start is never signalled.
import { connect } from 'node:net';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { CannotRun, exitedBeforeHandshake, Interrupted } from '../errors.js';
import type { HttpConnection } from '../transport/http.js';
import { connectStreamable } from '../transport/streamable.js';
import { connectStateless } from '../transport/stateless.js';
import { connectSse } from '../transport/sse.js';
import type { ServerInfo } from '../transport/handshake.js';
import { envelope } from '../transport/era.js';
import { negotiateHttp } from './negotiate.js';
import { noServer, rememberTree, running, startServer, watchedServer, type ServerProcess, type SpawnOptions } from './process.js';

export interface RemoteOptions {
  url: string;
  sse: boolean;
  /** "Name: value" as given with -H. */
  headers: string[];
  requestsPerSession?: number;
  pid?: number;
  protocol?: string;
}

/** What the results say about a remote server: never a header value, and the URL without its query. */
export interface RemoteDescription {
  url: string;
  transport: 'streamable-http' | 'sse';
  headers: string[];
  pid?: number;
}

/** Header names mcp-hammer sets itself: a user value would break the protocol. */
const OWN_HEADERS = ['content-type', 'accept', 'content-length', 'mcp-session-id', 'mcp-protocol-version', 'mcp-method', 'mcp-name'];

/** Checks --url and -H before anything starts; a header's value is never repeated in a message. */
export function checkRemote(o: RemoteOptions): { url: URL; headers: Record<string, string> } {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw new CannotRun(`--url must be an address such as http://127.0.0.1:3000/mcp (got '${o.url}')`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CannotRun(`--url must start with http:// or https:// (got ${url.protocol}//)`);
  }
  if (url.username || url.password) {
    throw new CannotRun(`--url must not hold credentials (user:password@); send them as a header, e.g. -H 'Authorization: Basic <base64>'`);
  }
  const headers: Record<string, string> = {};
  for (const [i, text] of o.headers.entries()) {
    const colon = text.indexOf(':');
    const name = colon === -1 ? '' : text.slice(0, colon).trim();
    const value = colon === -1 ? '' : text.slice(colon + 1).trim();
    try {
      validateHeaderName(name);
    } catch {
      throw new CannotRun(`-H number ${i + 1} is not "Name: value" with a valid header name`);
    }
    try {
      validateHeaderValue(name, value);
    } catch {
      throw new CannotRun(`the value of the ${name} header (-H) holds characters a header cannot carry`);
    }
    if (OWN_HEADERS.includes(name.toLowerCase())) throw new CannotRun(`mcp-hammer sets the ${name} header itself; leave it out of -H`);
    headers[name] = value;
  }
  return { url, headers };
}

export interface RemoteTarget {
  server: ServerProcess;
  conn: HttpConnection;
  info: ServerInfo;
  remote: RemoteDescription;
  notices: string[];
  /** The server serves 2025-era session clients too (a 2026-07-28 run): a connection of that era, ended with the server. */
  alsoLegacy?: () => Promise<HttpConnection>;
}

/**
 * Open the server at --url: start the command (if one was given) and wait until its port accepts
 * connections, or watch --pid; connect, hand-shake, and return it ready for load. On any failure the
 * started process tree is ended before the error is thrown.
 */
export async function openRemote(command: string, args: string[],
  o: RemoteOptions & SpawnOptions & { timeoutMs: number; startupMs: number; signal?: AbortSignal }): Promise<RemoteTarget> {
  const { url, headers } = checkRemote(o);
  const remote: RemoteDescription = {
    url: `${url.origin}${url.pathname}`, transport: o.sse ? 'sse' : 'streamable-http', headers: Object.keys(headers), pid: o.pid,
  };
  const deadline = Date.now() + o.startupMs;
  let server: ServerProcess;
  if (command) {
    if (await accepts(url)) {
      throw new CannotRun(`something is already listening at ${url.host}, before the server was started; stop it, or measure the running server with --pid instead of a command`);
    }
    // With the environment and the stderr hooks of the watchers (the inspector of a Node.js server).
    server = await startServer(command, args, { env: o.env, onStderr: o.onStderr, hideStderrLine: o.hideStderrLine, channel: o.channel });
    // Its stdout is not the protocol here; read it so that a server that logs there never blocks.
    server.child!.stdout!.resume();
    running.add(server);
  } else {
    server = o.pid === undefined ? noServer() : await watchedServer(o.pid);
    running.add(server);
  }
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  // Every connection made while negotiating, so that a failure or an interruption closes them all.
  const made = new Set<HttpConnection>();
  let over = false;
  const made1 = (c: HttpConnection) => {
    if (over) c.close(); // the wait has ended (a timeout, Ctrl-C) while the negotiation went on
    made.add(c);
    server.exited.then(() => c.close());
    return c;
  };
  try {
    const negotiated = await Promise.race([
      (async () => {
        if (command) await listening(url, deadline, o.startupMs, () => server.exit() !== undefined);
        // Each connection may wait for its answers as long as the startup has left.
        const base = () => ({ url, headers, requestsPerSession: o.requestsPerSession, timeoutMs: Math.max(1000, deadline - Date.now()) });
        return negotiateHttp<HttpConnection>({
          modern: async (revision) => made1(await connectStateless(base(), await envelope(revision))),
          legacy: async () => made1(await (o.sse ? connectSse : connectStreamable)(base())),
          problem: (c) => c.problem(),
          end: async (c) => {
            made.delete(c);
            await c.end();
          },
        }, { protocol: o.protocol, sse: o.sse });
      })(),
      server.exited.then((e) => {
        throw exitedBeforeHandshake(e, server.stderrTail());
      }),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(new Interrupted('interrupted while starting the server'));
        o.signal?.addEventListener('abort', onAbort, { once: true });
        if (o.signal?.aborted) onAbort();
        timer = setTimeout(() => reject(new CannotRun(command
          ? `the server did not open ${url.host} and finish the MCP handshake within ${o.startupMs / 1000} s: does the command serve --url? (--startup-timeout to wait longer)`
          : `the server at ${url.origin} did not finish the MCP handshake within ${o.startupMs / 1000} s (--startup-timeout to wait longer)`)), o.startupMs);
      }),
    ]);
    if (command) await rememberTree(server);
    const c = negotiated.conn;
    made.delete(c);
    c.setTimeoutMs(o.timeoutMs);
    // Ending the server ends the session first: DELETE (or closing the stream) lets a clean server free it.
    const stopProcess = server.stop;
    const others: HttpConnection[] = [];
    server.stop = async (graceMs) => {
      await Promise.all([c, ...others].map((x) => x.end()));
      await stopProcess(graceMs);
    };
    const legacyWay = negotiated.alsoLegacy;
    const alsoLegacy = legacyWay && (async () => {
      const l = await legacyWay();
      made.delete(l);
      l.setTimeoutMs(o.timeoutMs);
      others.push(l);
      return l;
    });
    return { server, conn: c, info: negotiated.info, remote, notices: negotiated.notices, ...(alsoLegacy ? { alsoLegacy } : {}) };
  } catch (err) {
    over = true;
    for (const c of made) c.close();
    await server.stop();
    running.delete(server);
    throw err;
  } finally {
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** True when something accepts TCP connections at the URL's host and port. */
function accepts(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Wait until the started server's port accepts connections (polled: there is no other signal). */
async function listening(url: URL, deadline: number, startupMs: number, exited: () => boolean): Promise<void> {
  while (!(await accepts(url))) {
    if (exited()) return new Promise(() => {}); // the exit is reported by the race in openRemote
    if (Date.now() > deadline) throw new CannotRun(`nothing answered at ${url.host} within ${startupMs / 1000} s of starting the server: does it listen there? (--startup-timeout to wait longer)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

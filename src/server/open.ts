// The server ready for load: started and connected over its stdio, or reached over HTTP (remote.ts), its
// era negotiated (negotiate.ts) and its handshake done. Ready means the server has answered, not that some
// time has passed. On any failure the started tree is ended before the error is thrown.
import { CannotRun, exitedBeforeHandshake, Interrupted } from '../errors.js';
import { connectStdio } from '../transport/stdio.js';
import type { ServerInfo } from '../transport/handshake.js';
import { modernSdk } from '../transport/era.js';
import type { Connection } from '../transport/connection.js';
import { endServer, rememberTree, running, startServer, type ServerProcess, type SpawnOptions } from './process.js';
import { negotiateStdio } from './negotiate.js';
import { openRemote, type RemoteDescription, type RemoteOptions } from './remote.js';

export interface Target {
  server: ServerProcess;
  conn: Connection;
  info: ServerInfo;
  /** Over HTTP: where and how the server was reached. */
  remote?: RemoteDescription;
  /** What the user should know about how the era was chosen (a restart, a fallback, an untested path). */
  notices: string[];
  /** Over HTTP, a 2026-07-28 run on a server that also serves 2025-era session clients: a connection of that era. */
  alsoLegacy?: () => Promise<Connection>;
}

export interface OpenOptions extends SpawnOptions, Partial<RemoteOptions> {
  timeoutMs: number;
  startupMs: number;
  /** --protocol: the one revision to speak (default: the newest both sides speak). */
  protocol?: string;
  signal?: AbortSignal;
}

export async function openTarget(command: string, args: string[], o: OpenOptions): Promise<Target> {
  // The 2.x SDK (the envelope's keys) loads while the server starts.
  modernSdk().catch(() => {});
  if (o.url) return openRemote(command, args, { ...o, url: o.url, sse: o.sse ?? false, headers: o.headers ?? [] });
  let server = await start(command, args, o);
  let timer: NodeJS.Timeout | undefined;
  let onAbort = () => {};
  // A server that exits closes the connection, which fails what it was asked: the negotiation restarts it
  // once if it exited after the probe, and otherwise the catch below tells how it exited.
  let over = false;
  const restart = async () => {
    // Not after the wait has ended (a timeout, Ctrl-C): the negotiation may still be running behind it.
    if (over) throw new CannotRun('the server was ended');
    await endServer(server);
    const next = await start(command, args, o);
    if (over) {
      await endServer(next);
      throw new CannotRun('the server was ended');
    }
    server = next;
    return server.conn;
  };
  try {
    const negotiated = await Promise.race([
      negotiateStdio(server.conn, { protocol: o.protocol, restart }),
      new Promise<never>((_, reject) => {
        onAbort = () => reject(new Interrupted('interrupted while starting the server'));
        o.signal?.addEventListener('abort', onAbort, { once: true });
        if (o.signal?.aborted) onAbort();
        timer = setTimeout(() => reject(new CannotRun(
          `the server did not finish the MCP handshake within ${o.startupMs / 1000} s; is it an MCP server on stdio? (--startup-timeout to wait longer)`)), o.startupMs);
      }),
    ]);
    await rememberTree(server);
    negotiated.conn.setTimeoutMs(o.timeoutMs);
    return { server, conn: negotiated.conn, info: negotiated.info, notices: negotiated.notices };
  } catch (err) {
    over = true;
    // A server that dies closes its stdout first; its exit code and last words say more than "closed".
    const exit = await Promise.race([server.exited, new Promise<undefined>((r) => setTimeout(r, 500))]);
    await endServer(server);
    if (exit && !(err instanceof Interrupted)) {
      throw exitedBeforeHandshake(exit, server.stderrTail());
    }
    throw err;
  } finally {
    over = true;
    clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }
}

/** Start the command and connect to its stdio; the connection closes when the server exits. */
async function start(command: string, args: string[], o: OpenOptions): Promise<ServerProcess & { conn: Connection }> {
  const server = await startServer(command, args, { env: o.env, onStderr: o.onStderr, hideStderrLine: o.hideStderrLine, channel: o.channel });
  running.add(server);
  const conn = connectStdio(server.child!.stdout!, server.child!.stdin!, { timeoutMs: o.startupMs });
  server.exited.then(() => conn.close());
  return Object.assign(server, { conn });
}

// The server ready for load: started and connected over its stdio, or reached over HTTP (remote.ts), and
// the MCP handshake done. Ready means the handshake is done, not that some time has passed. On any failure
// the started tree is ended before the error is thrown.
import { CannotRun, Interrupted } from '../errors.js';
import { connectStdio } from '../transport/stdio.js';
import { handshake, type ServerInfo } from '../transport/handshake.js';
import type { Connection } from '../transport/connection.js';
import { endServer, rememberTree, running, startServer, type ServerProcess, type SpawnOptions } from './process.js';
import { describeExit } from '../format.js';
import { openRemote, type RemoteDescription, type RemoteOptions } from './remote.js';

export interface Target {
  server: ServerProcess;
  conn: Connection;
  info: ServerInfo;
  /** Over HTTP: where and how the server was reached. */
  remote?: RemoteDescription;
}

export async function openTarget(command: string, args: string[],
  o: { timeoutMs: number; startupMs: number; signal?: AbortSignal } & SpawnOptions & Partial<RemoteOptions>): Promise<Target> {
  if (o.url) return openRemote(command, args, { ...o, url: o.url, sse: o.sse ?? false, headers: o.headers ?? [] });
  const server = await startServer(command, args, { env: o.env, onStderr: o.onStderr, hideStderrLine: o.hideStderrLine });
  running.add(server);
  const conn = connectStdio(server.child!.stdout!, server.child!.stdin!, { timeoutMs: o.startupMs });
  server.exited.then(() => conn.close());
  let timer: NodeJS.Timeout | undefined;
  try {
    const info = await Promise.race([
      handshake(conn),
      server.exited.then(() => {
        throw new CannotRun('the server exited before the MCP handshake finished');
      }),
      new Promise<never>((_, reject) => {
        o.signal?.addEventListener('abort', () => reject(new Interrupted('interrupted while starting the server')), { once: true });
        if (o.signal?.aborted) reject(new Interrupted('interrupted while starting the server'));
        timer = setTimeout(() => reject(new CannotRun(
          `the server did not finish the MCP handshake within ${o.startupMs / 1000} s; is it an MCP server on stdio? (--startup-timeout to wait longer)`)), o.startupMs);
      }),
    ]);
    await rememberTree(server);
    conn.setTimeoutMs(o.timeoutMs);
    return { server, conn, info };
  } catch (err) {
    // A server that dies closes its stdout first; its exit code and last words say more than "closed".
    const exit = await Promise.race([server.exited, new Promise<undefined>((r) => setTimeout(r, 500))]);
    await endServer(server);
    if (exit && !(err instanceof Interrupted)) {
      const tail = server.stderrTail().slice(-3).join(' | ');
      throw new CannotRun(`the server exited before the MCP handshake finished (${describeExit(exit)})${tail ? `: ${tail}` : ''}`);
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

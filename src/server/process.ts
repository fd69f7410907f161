// The server's process tree: started by mcp-hammer (and then ended by it, whatever happens), watched by
// pid (--pid, never signalled), or absent (--url alone). No shell in between: arguments reach the server
// exactly as given, and it gets the user's whole environment (the SDK's stdio transport would pass only six
// variables).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { processMemory, processTree } from '../sampling/tree.js';
import { groupMembers, processInfo } from '../sampling/handles.js';
import { CannotRun } from '../errors.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A process of the server's tree still running once the server itself had exited. */
export interface Outlived {
  pid: number;
  command: string;
}

export interface ServerProcess {
  /** Absent for a server mcp-hammer did not start (--pid, or --url alone). */
  child?: ChildProcess;
  /** 0 when there is no process to measure (--url alone). */
  pid: number;
  /** Started by mcp-hammer, and so ended by it; a server it did not start is never signalled. */
  owned: boolean;
  /** Resolves when the server process has exited. */
  exited: Promise<Exit>;
  /** The exit, once it has happened. */
  exit(): Exit | undefined;
  /** The last lines the server wrote to stderr. */
  stderrTail(): string[];
  /** Every pid seen in the tree so far (kept so grandchildren can be ended after their parent is gone). */
  knownPids: Set<number>;
  /** End the whole tree: close stdin, SIGTERM, then SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
  /** After stop: the processes of the tree that outlived the server's own exit (they were then ended too). */
  outlived(): Outlived[];
  /** With SpawnOptions.channel: mcp-hammer's end of the socket the server inherits as CHANNEL_FD. */
  channel?: Duplex;
}

/** The file descriptor under which a server started with SpawnOptions.channel inherits its end of the channel. */
export const CHANNEL_FD = 3;

/** How much of the server's stderr is kept for its last lines. */
export const TAIL_BYTES = 16 * 1024;

export interface SpawnOptions {
  /** The server's environment (default: mcp-hammer's own). */
  env?: NodeJS.ProcessEnv;
  /** Sees everything the server writes to stderr, from its first byte (--heap reads the inspector's address). */
  onStderr?: (text: string) => void;
  /** Lines of stderr never to quote (--heap: the inspector's, which hold its address). */
  hideStderrLine?: (line: string) => boolean;
  /**
   * A private channel to the server (--heap on a Python server): one more socket of the pair the child's
   * stdio is made of, inherited as CHANNEL_FD by the server and whichever of its children keep it open,
   * reachable by no other process. Ended with the server.
   */
  channel?: boolean;
}

/** Spawns the command; rejects with a CannotRun when it cannot be run at all (not found, not executable). */
export function startServer(command: string, args: string[], o: SpawnOptions = {}): Promise<ServerProcess> {
  const child = spawn(command, args, {
    stdio: o.channel ? ['pipe', 'pipe', 'pipe', 'pipe'] : ['pipe', 'pipe', 'pipe'],
    env: o.env ?? process.env,
    // Its own process group: a Ctrl-C in the terminal reaches mcp-hammer only, which then ends the
    // server in order; and the group can be signalled as one.
    detached: true,
  });
  let tail = '';
  let cut = false;
  const stderrClosed = new Promise<void>((r) => child.stderr!.once('close', r));
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    tail += text;
    if (tail.length > TAIL_BYTES) {
      tail = tail.slice(-TAIL_BYTES);
      cut = true;
    }
    o.onStderr?.(text);
  });
  // Writes to a server that has died fail with EPIPE; the exit is what gets reported.
  child.stdin!.on('error', () => {});
  const channel = o.channel ? child.stdio[CHANNEL_FD] as Duplex : undefined;
  channel?.on('error', () => {});
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  const knownPids = new Set<number>();
  let outlived: Outlived[] = [];

  return new Promise((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new CannotRun(`command not found: ${command} (check the path, or install it)`));
      else if (err.code === 'EACCES') reject(new CannotRun(`cannot run ${command}: permission denied (is it executable?)`));
      else reject(new CannotRun(`cannot start ${command}: ${err.message}`));
    });
    child.once('spawn', () => {
      const pid = child.pid!;
      knownPids.add(pid);
      resolve({
        child,
        pid,
        owned: true,
        exited,
        exit: () => exit,
        stderrTail: () => lastLines(tail, cut, o.hideStderrLine),
        knownPids,
        stop: async (graceMs = 2000) => {
          outlived = await stopTree(pid, knownPids, exited, () => exit !== undefined, child, graceMs);
          channel?.destroy();
          await drain(stderrClosed);
        },
        outlived: () => outlived,
        channel,
      });
    });
  });
}

/** The last lines of the stderr kept, without those to hide. */
function lastLines(tail: string, cut: boolean, hide?: (line: string) => boolean): string[] {
  // A tail cut to its last bytes begins inside a line: that piece is no line of its own, and the line it
  // ends could be one to hide, whose end the filter would no longer recognise.
  const whole = cut ? tail.slice(tail.indexOf('\n') + 1 || tail.length) : tail;
  return whole.split('\n').filter((l) => l.trim() && !hide?.(l)).slice(-20);
}

/** Remember the tree's current members, so that they can be ended even after their parent has gone. */
export async function rememberTree(server: ServerProcess): Promise<void> {
  for (const pid of await processTree(server.pid)) server.knownPids.add(pid);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

/** True while the process exists: EPERM means it does, but belongs to another user. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The server itself is ended first (stdin closed, SIGTERM), as a client ends it; what of its tree is still
 * running once it has exited outlived it, and is listed. Then the whole tree: SIGTERM, and SIGKILL after
 * the grace period.
 */
async function stopTree(pid: number, known: Set<number>, exited: Promise<Exit>, hasExited: () => boolean,
  child: ChildProcess, graceMs: number): Promise<Outlived[]> {
  const tree = hasExited() ? [] : await processTree(pid);
  for (const p of tree) known.add(p);
  const pause = () => new Promise((r) => setTimeout(r, 20));
  child.stdin!.end();
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && !hasExited()) await pause();
  const outlived = hasExited() ? survivors(pid, tree) : [];
  signal(-pid, 'SIGTERM');
  for (const p of known) signal(p, 'SIGTERM');
  const rest = Math.max(deadline, Date.now() + 500);
  while (Date.now() < rest && [...known].some(alive)) await pause();
  killTreeNow(pid, known);
  await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
  return outlived;
}

/**
 * Members of the tree (as walked before the end) or of the server's process group still running, zombies
 * not counted. Pids seen earlier in the run are not trusted: with pid_max at 32,768 a number may have been
 * given to some other process since.
 */
function survivors(root: number, tree: number[]): Outlived[] {
  const candidates = new Set([...tree, ...groupMembers(root)]);
  candidates.delete(root);
  return [...candidates].flatMap((p) => {
    const info = processInfo(p);
    if (info) return info.state === 'Z' ? [] : [{ pid: p, command: info.name }];
    return alive(p) ? [{ pid: p, command: '' }] : []; // no /proc (macOS): alive is all we know
  });
}

/** Wait (briefly) until everything the server wrote to stderr has been read, such as its dying words. */
function drain(closed: Promise<void>): Promise<unknown> {
  return Promise.race([closed, new Promise((r) => setTimeout(r, 500))]);
}

/** SIGKILL to the group and every known member; synchronous, for exit handlers. */
export function killTreeNow(pid: number, known: Set<number>): void {
  signal(-pid, 'SIGKILL');
  for (const p of known) if (alive(p)) signal(p, 'SIGKILL');
}

/** Every server started and not yet ended, so that any exit path can end them. */
export const running = new Set<ServerProcess>();

export async function endServer(server: ServerProcess): Promise<void> {
  if (!running.has(server)) return;
  await server.stop();
  running.delete(server);
}

/** A process mcp-hammer did not start: its memory is read, its exit noticed, and it is never signalled. */
export async function watchedServer(pid: number): Promise<ServerProcess> {
  if (!alive(pid)) throw new CannotRun(`no process with pid ${pid} is running (--pid)`);
  if (!(await processMemory(pid))) throw new CannotRun(`cannot read the memory of process ${pid} (--pid): is it another user's?`);
  let exit: Exit | undefined;
  const exited = new Promise<Exit>((resolve) => {
    const poll = setInterval(() => {
      if (alive(pid)) return;
      clearInterval(poll);
      // Not our child, so its exit code cannot be known.
      exit = { code: null, signal: null };
      resolve(exit);
    }, 250);
    poll.unref();
  });
  return {
    pid, owned: false, exited, exit: () => exit, stderrTail: () => [], knownPids: new Set([pid]), stop: async () => {}, outlived: () => [],
  };
}

/** No process at all (--url alone): nothing to measure, nothing to end. */
export function noServer(): ServerProcess {
  return {
    pid: 0, owned: false, exited: new Promise(() => {}), exit: () => undefined, stderrTail: () => [], knownPids: new Set(), stop: async () => {},
    outlived: () => [],
  };
}

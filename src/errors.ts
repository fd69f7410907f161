// The two ways a run ends early that are not bugs. CannotRun: the test could not run (exit 2); its message
// is shown to the user as it is, so it must say what happened and what to do, and what proves it travels
// with it as fields (the run copies them into the results). Interrupted: the user stopped the run (exit
// 130). Anything else thrown is a bug in mcp-hammer, reported as one.
import { describeExit } from './format.js';

/** What shows why a run could not go on, kept beside the sentence. */
/** How a process ended: its exit code, or the signal that ended it. */
export interface Exit {
  code: number | null;
  signal: string | null;
}

export interface Evidence {
  /** How the server exited, and its last stderr lines. */
  exit?: Exit;
  stderrTail?: string[];
}

export class CannotRun extends Error {
  constructor(message: string, readonly evidence: Evidence = {}) {
    super(message);
  }
}

/** The user interrupted the run (Ctrl-C or SIGTERM) before the load began. */
export class Interrupted extends Error {}

/** The server exited before it finished the handshake: how, and its last words. */
export function exitedBeforeHandshake(exit: Exit, stderrTail: string[]): CannotRun {
  const tail = stderrTail.slice(-3).join(' | ');
  return new CannotRun(`the server exited before the MCP handshake finished (${describeExit(exit)})${tail ? `: ${tail}` : ''}`, { exit, stderrTail });
}

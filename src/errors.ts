// The two ways a run ends early that are not bugs. CannotRun: the test could not run (exit 2); its message
// is shown to the user as it is, so it must say what happened and what to do. Interrupted: the user
// stopped the run (exit 130). Anything else thrown is a bug in mcp-hammer, reported as one.
export class CannotRun extends Error {}

/** The user interrupted the run (Ctrl-C or SIGTERM) before the load began. */
export class Interrupted extends Error {}

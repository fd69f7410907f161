// The one error class with a meaning of its own: the test could not run (exit 2). Its message is shown to
// the user as it is, so it must say what happened and what to do. Anything else thrown is a bug.
export class CannotRun extends Error {}

/** The user interrupted the run (Ctrl-C or SIGTERM) before the load began. */
export class Interrupted extends Error {}

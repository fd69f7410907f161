// What a stress test is given besides its options: the signal to stop, and where to say what happens. The
// library (src/run.ts) turns these into events; the command line prints them.
import type { Progress } from '../load/closedloop.js';
import type { Results } from '../results.js';

/** One phase's live progress. */
export interface ProgressLine {
  update(p: Progress): void;
  done(): void;
}

/** What a stress test is given besides its options: the signal to stop, and where to say what happens. */
export interface RunContext {
  signal: AbortSignal;
  /** Say, before the load starts, what is about to be tested (the plan: how it will be loaded). */
  announce(results: Results, plan: string[]): void;
  /** A live progress line for one phase of the load. */
  progress(label: string): ProgressLine;
  /** One line on what the run is doing (the rate limit test's steps, the heap trace). */
  say(line: string): void;
}

// One run of a test, as the library and the command line both start it: the results object made, the test
// run with its events, and every way a run can end turned into a verdict in the results (could not run,
// interrupted, a bug in mcp-hammer). It never prints: events go to the caller's onEvent.
import { CannotRun, Interrupted } from './errors.js';
import type { Options } from './options.js';
import { newResults, type Results } from './results.js';
import type { Progress } from './load/closedloop.js';
import type { RunContext } from './stress/context.js';
import { memoryTest } from './stress/memory.js';
import { cacheTest } from './stress/cache.js';
import { ratelimitTest } from './stress/ratelimit.js';

/** What a run tells while it goes on. */
export type HammerEvent =
  /** The server is up and answered; what will be called, and how (the results so far hold the server and the calls). */
  | { type: 'plan'; results: Results; plan: string[] }
  /** A phase of the load goes on (memory, control, flood), after every sample. */
  | { type: 'progress'; phase: string; progress: Progress }
  | { type: 'phase-end'; phase: string }
  /** One line on what the run is doing: a rate limit step, the heap trace. */
  | { type: 'note'; line: string };

export interface RunHooks {
  signal?: AbortSignal;
  onEvent?: (event: HammerEvent) => void;
}

const TESTS = { memory: memoryTest, cache: cacheTest, ratelimit: ratelimitTest } as Record<Options['test'], (o: Options, c: RunContext, r: Results) => Promise<void>>;

/** Runs the test of the options; resolves with its results, whatever the verdict. */
export async function runTest(options: Options, hooks: RunHooks = {}): Promise<Results> {
  const results = newResults(options);
  const emit = hooks.onEvent ?? (() => {});
  const ctx: RunContext = {
    signal: hooks.signal ?? new AbortController().signal,
    announce: (r, plan) => emit({ type: 'plan', results: r, plan }),
    progress: (phase) => ({ update: (progress) => emit({ type: 'progress', phase, progress }), done: () => emit({ type: 'phase-end', phase }) }),
    say: (line) => emit({ type: 'note', line }),
  };
  try {
    await TESTS[options.test](options, ctx, results);
  } catch (err) {
    results.verdict = err instanceof Interrupted ? 'interrupted' : 'error';
    if (err instanceof CannotRun) {
      results.reasons.push(err.message);
      if (err.evidence.exit) results.server.exit = err.evidence.exit;
      if (err.evidence.stderrTail) results.stderrTail = err.evidence.stderrTail;
    } else if (err instanceof Interrupted) {
      results.reasons.push(err.message);
    } else {
      results.reasons.push(`mcp-hammer hit a bug (${String(err).split('\n')[0]}); please report it, with the results file`);
      results.bug = (err as Error)?.stack ?? String(err);
    }
  }
  return results;
}

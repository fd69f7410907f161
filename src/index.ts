// The library: memory(), cache() and ratelimit() take the options the command line takes (its flags in
// camelCase) and resolve to the results object the results file holds, verdict included. They print
// nothing and write no file unless given `out`; progress comes as events to onEvent; an AbortSignal stops
// a run (the verdict is then 'interrupted', partial results kept). Options a run cannot start with reject
// the promise with a CannotRun error whose message says what to do.
import { resolveOptions, type UserOptions } from './options.js';
import { runTest, type HammerEvent } from './run.js';
import { checkResultsFolder, writeResults } from './report/json.js';
import type { CacheResults, MemoryResults, RateResults, Results, TestName } from './results.js';

export { CannotRun } from './errors.js';
export { EXIT_CODES } from './results.js';
export { render } from './report/text.js';
export type { HammerEvent } from './run.js';
export type { UserOptions } from './options.js';
export type * from './results.js';

export interface HammerOptions extends UserOptions {
  /** Stops the run: the server is ended and the results kept, verdict 'interrupted'. */
  signal?: AbortSignal;
  /** Called with what the run tells while it goes on; also `{ type: 'written', path }` once a results file is written. */
  onEvent?: (event: HammerEvent | { type: 'written'; path: string }) => void;
}

/** Does memory grow with every request? */
export const memory = (o: HammerOptions = {}) => run<MemoryResults>('memory', o);
/** Does memory grow with every new argument value? */
export const cache = (o: HammerOptions = {}) => run<CacheResults>('cache', o);
/** Does the server refuse floods quickly and let clients back in? */
export const ratelimit = (o: HammerOptions = {}) => run<RateResults>('ratelimit', o);

async function run<R extends Results>(test: TestName, o: HammerOptions): Promise<R> {
  const options = resolveOptions(test, o);
  if (options.out !== undefined) checkResultsFolder(options.out);
  const results = await runTest(options, { signal: o.signal, onEvent: o.onEvent });
  if (options.out !== undefined) o.onEvent?.({ type: 'written', path: writeResults(options.out, results) });
  return results as R;
}

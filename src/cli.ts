#!/usr/bin/env node
// The command: the run's lifecycle (signals, the results file, ending the server on every path) and the
// exit code, decided once at the end.
import { CannotRun, Interrupted } from './errors.js';
import { HELP, parseOptions, type Options, type RunContext } from './options.js';
import { EXIT_CODES, newResults, type Results } from './results.js';
import { killTreeNow, running } from './server/process.js';
import { checkResultsFolder, writeResults } from './report/json.js';
import { announcement, progressPrinter } from './report/progress.js';
import { render, useColour } from './report/text.js';
import { redact } from './report/redact.js';
import { VERSION } from './version.js';
import { memoryTest } from './stress/memory.js';
import { cacheTest } from './stress/cache.js';
import { ratelimitTest } from './stress/ratelimit.js';

const TESTS = {
  memory: memoryTest,
  cache: cacheTest,
  ratelimit: ratelimitTest,
} as Record<Options['test'], (o: Options, c: RunContext, r: Results) => Promise<void>>;

/** Where a run says what it does: stderr, through the report's writers. */
function terminal(opts: Options, signal: AbortSignal): RunContext {
  const err = process.stderr;
  return {
    signal,
    announce(results, plan) {
      // The fault tests need a way to make mcp-hammer fail from inside while a server runs: here, the
      // server is up and the load is about to start.
      if (process.env.MCP_HAMMER_TEST_BUG) throw new Error('a fault injected by the test suite');
      err.write(redact(announcement(opts, results, plan)));
    },
    progress: (label) => progressPrinter(err, label),
    say: (line) => err.write(redact(line) + '\n'),
  };
}

async function main(argv: string[]): Promise<number> {
  let opts: Options | 'help' | 'version';
  try {
    opts = parseOptions(argv);
    if (opts === 'help') {
      process.stdout.write(HELP + '\n');
      return 0;
    }
    if (opts === 'version') {
      process.stdout.write(VERSION + '\n');
      return 0;
    }
    checkResultsFolder(opts.out);
  } catch (err) {
    if (!(err instanceof CannotRun)) throw err;
    process.stderr.write(`mcp-hammer: ${err.message}\n`);
    return 2;
  }
  const options = opts;
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals === 1) {
      process.stderr.write('\nInterrupted: ending the server and keeping partial results (again to quit at once)\n');
      controller.abort();
    } else {
      killAll();
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const results = newResults(options);
  try {
    await TESTS[options.test](options, terminal(options, controller.signal), results);
  } catch (err) {
    if (err instanceof Interrupted) {
      results.verdict = 'interrupted';
      results.reasons.push(err.message);
    } else if (err instanceof CannotRun) {
      results.verdict = 'error';
      results.reasons.push(err.message);
    } else {
      results.verdict = 'error';
      results.reasons.push(`mcp-hammer hit a bug (${String(err).split('\n')[0]}); please report it, with the results file`);
      results.bug = (err as Error)?.stack ?? String(err);
    }
  }
  killAll();
  const couldNotRun = results.verdict === 'error' && results.requests === 0;
  // Could not run: one line, no report body.
  if (couldNotRun) process.stderr.write(redact(`mcp-hammer: ${results.reasons[0].split('\n')[0]}\n`));
  let path: string | null = null;
  try {
    path = writeResults(options.out, results);
  } catch (err) {
    process.stderr.write(redact(`mcp-hammer: could not write the results file: ${(err as Error).message}\n`));
  }
  if (!couldNotRun) process.stderr.write(redact('\n' + render(results, path, useColour(process.stderr)) + '\n'));
  else if (path) process.stderr.write(`Details: ${path}\n`);
  if (options.json) process.stdout.write(redact(JSON.stringify(results, null, 2)) + '\n');
  return EXIT_CODES[results.verdict];
}

/** SIGKILL every server tree still known; synchronous so that it works in exit handlers too. */
function killAll(): void {
  for (const server of running) if (server.owned) killTreeNow(server.pid, server.knownPids);
}

process.on('exit', killAll);
process.on('uncaughtException', (err) => {
  killAll();
  process.stderr.write(redact(`mcp-hammer hit a bug: ${err?.stack ?? err}\nPlease report it. The server was ended.\n`));
  process.exit(2);
});

main(process.argv.slice(2)).then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (err) => {
    killAll();
    process.stderr.write(redact(`mcp-hammer hit a bug: ${err?.stack ?? err}\nPlease report it.\n`));
    process.exit(2);
  },
);

#!/usr/bin/env node
// The command: a thin layer over the library's run (src/run.ts). It reads the flags, turns Ctrl-C into the
// run's signal, prints the run's events and its report on stderr, writes the results file, and exits with
// the verdict's code, decided once at the end.
import { CannotRun } from './errors.js';
import { HELP, parseOptions, type Options } from './options.js';
import { EXIT_CODES } from './results.js';
import { runTest, type HammerEvent } from './run.js';
import { killTreeNow, running } from './server/process.js';
import { checkResultsFolder, writeResults } from './report/json.js';
import { announcement, progressPrinter } from './report/progress.js';
import { render, useColour } from './report/text.js';
import { redact } from './report/redact.js';
import { VERSION } from './version.js';

/** The run's events, on stderr. */
function terminal(opts: Options): (e: HammerEvent) => void {
  const err = process.stderr;
  const lines = new Map<string, ReturnType<typeof progressPrinter>>();
  return (e) => {
    if (e.type === 'plan') {
      // The fault tests need a way to make mcp-hammer fail from inside while a server runs: here, the
      // server is up and the load is about to start.
      if (process.env.MCP_HAMMER_TEST_BUG) throw new Error('a fault injected by the test suite');
      err.write(redact(announcement(opts, e.results, e.plan)));
    } else if (e.type === 'progress') {
      if (!lines.has(e.phase)) lines.set(e.phase, progressPrinter(err, e.phase));
      lines.get(e.phase)!.update(e.progress);
    } else if (e.type === 'phase-end') {
      lines.get(e.phase)?.done();
      lines.delete(e.phase);
    } else {
      err.write(redact(e.line) + '\n');
    }
  };
}

async function main(argv: string[]): Promise<number> {
  let opts: Options | 'help' | 'version';
  try {
    opts = parseOptions(argv);
    if (opts === 'help' || opts === 'version') {
      process.stdout.write((opts === 'help' ? HELP : VERSION) + '\n');
      return 0;
    }
    checkResultsFolder(opts.out!);
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

  const results = await runTest(options, { signal: controller.signal, onEvent: terminal(options) });
  killAll();
  const couldNotRun = results.verdict === 'error' && results.requests === 0;
  // Could not run: one line, no report body.
  if (couldNotRun) process.stderr.write(redact(`mcp-hammer: ${results.reasons[0].split('\n')[0]}\n`));
  let path: string | null = null;
  try {
    path = writeResults(options.out!, results);
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

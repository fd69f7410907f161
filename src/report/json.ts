// The results file: one per run, written atomically, also for runs that fail, break or are interrupted.
import { mkdirSync, renameSync, writeFileSync, openSync, closeSync, unlinkSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CannotRun } from '../errors.js';
import type { Results } from '../results.js';
import { redact } from './redact.js';

/** Fails before the server starts if the folder cannot be created or written. */
export function checkResultsFolder(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    const trial = join(dir, `.mcp-hammer-${process.pid}.tmp`);
    closeSync(openSync(trial, 'w'));
    unlinkSync(trial);
  } catch (err) {
    throw new CannotRun(`cannot write results to ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; choose another folder with --out`);
  }
}

/** `<test>_<timestamp>.json` in dir, written to a temporary name and renamed, so no reader sees half a file. */
export function writeResults(dir: string, results: Results): string {
  mkdirSync(dir, { recursive: true });
  const stamp = results.startedAt.slice(0, 19).replace(/:/g, '-');
  let path = join(dir, `${results.test}_${stamp}.json`);
  for (let n = 2; existsSync(path); n++) path = join(dir, `${results.test}_${stamp}-${n}.json`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, redact(JSON.stringify(results, null, 2)) + '\n');
  renameSync(tmp, path);
  return path;
}

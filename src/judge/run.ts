// The order in which a memory or cache run is judged: interrupted, crashed, hung, nothing but errors, a
// trend too short to measure, and only then the test's own rule on the trend. Pure: what the
// run measured in, the verdict and its sentences out.
import { describeExit } from '../format.js';
import type { Trend } from './trend.js';
import type { StopReason, VerdictName } from '../results.js';

export interface Verdict {
  pass: boolean;
  reasons: string[];
  /** The run could not tell either way (the verdict is then an error, exit 2). */
  undecided?: boolean;
}

export interface Judged {
  verdict: VerdictName;
  reasons: string[];
  /** Worth saying, but not the verdict's reason. */
  warnings: string[];
}

/** What the load measured, as the rule needs it. */
export interface RunFacts {
  requests: number;
  ok: number;
  errorCount: number;
  /** A sample of each error class's descriptions. */
  errorSamples: string[][];
  stopReason: StopReason;
  exit?: { code: number | null; signal: string | null };
  timeoutMs: number;
  durationSeconds: number;
  requestsPerSecond: number;
  /** The server's last stderr lines (an out-of-memory death says so there). */
  stderrTail: string[];
  /** Reached over HTTP: losing it means its port closed, not its stdout. */
  overHttp: boolean;
}

/**
 * untrended: what the test's rule says of the run whatever its trend (a cache never reached), given in
 * place of "too short" when the trend has too few blocks.
 */
export function judgeRun(run: RunFacts, trend: Trend | null, decide: (trend: Trend) => Verdict, untrended: Verdict | null = null): Judged {
  const done = `after ${run.requests.toLocaleString('en-US')} requests`;
  const judged = (verdict: VerdictName, reason: string, warnings: string[] = []): Judged => ({ verdict, reasons: [reason], warnings });
  if (run.stopReason === 'interrupted') return judged('interrupted', `interrupted ${done}; partial results kept`);
  if (run.stopReason === 'exited' && run.exit) {
    const oom = run.stderrTail.some((l) => /heap out of memory|allocation failed/i.test(l));
    return judged('fail', `the server exited under load (${describeExit(run.exit)}) ${done}${oom ? ': out of memory' : ''}`);
  }
  if (run.stopReason === 'exited') {
    return judged('fail', run.overHttp ? `the server stopped accepting connections under load ${done}`
      : `the server closed its stdout under load ${done}, and so the connection`);
  }
  if (run.stopReason === 'hung') return judged('fail', `the server stopped answering ${done}: no answer within ${run.timeoutMs / 1000} s (--timeout)`);
  if (run.requests > 0 && run.ok === 0) {
    const first = run.errorSamples.find((s) => s.length)?.[0] ?? 'unknown error';
    return judged('error', `every call failed, so the test measured nothing but the error path; first error: ${first} (check --tool and --args)`);
  }
  const warnings = run.errorCount > run.requests / 2
    ? [`most calls failed (${run.errorCount.toLocaleString('en-US')} of ${run.requests.toLocaleString('en-US')}): the test measured the error path`]
    : [];
  if (trend && trend.shape === 'too short' && untrended) {
    return named(untrended, warnings);
  }
  if (trend && trend.shape === 'too short' && run.stopReason === 'decided') {
    // Stopped by another finding (a handle leak) before memory had its blocks: no advice to run longer.
    return judged('error', `memory was not judged: the run stopped once decided, ${trend.blocks - trend.warmupBlocks} blocks after warm-up, too few for a trend`, warnings);
  }
  if (trend && trend.shape === 'too short') {
    return judged('error', `the run was too short to measure a trend (${trend.blocks - trend.warmupBlocks} blocks after warm-up); give a longer --duration or more --requests`, warnings);
  }
  const verdict: Verdict = trend ? decide(trend) : { pass: true, reasons: [] };
  return named(verdict, warnings);
}

function named(verdict: Verdict, warnings: string[]): Judged {
  return { verdict: verdict.undecided ? 'error' : verdict.pass ? 'pass' : 'fail', reasons: verdict.reasons, warnings };
}

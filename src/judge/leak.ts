// The memory test's rule on a trend: growth that keeps rising with the requests (or with the sessions) is
// a leak; a PASS needs every leak of the target size ruled out; anything between asks for a longer run,
// saying what was ruled out. Crashes, hangs and error floods are judged before it (run.ts).
import { formatBytes, formatDuration } from '../format.js';
import { rulesOut, type LeakTarget } from './stopping.js';
import type { Trend } from './trend.js';
import type { Verdict } from './run.js';

/** How the run went, for the sentence of an undecided verdict. */
export interface RunLength {
  durationSeconds: number;
  requestsPerSecond: number;
  /** The user set the run's length (--duration or --requests): a longer run is theirs to ask for. */
  setLength: boolean;
}

/**
 * The leak verdict from a trend. With session churn (a new session every requestsPerSession requests)
 * growth is also told per session, since state kept after a session has ended is the usual leak of HTTP
 * servers.
 */
export function leakVerdict(trend: Trend, target: LeakTarget, run: RunLength): Verdict {
  const perSession = target.requestsPerSession;
  if (trend.shape === 'rising' && perSession) {
    const sessions = Math.round(trend.measuredRequests / perSession);
    return {
      pass: false,
      reasons: [`memory grows as sessions come and go: ${formatBytes(trend.bytesPerRequest * perSession)} per session `
        + `(a new session every ${perSession.toLocaleString('en-US')} requests; ${formatBytes(trend.bytesPerRequest)} per request) after warm-up, `
        + `${formatBytes(trend.growth)} over ${sessions.toLocaleString('en-US')} sessions, still rising: ended sessions are not freed, or every request leaks`],
    };
  }
  if (trend.shape === 'rising') {
    return {
      pass: false,
      reasons: [`memory grows with every request: ${formatBytes(trend.bytesPerRequest)} per request after warm-up, `
        + `${formatBytes(trend.growth)} over ${trend.measuredRequests.toLocaleString('en-US')} requests, still rising`],
    };
  }
  if ((trend.shape === 'flat' || trend.shape === 'levels off') && rulesOut(trend, target)) {
    return { pass: true, reasons: [`no leak of ${leakSize(target)} or more`] };
  }
  return { pass: false, undecided: true, reasons: [undecidedReason(trend, target, run)] };
}

/** "1.0 KB/request", with churn "1.0 KB/request or 16 KB/session". */
export function leakSize(target: LeakTarget, per = 'request'): string {
  const events = target.perEvent?.length ? `, ${perEventSizes(target.perEvent)}` : '';
  const session = target.bytesPerSession && target.requestsPerSession ? ` or ${formatBytes(target.bytesPerSession)}/session` : events;
  return `${formatBytes(target.bytesPerRequest)}/${per}${session}`;
}

/** "4.0 KB per session ended with DELETE, 16 KB per cancelled call or hung-up request": sizes grouped. */
function perEventSizes(events: NonNullable<LeakTarget['perEvent']>): string {
  const by = new Map<number, string[]>();
  for (const e of events) by.set(e.bytes, [...(by.get(e.bytes) ?? []), e.unit]);
  return [...by].map(([bytes, units]) => `${formatBytes(bytes)} per ${units.join(' or ')}`).join(', ');
}

/** What the run could rule out, why not more, and how to get a verdict. per: 'request', or 'key' (cache). */
export function undecidedReason(trend: Trend, target: LeakTarget, run: RunLength, per = 'request'): string {
  const ruled = trend.ruledOutBytesPerRequest;
  const could = Number.isFinite(ruled)
    ? `no leak of ${formatBytes(ruled)}/${per} or more; a smaller one (down to ${leakSize(target, per)}) cannot be excluded`
    : `a leak of ${leakSize(target, per)} cannot be excluded`;
  const why = trend.shape === 'settling'
    ? 'memory was still settling after warm-up'
    : trend.shape === 'unclear'
      ? `memory grew ${formatBytes(Math.max(trend.growth, trend.end - trend.baseline))} over ${trend.measuredRequests.toLocaleString('en-US')} ${per}s after warm-up, `
        + 'too unevenly or with too few garbage collections to call it a leak'
      : `the growth measured (${formatBytes(trend.bytesPerRequest)}/${per}) is within what the noise of ${formatBytes(trend.significant)} can hide over this many requests`;
  const more = run.setLength ? 'give a longer --duration or more --requests' : 'allow a longer run with --max-duration';
  return `${could} in ${formatDuration(run.durationSeconds)} at ${Math.round(run.requestsPerSecond).toLocaleString('en-US')} requests/s (${why}); ${more}`;
}

// The memory test's rule on a trend: growth that keeps rising with the requests (or with the sessions) is
// a leak. Crashes, hangs and error floods are judged before it (run.ts).
import { formatBytes } from '../format.js';
import type { Trend } from './trend.js';
import type { Verdict } from './run.js';

/**
 * The leak verdict from a trend; crashes, hangs and error floods are judged by the caller. With session
 * churn (a new session every requestsPerSession requests) growth is also told per session, since state kept
 * after a session has ended is the usual leak of HTTP servers.
 */
export function leakVerdict(trend: Trend, requestsPerSession?: number): Verdict {
  if (trend.shape === 'rising' && requestsPerSession) {
    const sessions = Math.round(trend.measuredRequests / requestsPerSession);
    return {
      pass: false,
      reasons: [`memory grows as sessions come and go: ${formatBytes(trend.bytesPerRequest * requestsPerSession)} per session `
        + `(a new session every ${requestsPerSession.toLocaleString('en-US')} requests; ${formatBytes(trend.bytesPerRequest)} per request) after warm-up, `
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
  return { pass: true, reasons: [] };
}

// What an answer counts as: ok, or one of the error classes the results count (a timeout, a closed
// connection, an HTTP status, a JSON-RPC error, an error result). Pure functions.
import type { Message, Outcome } from './connection.js';
import type { ErrorClass, ErrorCounts } from '../results.js';

/** How an answer counts: ok (null), or one of the error classes. */
export function classify(outcome: Outcome): ErrorClass | null {
  if (outcome.kind === 'timeout') return 'timeout';
  if (outcome.kind === 'closed') return 'transport';
  // Over HTTP: a status other than 2xx (429 among them), or no HTTP answer at all (status 0).
  if (outcome.http && (outcome.http.status < 200 || outcome.http.status > 299)) return 'http';
  const msg = outcome.message;
  if (msg.error) return 'jsonrpc';
  const result = msg.result;
  if (result && typeof result === 'object') {
    if (result.isError === true) return 'isError';
    // Not in the spec, but seen in real servers: an error object inside a successful result.
    if (result.error) return 'resultError';
  }
  return null;
}

export function describeError(outcome: Outcome): string {
  if (outcome.kind === 'timeout') return 'no answer within the timeout';
  if (outcome.kind === 'closed') return 'connection closed';
  const msg: Message = outcome.message;
  if (outcome.http && classify(outcome) === 'http') {
    const { status, retryAfter } = outcome.http;
    return `${status ? `HTTP ${status} ` : ''}${msg.error?.message ?? ''}${retryAfter ? ` (Retry-After: ${retryAfter})` : ''}`.slice(0, 200);
  }
  if (msg.error) return `${msg.error.code} ${msg.error.message}`.slice(0, 200);
  const r = msg.result;
  if (r?.isError) return String(r.content?.find?.((c: any) => c?.type === 'text')?.text ?? 'isError').slice(0, 200);
  return JSON.stringify(r?.error).slice(0, 200);
}

/** Count one failure of a class, keeping the first few descriptions as samples. */
export function countError(errors: ErrorCounts, cls: ErrorClass, note: string): void {
  const e = errors[cls] ?? (errors[cls] = { count: 0, samples: [] });
  e.count++;
  if (e.samples.length < 3) e.samples.push(note);
}

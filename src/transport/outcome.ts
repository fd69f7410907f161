// What an answer counts as: ok, or one of the error classes the results count (a timeout, a closed
// connection, an HTTP status, a JSON-RPC error, an error result, a request for client input). Pure functions.
import type { Message, Outcome } from './connection.js';
import type { ProtocolErrorCode } from '@modelcontextprotocol/client';
import type { ErrorClass, ErrorCounts } from '../results.js';

/** How an answer counts: ok (null), or one of the error classes. */
export function classify(outcome: Outcome): ErrorClass | null {
  if (outcome.kind === 'timeout') return 'timeout';
  if (outcome.kind === 'closed') return 'transport';
  // Given up on by the client on purpose: neither an answer nor a failure of the server's.
  if (outcome.kind === 'abandoned') return null;
  if (asksForInput(outcome)) return 'inputRequired';
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

/**
 * MissingRequiredClientCapability: the server would ask for input the client's capabilities do not offer.
 * Written out because this runs on every answer, before the 2.x SDK is loaded; its type is the SDK's enum
 * member, so the build fails if the SDK ever gives the code another value.
 */
const CAPABILITY_MISSING: ProtocolErrorCode.MissingRequiredClientCapability = -32021;

/**
 * A 2026-07-28 server asking for client input instead of answering: an input_required result (check this
 * before treating a result as a success: result schemas accept it, content defaulting to []), or -32021
 * when what it would ask needs a capability mcp-hammer does not declare (over HTTP with status 400).
 */
export function asksForInput(outcome: Outcome & { kind: 'answer' }): boolean {
  const msg = outcome.message;
  if (msg.result?.resultType === 'input_required') return true;
  return (outcome.http?.error ?? msg.error)?.code === CAPABILITY_MISSING;
}

export function describeError(outcome: Outcome): string {
  if (outcome.kind === 'timeout') return 'no answer within the timeout';
  if (outcome.kind === 'closed') return 'connection closed';
  if (outcome.kind === 'abandoned') return outcome.how === 'cancel' ? 'cancelled by the client' : 'hung up on by the client';
  const msg: Message = outcome.message;
  if (asksForInput(outcome)) {
    const r = msg.result;
    if (r?.resultType === 'input_required') {
      const methods = Object.values(r.inputRequests ?? {}).map((q: any) => q?.method).filter((m) => typeof m === 'string');
      return `input_required${methods.length ? ` (${[...new Set(methods)].join(', ')})` : ''}`;
    }
    const e = (outcome.http?.error ?? msg.error)!;
    return `${e.code} ${e.message}`.slice(0, 200);
  }
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

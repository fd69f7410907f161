// Recognising a throttled answer and the wait it asks for. The MCP specification asks servers to rate-limit
// tool calls but gives no standard signal, so every form seen in real servers counts: HTTP 429; a JSON-RPC
// error in the implementation-defined server range -32000..-32099, or any JSON-RPC error whose message
// speaks of limits; an isError tool result whose text does; a non-standard `error` object inside `result`
// that does. Pure functions: an Outcome in, a description out.
import type { Outcome } from '../transport/connection.js';
import type { RetryHint, Throttle } from '../results.js';

// Whole words where a short word would match inside others ("generate", "unlimited"); "ratelimit" and
// "RateLimitError" run words together, so that one needs no boundaries.
const SPEAKS_OF_LIMITS = /rate.?limit|\brate\b|\blimit(s|ed|ing)?\b|too many|throttl|quota|\bretry|\bretries\b|\b429\b/i;

export function speaksOfLimits(text: string): boolean {
  return SPEAKS_OF_LIMITS.test(text);
}

/** The throttle an answer carries, or null when it is not a throttled answer. */
export function throttleOf(outcome: Outcome): Throttle | null {
  if (outcome.kind !== 'answer') return null;
  const { message: msg, http } = outcome;
  const error = msg.error;
  if (http?.status === 429) {
    const fromHeader = http.retryAfter === undefined ? undefined : parseWait(http.retryAfter);
    return {
      style: 'http',
      code: 429,
      message: short(error?.message ?? 'Too Many Requests'),
      hint: fromHeader !== undefined ? { source: 'Retry-After', seconds: fromHeader } : hintIn(error?.data, error?.message),
    };
  }
  if (error) {
    const inRange = typeof error.code === 'number' && error.code <= -32000 && error.code >= -32099;
    const text = String(error.message ?? '');
    if (!inRange && !speaksOfLimits(text)) return null;
    return { style: 'jsonrpc', code: error.code, message: short(text), hint: hintIn(error.data, text) };
  }
  const result = msg.result;
  if (!result || typeof result !== 'object') return null;
  if (result.isError === true) {
    const text = textOf(result);
    if (!speaksOfLimits(text)) return null;
    return { style: 'isError', message: short(text), hint: hintIn(result.structuredContent ?? result._meta, text) };
  }
  if (result.error) {
    const e = result.error;
    const text = typeof e === 'string' ? e : JSON.stringify(e);
    if (!speaksOfLimits(text)) return null;
    const message = typeof e === 'string' ? e : String(e.message ?? text);
    const code = typeof e === 'object' && (typeof e.code === 'number' || typeof e.code === 'string') ? e.code : undefined;
    return { style: 'resultError', code, message: short(message), hint: hintIn(typeof e === 'object' ? e : result, text) ?? hintIn(result) };
  }
  return null;
}

function textOf(result: any): string {
  const parts = Array.isArray(result.content) ? result.content.filter((c: any) => c?.type === 'text').map((c: any) => String(c.text)) : [];
  return parts.join(' ') || 'isError';
}

function short(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/** A retry hint in a data object (retryAfter, retry_after, retryAfterMs, …) or else in the text. */
export function hintIn(data: unknown, text?: string): RetryHint | undefined {
  if (data && typeof data === 'object') {
    const d = data as Record<string, unknown>;
    for (const key of ['retryAfterMs', 'retry_after_ms']) {
      if (typeof d[key] === 'number' && (d[key] as number) >= 0) return { source: 'retryAfter', seconds: (d[key] as number) / 1000 };
    }
    for (const key of ['retryAfter', 'retry_after', 'retryAfterSeconds', 'retry_after_seconds']) {
      // A bare number is seconds, as in the HTTP header these fields copy.
      const seconds = typeof d[key] === 'number' ? (d[key] as number) : typeof d[key] === 'string' ? parseWait(d[key] as string) : undefined;
      if (seconds !== undefined && seconds >= 0) return { source: 'retryAfter', seconds };
    }
  }
  if (text) {
    const m = /(?:retry|try again)\s+(?:again\s+)?(?:after|in)\s+(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)?\b/i.exec(text);
    if (m) return { source: 'text', seconds: Number(m[1]) * unitSeconds(m[2]) };
  }
  return undefined;
}

/** "2", "1.5s", "500ms", "1m" or an HTTP date, in seconds from now; undefined when it is none of those. */
export function parseWait(text: string, nowMs = Date.now()): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (m) return Number(m[1]) * unitSeconds(m[2]);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - nowMs) / 1000);
}

function unitSeconds(unit: string | undefined): number {
  const u = (unit ?? 's').toLowerCase();
  if (u.startsWith('ms') || u.startsWith('milli')) return 0.001;
  if (u.startsWith('m')) return 60;
  if (u.startsWith('h')) return 3600;
  return 1;
}

// Recognising a throttled answer and the wait it asks for. The MCP specification asks servers to rate-limit
// tool calls but gives no standard signal, so every form seen in real servers counts: HTTP 429; a JSON-RPC
// error in the implementation-defined server range -32000..-32099, or any JSON-RPC error whose message
// speaks of limits; an isError tool result whose text does; a non-standard `error` object inside `result`
// that does. Pure functions: an Outcome in, a description out.
import type { Outcome } from './connection.js';
import type { RetryHint, Throttle, Throttling } from '../results.js';
import { count, formatShare, formatWait } from '../format.js';

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
      hint: fromHeader !== undefined ? { source: 'Retry-After', seconds: fromHeader } : hintIn(error?.data, error?.message, 'error.data'),
    };
  }
  if (error) {
    const inRange = typeof error.code === 'number' && error.code <= -32000 && error.code >= -32099;
    const text = String(error.message ?? '');
    if (!inRange && !speaksOfLimits(text)) return null;
    return { style: 'jsonrpc', code: error.code, message: short(text), hint: hintIn(error.data, text, 'error.data') };
  }
  const result = msg.result;
  if (!result || typeof result !== 'object') return null;
  if (result.isError === true) {
    const text = textOf(result);
    if (!speaksOfLimits(text)) return null;
    // In structuredContent or _meta, or in a JSON object written as the text.
    return { style: 'isError', message: short(text), hint: hintIn(result, undefined, 'result') ?? hintIn(parsed(text), text, 'result.content.text') };
  }
  if (result.error) {
    const e = result.error;
    const text = typeof e === 'string' ? e : JSON.stringify(e);
    if (!speaksOfLimits(text)) return null;
    const message = typeof e === 'string' ? e : String(e.message ?? text);
    const code = typeof e === 'object' && (typeof e.code === 'number' || typeof e.code === 'string') ? e.code : undefined;
    // The hint may sit beside the error, in it, or in its data ({"error": {"data": {"retryAfter": 54}}}).
    return { style: 'resultError', code, message: short(message), hint: hintIn(result, text, 'result') };
  }
  return null;
}

function parsed(text: string): unknown {
  if (!/^\s*\{/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function textOf(result: any): string {
  const parts = Array.isArray(result.content) ? result.content.filter((c: any) => c?.type === 'text').map((c: any) => String(c.text)) : [];
  return parts.join(' ') || 'isError';
}

function short(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

// Field names of retry hints, lower-cased without - and _: the wait they give is in seconds, as in the
// HTTP header they copy, unless the name (or a `unit` beside it) says milliseconds.
const HINT_FIELDS: Record<string, 's' | 'ms'> = {
  retryafter: 's', retryafterseconds: 's', retryaftersecs: 's', retryaftersec: 's', retryin: 's', retryinseconds: 's',
  retryafterms: 'ms', retryaftermillis: 'ms', retryaftermilliseconds: 'ms', retryinms: 'ms',
};

/**
 * A retry hint in a data object, at its top or nested up to four levels (error.data, structuredContent,
 * _meta), or else in the text. `at` names where the object sits in the answer, for the hint's `field`.
 */
export function hintIn(data: unknown, text?: string, at?: string): RetryHint | undefined {
  const found = hintField(data, at ?? '', 0);
  if (found) return found;
  if (text) {
    const m = /(?:retry|try again)\s+(?:again\s+)?(?:after|in)\s+(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hours?)?\b/i.exec(text);
    if (m) return { source: 'text', seconds: Number(m[1]) * unitSeconds(m[2]) };
  }
  return undefined;
}

/** Breadth first: a hint beside the message wins over one nested deeper. */
function hintField(value: unknown, path: string, depth: number): RetryHint | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value) || depth > 4) return undefined;
  const d = value as Record<string, unknown>;
  const stated = String(d.unit ?? d.units ?? d.retryAfterUnit ?? '');
  for (const [key, v] of Object.entries(d)) {
    const unit = HINT_FIELDS[key.toLowerCase().replace(/[-_]/g, '')];
    if (!unit) continue;
    const ms = unit === 'ms' || /^(ms|milli)/i.test(stated);
    const seconds = typeof v === 'number' ? (ms ? v / 1000 : v)
      : typeof v === 'string' ? (ms && /^\s*\d+(\.\d+)?\s*$/.test(v) ? Number(v) / 1000 : parseWait(v)) : undefined;
    if (seconds !== undefined && seconds >= 0 && Number.isFinite(seconds)) return { source: 'retryAfter', seconds, field: path ? `${path}.${key}` : key };
  }
  for (const [key, v] of Object.entries(d)) {
    const found = hintField(v, path ? `${path}.${key}` : key, depth + 1);
    if (found) return found;
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

/** How a throttle reads: `JSON-RPC -32000 "Rate limit exceeded"`. */
export function describeThrottle(t: { style: Throttle['style']; code?: number | string; message: string }): string {
  const label = { http: 'HTTP 429', jsonrpc: `JSON-RPC ${t.code}`, isError: 'isError', resultError: 'error in result' }[t.style];
  const code = t.style === 'resultError' && t.code !== undefined ? ` ${t.code}` : '';
  return `${label}${code} ${JSON.stringify(t.message)}`;
}

/** The refusals of a load, by style: how many, and the first of each (the evidence a report quotes). */
export type Refusals = Partial<Record<Throttle['style'], { count: number; first: Throttle }>>;

/**
 * Memory and cache runs: an answer a rate limiter gave, or null. The load does not go looking for
 * throttling, so only unmistakable refusals count: an HTTP 429, or an error whose words speak of limits
 * (a bare -32000 is any server error here).
 */
export function limiterRefusal(outcome: Outcome): Throttle | null {
  const t = throttleOf(outcome);
  return t && (t.style === 'http' || speaksOfLimits(t.message)) ? t : null;
}

/** Count one refusal into the tally. */
export function countRefusal(refusals: Refusals, t: Throttle): void {
  const seen = refusals[t.style];
  if (seen) seen.count++;
  else refusals[t.style] = { count: 1, first: t };
}

/** The share of a run's requests a rate limiter refused, told by its most frequent form; null for none. */
export function throttlingOf(refusals: Refusals, requests: number): Throttling | null {
  const seen = Object.values(refusals);
  if (!seen.length || requests <= 0) return null;
  const count = seen.reduce((n, r) => n + r!.count, 0);
  const { style, code, message, hint } = seen.reduce((a, b) => (b!.count > a!.count ? b : a))!.first;
  return { count, share: count / requests, style, ...(code !== undefined ? { code } : {}), message, ...(hint ? { retryHint: hint } : {}) };
}

/** What a memory or cache run whose calls were mostly refused measured, and how to test past the limiter. */
export function throttlingWarning(t: Throttling, requests: number): string {
  const hint = t.retryHint ? `, retry after ${formatWait(t.retryHint.seconds)}` : '';
  return `the server's rate limiter refused ${formatShare(t.share)} of calls (${count(t.count)} of ${count(requests)}: ${describeThrottle(t)}${hint}), `
    + 'so the run measured the refusal path, not the work the calls do; to measure that, raise the server\'s limit for the test '
    + '(or turn it off), and test the limiter itself with mcp-hammer ratelimit';
}

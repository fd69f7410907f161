// Recognising throttled answers and retry hints: answers as they arrive on the wire, in every form seen in
// real servers, and answers that must not pass for throttling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, Outcome } from '../src/transport/connection.js';
import { hintIn, parseWait, throttleOf } from '../src/load/throttled.js';
import { describeThrottle } from '../src/report/text.js';

const answer = (message: Message, http?: { status: number; retryAfter?: string }): Outcome =>
  ({ kind: 'answer', message: { jsonrpc: '2.0', id: 1, ...message }, latencyMs: 1, ...(http ? { http } : {}) });
const text = (t: string, isError = true) => answer({ result: { isError, content: [{ type: 'text', text: t }] } });

test('JSON-RPC errors: the server range -32000..-32099, or a message that speaks of limits', () => {
  const a = throttleOf(answer({ error: { code: -32000, message: 'Rate limit exceeded' } }));
  assert.deepEqual(a, { style: 'jsonrpc', code: -32000, message: 'Rate limit exceeded', hint: undefined });
  assert.equal(throttleOf(answer({ error: { code: -32029, message: 'nope' } }))?.style, 'jsonrpc');
  assert.equal(throttleOf(answer({ error: { code: -32603, message: 'Too many requests' } }))?.style, 'jsonrpc');
  assert.equal(throttleOf(answer({ error: { code: -32602, message: 'Invalid params: q is required' } })), null);
  assert.equal(throttleOf(answer({ error: { code: -32100, message: 'Internal' } })), null);
  assert.equal(describeThrottle(a!), 'JSON-RPC -32000 "Rate limit exceeded"');
});

test('isError results count only when their text speaks of limits', () => {
  const t = throttleOf(text('rate limited, retry after 1s'));
  assert.equal(t?.style, 'isError');
  assert.deepEqual(t?.hint, { source: 'text', seconds: 1 });
  for (const words of ['Quota exceeded', 'Throttled', 'RateLimitError: slow down', 'too many calls', 'please retry later', 'upstream said 429']) {
    assert.equal(throttleOf(text(words))?.style, 'isError', words);
  }
  for (const words of ['unknown time zone', 'could not generate the answer', 'unlimited plan required', 'accurate to 1 s', 'separate by commas']) {
    assert.equal(throttleOf(text(words)), null, words);
  }
  assert.equal(throttleOf(text('rate limit', false)), null, 'a successful result is never a throttle');
});

test('a non-standard error object inside result, with a retryAfter field', () => {
  const t = throttleOf(answer({ result: { content: [], error: { code: 'RATE_LIMITED', message: 'Slow down', retryAfter: 30 } } }));
  assert.deepEqual(t, { style: 'resultError', code: 'RATE_LIMITED', message: 'Slow down', hint: { source: 'retryAfter', seconds: 30 } });
  assert.equal(describeThrottle(t!), 'error in result RATE_LIMITED "Slow down"');
  assert.equal(throttleOf(answer({ result: { error: 'quota used up' } }))?.message, 'quota used up');
  assert.equal(throttleOf(answer({ result: { error: { message: 'file not found' } } })), null);
});

test('HTTP 429, with Retry-After in seconds or as a date, and the HTTP client\'s synthesized error', () => {
  const t = throttleOf(answer({ error: { code: -32000, message: 'Too Many Requests' } }, { status: 429, retryAfter: '2' }));
  assert.deepEqual(t, { style: 'http', code: 429, message: 'Too Many Requests', hint: { source: 'Retry-After', seconds: 2 } });
  assert.equal(describeThrottle(t!), 'HTTP 429 "Too Many Requests"');
  const later = new Date(Date.now() + 60_000).toUTCString();
  const d = throttleOf(answer({ error: { code: 429, message: 'x' } }, { status: 429, retryAfter: later }));
  assert.ok(d?.hint && d.hint.seconds > 55 && d.hint.seconds <= 60, JSON.stringify(d));
  assert.equal(throttleOf(answer({ result: {} }, { status: 200 })), null);
});

test('retry hints: fields, units, text; no answer is no throttle', () => {
  assert.deepEqual(hintIn({ retryAfterMs: 1500 }), { source: 'retryAfter', seconds: 1.5 });
  assert.deepEqual(hintIn({ retry_after: '2s' }), { source: 'retryAfter', seconds: 2 });
  assert.deepEqual(hintIn(undefined, 'Try again in 3 seconds'), { source: 'text', seconds: 3 });
  assert.deepEqual(hintIn(undefined, 'retry after 250 ms'), { source: 'text', seconds: 0.25 });
  assert.deepEqual(hintIn(undefined, 'retry in 2 minutes'), { source: 'text', seconds: 120 });
  assert.equal(hintIn(undefined, 'retry later'), undefined);
  assert.equal(parseWait('soon'), undefined);
  assert.equal(parseWait('1m'), 60);
  assert.equal(throttleOf({ kind: 'timeout' }), null);
  assert.equal(throttleOf({ kind: 'closed' }), null);
  const data = throttleOf(answer({ error: { code: -32000, message: 'Rate limit exceeded', data: { retryAfter: 5 } } }));
  assert.deepEqual(data?.hint, { source: 'retryAfter', seconds: 5 });
});

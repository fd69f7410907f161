// Recognising throttled answers and retry hints: answers as they arrive on the wire, in every form seen in
// real servers, and answers that must not pass for throttling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, Outcome } from '../../src/transport/connection.js';
import { countRefusal, hintIn, limiterRefusal, parseWait, throttleOf, throttlingOf, throttlingWarning, type Refusals } from '../../src/transport/throttled.js';
import { describeThrottle } from '../../src/report/text.js';

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
  assert.deepEqual(t, { style: 'resultError', code: 'RATE_LIMITED', message: 'Slow down', hint: { source: 'retryAfter', seconds: 30, field: 'result.error.retryAfter' } });
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
  assert.deepEqual(hintIn({ retryAfterMs: 1500 }), { source: 'retryAfter', seconds: 1.5, field: 'retryAfterMs' });
  assert.deepEqual(hintIn({ retry_after: '2s' }), { source: 'retryAfter', seconds: 2, field: 'retry_after' });
  assert.deepEqual(hintIn(undefined, 'Try again in 3 seconds'), { source: 'text', seconds: 3 });
  assert.deepEqual(hintIn(undefined, 'retry after 250 ms'), { source: 'text', seconds: 0.25 });
  assert.deepEqual(hintIn(undefined, 'retry in 2 minutes'), { source: 'text', seconds: 120 });
  assert.equal(hintIn(undefined, 'retry later'), undefined);
  assert.equal(parseWait('soon'), undefined);
  assert.equal(parseWait('1m'), 60);
  assert.equal(throttleOf({ kind: 'timeout' }), null);
  assert.equal(throttleOf({ kind: 'closed' }), null);
  const data = throttleOf(answer({ error: { code: -32000, message: 'Rate limit exceeded', data: { retryAfter: 5 } } }));
  assert.deepEqual(data?.hint, { source: 'retryAfter', seconds: 5, field: 'error.data.retryAfter' });
});

// The three places the ratelimit fixture's window modes put their hint, as they arrive on the wire.
test('retry hints where real servers put them: error.data inside result, JSON-RPC error.data, structuredContent', () => {
  const inResult = throttleOf(answer({ result: { content: [], error: { code: -32000, message: 'Rate limit exceeded', data: { limit: 100, window: 60000, retryAfter: 54 } } } }));
  assert.deepEqual(inResult, { style: 'resultError', code: -32000, message: 'Rate limit exceeded',
    hint: { source: 'retryAfter', seconds: 54, field: 'result.error.data.retryAfter' } });
  const rpc = throttleOf(answer({ error: { code: -32000, message: 'MCP error -32000: Rate limit exceeded', data: { limit: 3, window: 5000, retryAfterMs: 3190 } } }));
  assert.deepEqual(rpc?.hint, { source: 'retryAfter', seconds: 3.19, field: 'error.data.retryAfterMs' });
  const structured = throttleOf(answer({ result: { isError: true, content: [{ type: 'text', text: 'Rate limit exceeded' }], structuredContent: { limit: 3, window: 5000, retryAfter: 4 } } }));
  assert.deepEqual(structured?.hint, { source: 'retryAfter', seconds: 4, field: 'result.structuredContent.retryAfter' });
  const jsonText = throttleOf(text('{"error":"rate limited","retry_after_ms":250}'));
  assert.deepEqual(jsonText?.hint, { source: 'retryAfter', seconds: 0.25, field: 'result.content.text.retry_after_ms' });
});

test('retry hint units: seconds unless the name or a unit beside it says milliseconds', () => {
  assert.equal(hintIn({ retryAfter: 3 })?.seconds, 3);
  assert.equal(hintIn({ 'Retry-After': '7' })?.seconds, 7);
  assert.equal(hintIn({ retryAfterSeconds: 1.5 })?.seconds, 1.5);
  assert.equal(hintIn({ retry_after_milliseconds: 800 })?.seconds, 0.8);
  assert.equal(hintIn({ retryAfter: 500, unit: 'ms' })?.seconds, 0.5);
  assert.equal(hintIn({ retryAfterMs: '1200' })?.seconds, 1.2);
  assert.equal(hintIn({ retryAfter: '2m' })?.seconds, 120);
  // Beside the message wins over nested deeper; deeper than four levels is not looked at.
  assert.equal(hintIn({ retryAfter: 1, data: { retryAfter: 9 } })?.seconds, 1);
  assert.equal(hintIn({ a: { b: { c: { d: { e: { retryAfter: 9 } } } } } }), undefined);
  assert.equal(hintIn({ limit: 100, window: 60000 }), undefined);
});

test('throttled share of a memory run, from the refusals the load counted as they came', () => {
  const tally = (outcomes: Outcome[]): Refusals => {
    const refusals: Refusals = {};
    for (const o of outcomes) {
      const t = limiterRefusal(o);
      if (t) countRefusal(refusals, t);
    }
    return refusals;
  };
  const resultError = answer({ result: { error: { code: -32000, message: 'Rate limit exceeded', data: { limit: 100, window: 60000, retryAfter: 54 } } } });
  const t = throttlingOf(tally(Array(9996).fill(resultError)), 10_000);
  assert.deepEqual(t, { count: 9996, share: 0.9996, style: 'resultError', code: -32000, message: 'Rate limit exceeded',
    retryHint: { source: 'retryAfter', seconds: 54, field: 'result.error.data.retryAfter' } });
  assert.equal(throttlingOf(tally([answer({ error: { code: -32000, message: 'MCP error -32000: Rate limit exceeded' } })]), 10)?.style, 'jsonrpc');
  assert.equal(throttlingOf(tally([text('rate limited, retry after 1s')]), 10)?.retryHint?.seconds, 1);
  assert.equal(throttlingOf(tally([answer({ error: { code: 429, message: 'Too Many Requests' } }, { status: 429, retryAfter: '2' })]), 10)?.retryHint?.seconds, 2);
  // A bare server error is no refusal here; refusals among other errors are counted one by one.
  assert.equal(throttlingOf(tally([answer({ error: { code: -32000, message: 'database unavailable' } })]), 10), null);
  const mixed = throttlingOf(tally([text('rate limited'),
    text('file not found')]), 10);
  assert.equal(mixed?.count, 1);
  // The most frequent form is the one told.
  const jsonrpc = answer({ error: { code: -32029, message: 'Too many requests' } });
  assert.equal(throttlingOf(tally([resultError, jsonrpc, jsonrpc]), 10)?.style, 'jsonrpc');
  assert.match(throttlingWarning(t!, 10_000), /^the server's rate limiter refused 99\.96% of calls \(9,996 of 10,000: error in result -32000 "Rate limit exceeded", retry after 54 s\), so the run measured the refusal path.*raise the server's limit for the test/);
});

// The cache test's arguments alone: values that honour the schema and never repeat, patterns, what cannot
// vary, and the per-request params JSON. Pure functions: no server needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { valueFor, whyFixed } from '../../src/requests/arguments.js';
import { matches, matching } from '../../src/requests/schemapattern.js';
import { floodFor, planFlood } from '../../src/requests/flood.js';
import { toolCall } from '../../src/requests/build.js';
import { CannotRun } from '../../src/errors.js';

const COUNTERS = [0, 1, 2, 9, 10, 35, 36, 999, 1000, 65_535, 123_456, 999_999, 5_000_000];

function distinctAndMatching(pattern: string): string[] {
  const values = COUNTERS.map((u) => matching(pattern, u));
  for (const v of values) {
    assert.equal(typeof v, 'string', `no value for ${pattern}`);
    assert.ok(new RegExp(pattern, 'u').test(v!), `${JSON.stringify(v)} does not match ${pattern}`);
  }
  assert.equal(new Set(values).size, values.length, `values repeat for ${pattern}: ${values.join(' ')}`);
  return values as string[];
}

test('pattern: generated strings match and never repeat', () => {
  for (const pattern of [
    '^[A-Z]{3}-\\d{4}$', '^[a-z0-9_-]+$', '^\\d+$', '^[a-zA-Z][a-zA-Z0-9]*$', 'abc', '^(?:foo|bar)-[0-9a-f]{8}$',
    '^[^\\s@]+@[^\\s@]+\\.[a-z]{2,}$', '^v\\d+\\.\\d+\\.\\d+$', '^(?<user>[a-z]{2,8})/(?<repo>[a-z]+)$', '^\\w{1,64}$',
    '^[\\u0041-\\u005A]{2}[0-9]{6,}$', '^.+$', '^([a-z]+\\.)*[a-z]+$',
  ]) distinctAndMatching(pattern);
});

test('pattern: lookaround, backreferences and word boundaries are beyond the generator', () => {
  for (const pattern of ['^(?=.*\\d)[a-z\\d]{8}$', '^(a)\\1$', '\\bword\\b', '^\\p{L}+$']) assert.equal(matching(pattern, 1), null, pattern);
  assert.equal(matches('^[a-z]+$', 'abc'), true);
  assert.equal(matches('^[a-z]+$', 'k1'), false);
  assert.equal(matches('(unclosed', 'anything'), true, 'an invalid pattern cannot be checked');
});

test('valueFor: unique values honour formats, lengths and patterns', () => {
  const cases: [Record<string, unknown>, (v: any) => boolean][] = [
    [{ type: 'string' }, (v) => /^k\d+$/.test(v)],
    [{ type: 'string', format: 'date-time' }, (v) => !Number.isNaN(Date.parse(v))],
    [{ type: 'string', format: 'email' }, (v) => /^user\d+@example\.com$/.test(v)],
    [{ type: 'string', format: 'uri' }, (v) => v.startsWith('http://localhost/')],
    [{ type: 'string', format: 'uuid' }, (v) => /^[0-9a-f-]{36}$/.test(v)],
    [{ type: 'string', maxLength: 5 }, (v) => v.length <= 5],
    [{ type: 'string', minLength: 12 }, (v) => v.length >= 12],
    [{ type: 'string', pattern: '^[A-Z]{3}-\\d{4}$' }, (v) => /^[A-Z]{3}-\d{4}$/.test(v)],
    [{ type: 'integer', minimum: 1 }, (v) => Number.isInteger(v) && v >= 1],
    [{ anyOf: [{ type: 'string' }, { type: 'null' }] }, (v) => typeof v === 'string'],
  ];
  for (const [schema, ok] of cases) {
    const values = COUNTERS.map((u) => valueFor(schema, u));
    for (const v of values) assert.ok(ok(v), `${JSON.stringify(v)} for ${JSON.stringify(schema)}`);
    assert.equal(new Set(values.map((v) => JSON.stringify(v))).size, values.length, `repeats for ${JSON.stringify(schema)}`);
    assert.equal(whyFixed(schema), null, `${JSON.stringify(schema)} can vary`);
  }
  // Without a counter, a pattern is honoured too (the memory test's fixed arguments).
  assert.match(valueFor({ type: 'string', pattern: '^[A-Z]{3}$' }) as string, /^[A-Z]{3}$/);
});

test('whyFixed: enums, booleans, constants, local addresses and small value spaces cannot be flooded', () => {
  assert.match(whyFixed({ type: 'string', enum: ['a', 'b'] })!, /enum/);
  assert.match(whyFixed({ type: 'boolean' })!, /boolean/);
  assert.match(whyFixed({ const: 'x' })!, /constant/);
  assert.match(whyFixed({ type: 'string', format: 'hostname' })!, /this machine/);
  assert.match(whyFixed({ type: 'string', pattern: '^[A-Z]{3}$' })!, /too few/);
  assert.match(whyFixed({ type: 'string', maxLength: 2 })!, /too few/);
  assert.match(whyFixed({ type: 'integer', minimum: 1, maximum: 100 })!, /too few/);
  assert.match(whyFixed({ type: 'string', format: 'time' })!, /too few/);
  assert.match(whyFixed({ type: 'string', pattern: '^(?=x)x+$' })!, /pattern/);
});

const tool = (name: string, properties: Record<string, unknown>, required: string[] = []): Tool =>
  ({ name, inputSchema: { type: 'object', properties, required } }) as Tool;

test('floodFor: the params JSON of each request is what JSON.stringify would give, with fresh values', () => {
  const t = tool('search', { query: { type: 'string' }, limit: { type: 'integer' }, when: { type: 'string', format: 'date-time' } });
  const f = floodFor(toolCall(t.name, { limit: 5, note: 'a "quoted" \\ value' }, t.inputSchema), ['query', 'when']);
  for (const u of [0, 7, 123_456]) {
    const call = f.unique(u);
    const args = { limit: 5, note: 'a "quoted" \\ value', query: valueFor({ type: 'string' }, u), when: valueFor({ type: 'string', format: 'date-time' }, u) };
    assert.deepEqual(JSON.parse(call.paramsJson!), { name: 'search', arguments: args });
  }
  assert.notEqual(f.unique(1).paramsJson, f.unique(2).paramsJson);
  assert.deepEqual(JSON.parse(f.control.paramsJson!).arguments, { limit: 5, note: 'a "quoted" \\ value', query: 'x', when: valueFor({ type: 'string', format: 'date-time' }) });
});

test('planFlood: string properties by default, --vary by name, and a plain message when nothing can vary', () => {
  const tools = [
    tool('lookup', { query: { type: 'string' }, verbose: { type: 'boolean' }, count: { type: 'integer' } }, ['query']),
    tool('status', { level: { type: 'string', enum: ['low', 'high'] } }, ['level']),
  ];
  const calls = tools.map((t) => toolCall(t.name, {}, t.inputSchema));
  const plan = planFlood(calls, []);
  assert.deepEqual(plan.floods.map((f) => [f.name, f.varied]), [['lookup', ['query']]]);
  assert.match(plan.notices[0], /status is left out: nothing in it can vary \(level: it is an enum/);
  assert.deepEqual(planFlood(calls, ['count']).floods.map((f) => f.varied), [['count']]);
  assert.throws(() => planFlood(calls, ['nope']), (e: Error) => e instanceof CannotRun && /--vary nope: no tool called has that argument/.test(e.message));
  assert.throws(() => planFlood(calls.slice(1), []), (e: Error) => e instanceof CannotRun && /nothing to vary: status\.level: it is an enum/.test(e.message));
  assert.throws(() => planFlood([{ method: 'ping' }], []), (e: Error) => e instanceof CannotRun && /no tool is called/.test(e.message));
});

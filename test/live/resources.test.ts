// Resources and prompts in the load, end to end: the CLI against the fixture with three static resources,
// a URI template and two prompts (test/fixtures/resource-server.ts), whose leaks sit in reading and getting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixture, runCli } from '../helpers/cli.js';
import { marker, processesWith } from '../helpers/processes.js';

async function run(test: string, mode: string, extra: string[] = []) {
  const mark = marker();
  const r = await runCli([test, ...extra, '--', process.execPath, fixture('resource-server.js'), mode, mark], { limitMs: 90_000 });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.ok(r.results, `results JSON on stdout; stderr: ${r.stderr}`);
  return r;
}

const name = (c: any) => c.tool ?? c.uri ?? `prompt ${c.prompt}`;
const EVERYTHING = ['lookup', 'fixture://notes/1', 'fixture://notes/2', 'fixture://notes/3', 'fixture://items/x', 'prompt greeting', 'prompt summarize'];

test('resources and prompts: read and got by default besides the read-only tool; PASS when nothing is kept', async () => {
  const r = await run('memory', 'clean');
  assert.equal(r.code, 0, `${r.results.reasons.join('; ')}\n${r.stderr}`);
  assert.deepEqual(r.results.calls.map(name), EVERYTHING);
  assert.deepEqual(r.results.calls[4], { method: 'resources/read', uri: 'fixture://items/x', template: 'fixture://items/{id}', arguments: { id: 'x' } });
  assert.deepEqual(r.results.calls[6], { method: 'prompts/get', prompt: 'summarize', arguments: { topic: 'x' } });
  assert.deepEqual(r.results.errors, {});
  assert.match(r.stderr, /calling lookup, fixture:\/\/notes\/1, fixture:\/\/notes\/2, fixture:\/\/notes\/3, fixture:\/\/items\/x, prompt greeting, prompt summarize, 16 in flight/);
});

// The default mix reads four resources in seven calls; it gets two prompts, a thin leak for a busy machine
// in 30 s, so the prompts are named there.
for (const [mode, extra] of [['resource-leak', []], ['prompt-leak', ['--prompt', 'greeting', '--prompt', 'summarize']]] as const) {
  test(`resources and prompts: FAIL for ${mode} (1 KB kept per ${mode === 'resource-leak' ? 'read' : 'get'})`, async () => {
    const r = await run('memory', mode, [...extra, '--clients', 'polite']);
    assert.equal(r.code, 1, `${r.results.reasons.join('; ')}\n${r.stderr}`);
    assert.match(r.results.reasons[0], /grows with every request/);
  });
}

test('resources and prompts: one that fails its trial call is left out, with the server\'s error', async () => {
  const r = await run('memory', 'broken-resource', ['--requests', '2000']);
  assert.deepEqual(r.results.calls.map(name), EVERYTHING.filter((c) => c !== 'fixture://notes/2'));
  assert.ok(r.results.warnings.some((w: string) => /left out of the load, after one trial call each: fixture:\/\/notes\/2 \(failed: -32603 .*note 2 is unavailable\); name them with --tool, --resource or --prompt/.test(w)),
    r.results.warnings.join('\n'));
});

test('resources and prompts: --tool narrows the load to the tool; --resource and --prompt name the others', async () => {
  const tool = await run('memory', 'clean', ['--tool', 'lookup', '--requests', '1000']);
  assert.deepEqual(tool.results.calls.map(name), ['lookup']);
  const named = await run('memory', 'clean', ['--resource', 'fixture://items/42', '--resource', 'fixture://notes/3', '--prompt', 'summarize={"topic":"tides"}', '--requests', '1000']);
  assert.deepEqual(named.results.calls.map(name), ['fixture://items/42', 'fixture://notes/3', 'prompt summarize']);
  assert.deepEqual(named.results.calls[2].arguments, { topic: 'tides' });
  assert.deepEqual(named.results.errors, {});
  const unknown = await run('memory', 'clean', ['--prompt', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown prompt 'nope'; this server has: greeting, summarize/);
});

test('cache: a URI template whose reads are cached by id, forever, is an unbounded cache', async () => {
  const r = await run('cache', 'template-cache', ['--resource', 'fixture://items/{id}']);
  assert.equal(r.code, 1, `${r.results.reasons.join('; ')}\n${r.stderr}`);
  assert.equal(r.results.reasons[0], 'unbounded cache: memory grows with every new argument value');
  assert.deepEqual(r.results.calls.map((c: any) => [c.template, c.varied]), [['fixture://items/{id}', ['id']]]);
  assert.match(r.stderr, /Varied: fixture:\/\/items\/\{id\}/);
});

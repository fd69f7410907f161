// Era negotiation and the 2026-07-28 wire: which revision a run speaks with SDK v2 servers (modern-only and
// dual), SDK v1 servers and hand-written ones that go wrong on purpose, over stdio and HTTP; the envelope and
// headers on the wire; input_required as its own outcome; and the sentence a user gets when no era fits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fixture, runCli } from '../helpers/cli.js';
import { freePort, marker, processesWith } from '../helpers/processes.js';
import { openTarget, type Target } from '../../src/server/open.js';
import { endServer } from '../../src/server/process.js';
import { PATIENCE_MS } from '../../src/server/negotiate.js';
import { connectStdio } from '../../src/transport/stdio.js';
import { envelope, withMeta } from '../../src/transport/era.js';
import { connectStateless, mcpName } from '../../src/transport/stateless.js';
import { classify, describeError } from '../../src/transport/outcome.js';
import type { Connection, Outcome } from '../../src/transport/connection.js';
import { chooseCalls, preflight, toolCall } from '../../src/requests/calls.js';
import type { Offered } from '../../src/requests/offered.js';
import { formatConnections } from '../../src/report/text.js';

const MODERN = fixture('modern-server.js');
const ERA = fixture('era-server.js');
const V1 = fixture('memory-server.js');
const ECHO = JSON.stringify({ name: 'echo', arguments: { text: 'hi' } });


/** openTarget on a fixture, the call echo'd once, the server ended and checked gone. */
async function negotiated(args: string[], o: { protocol?: string; http?: boolean } = {}): Promise<Target> {
  const mark = marker();
  const port = o.http ? await freePort() : 0;
  const target = await openTarget(process.execPath, [...args, ...(o.http ? ['transport=http', `port=${port}`] : []), mark], {
    timeoutMs: 10_000, startupMs: 30_000, protocol: o.protocol, ...(o.http ? { url: `http://127.0.0.1:${port}/mcp`, sse: false, headers: [] } : {}),
  });
  try {
    const outcome = await target.conn.request('tools/call', ECHO);
    assert.equal(classify(outcome), null, JSON.stringify(outcome));
  } finally {
    await endServer(target.server);
  }
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  return target;
}

for (const http of [false, true]) {
  const over = http ? 'HTTP' : 'stdio';
  test(`era (${over}): a modern-only SDK v2 server is spoken to in 2026-07-28`, async () => {
    const { info, notices } = await negotiated([MODERN, 'clean', 'era=modern-only'], { http });
    assert.deepEqual([info.era, info.protocolVersion, info.name], ['modern', '2026-07-28', 'modern-fixture-clean']);
    assert.deepEqual(info.tools.map((t) => t.name), ['echo', 'write_note']);
    // Over HTTP the server's other path is asked about, and it has none; over stdio it cannot be.
    if (http) assert.deepEqual(notices, []);
    else assert.match(notices.join(), /--protocol 2025-11-25 tests that path/);
  });

  test(`era (${over}): a dual SDK v2 server: 2026-07-28 by default, 2025 with --protocol, the other path named`, async () => {
    const modern = await negotiated([MODERN, 'clean'], { http });
    assert.equal(modern.info.era, 'modern');
    if (http) assert.match(modern.notices.join(), /also serves 2025-era clients .*not tested: --protocol 2025-11-25/);
    const legacy = await negotiated([MODERN, 'clean'], { http, protocol: '2025-06-18' });
    assert.deepEqual([legacy.info.era, legacy.info.protocolVersion], ['legacy', '2025-06-18']);
    if (http) assert.match(legacy.notices.join(), /also speaks 2026-07-28 .*modern path was not tested/);
  });
}

test('era: an SDK v1 server refuses server/discover and takes initialize on the same process', async () => {
  const { info, notices } = await negotiated([V1, 'clean']);
  assert.deepEqual([info.era, info.protocolVersion, info.name], ['legacy', '2025-11-25', 'fixture-clean']);
  assert.deepEqual(notices, [], 'no restart, nothing to say');
});

test('era: a server that exits on the probe is started again and hand-shaken, with a notice', async () => {
  const { info, notices } = await negotiated([ERA, 'exit-on-probe']);
  assert.equal(info.era, 'legacy');
  assert.match(notices.join(), /restarted for the 2025 handshake: .*closed the connection; the run measures the second/);
});

test('era: a server that never answers server/discover is hand-shaken after the patience runs out', async () => {
  const started = Date.now();
  const { info, notices } = await negotiated([ERA, 'silent-probe']);
  assert.equal(info.era, 'legacy');
  assert.ok(Date.now() - started >= PATIENCE_MS && Date.now() - started < PATIENCE_MS + 10_000);
  assert.match(notices.join(), /server\/discover went unanswered/);
});

// What a user meets: one sentence, exit 2.
for (const [name, args, expected] of [
  ['a server that speaks neither era', ['--', process.execPath, ERA, 'neither'],
    /supports neither era mcp-hammer speaks: it offers 2099-01-01; mcp-hammer speaks 2026-07-28, 2025-11-25, 2025-06-18/],
  ['a modern server that rejects the envelope', ['--', process.execPath, ERA, 'envelope'],
    /rejected mcp-hammer's 2026-07-28 request envelope: "Invalid _meta envelope for protocol revision 2026-07-28: .*" \(code -32602\)/],
  ['--protocol 2025-06-18 on a modern-only server', ['--protocol', '2025-06-18', '--', process.execPath, MODERN, 'clean', 'era=modern-only'],
    /does not serve protocol revision 2025-06-18 \(--protocol\): it refused initialize with "Unsupported protocol version: 2025-06-18" \(code -32022\); it speaks 2026-07-28/],
  ['--protocol 2026-07-28 on an SDK v1 server', ['--protocol', '2026-07-28', '--', process.execPath, V1, 'clean'],
    /does not speak protocol revision 2026-07-28 \(--protocol\): it answered server\/discover with "Method not found" \(code -32601\); drop --protocol/],
  ['--protocol with a revision mcp-hammer does not speak', ['--protocol', '2024-01-01'], /--protocol must be an MCP revision mcp-hammer speaks: 2026-07-28, 2025-11-25, .*\(got '2024-01-01'\)/],
  ['--protocol 2026-07-28 with --sse', ['--protocol', '2026-07-28', '--sse', '--url', 'http://127.0.0.1:1/sse', '--pid', String(process.pid)],
    /--sse is the 2024-11-05 HTTP\+SSE transport, which cannot carry 2026-07-28/],
] as [string, string[], RegExp][]) {
  test(`era: ${name} is one sentence and exit 2`, async () => {
    const run = await runCli(['memory', '--duration', '5s', ...args], { limitMs: 60_000 });
    assert.equal(run.code, 2, run.stderr);
    const lines = run.stderr.split('\n').filter((l) => l.startsWith('mcp-hammer:'));
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0], expected);
    assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack');
  });
}

test('era: over stdio every request carries the envelope once, spliced into params built once per call', async () => {
  // The server answers each request with the params it received.
  const server = `require('readline').createInterface({ input: process.stdin }).on('line', (l) => {
    const m = JSON.parse(l); process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { line: l } }) + '\\n'); });`;
  const child = spawn(process.execPath, ['-e', server], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    const conn = connectStdio(child.stdout, child.stdin, { timeoutMs: 10_000 });
    const e = await envelope('2026-07-28');
    conn.setEnvelope!(e);
    const calls = [toolCall('a', {}), toolCall('b', { q: 'x' }), { method: 'tools/list', paramsJson: undefined }];
    const outcomes = await Promise.all(Array.from({ length: 30 }, (_, i) => conn.request(calls[i % 3].method, calls[i % 3].paramsJson)));
    for (const [i, o] of outcomes.entries()) {
      assert.equal(o.kind, 'answer');
      const line: string = (o as Outcome & { kind: 'answer' }).message.result.line;
      assert.equal(line.split('"_meta"').length, 2, line);
      const params = JSON.parse(line).params;
      assert.deepEqual(params._meta, JSON.parse(e.meta));
      if (i % 3 === 1) assert.deepEqual(params.arguments, { q: 'x' });
    }
    assert.deepEqual(JSON.parse(e.meta), {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientInfo': { name: 'mcp-hammer', version: JSON.parse(e.meta)['io.modelcontextprotocol/clientInfo'].version },
      'io.modelcontextprotocol/clientCapabilities': {},
    });
    conn.setEnvelope!(undefined);
    const plain = await conn.request('tools/list');
    assert.doesNotMatch((plain as Outcome & { kind: 'answer' }).message.result.line, /_meta/);
  } finally {
    child.kill();
  }
});

test('era: the envelope goes in as _meta; Mcp-Name is the name or uri, base64 when a header cannot carry it', () => {
  assert.equal(withMeta(undefined, '{"k":1}'), '{"_meta":{"k":1}}');
  assert.equal(withMeta('{}', '{"k":1}'), '{"_meta":{"k":1}}');
  assert.equal(withMeta('{"name":"echo","arguments":{}}', '{"k":1}'), '{"name":"echo","arguments":{},"_meta":{"k":1}}');
  assert.equal(mcpName('tools/call', '{"name":"echo","arguments":{}}'), 'echo');
  assert.equal(mcpName('resources/read', '{"uri":"file:///readme.txt"}'), 'file:///readme.txt');
  assert.equal(mcpName('prompts/get', '{"name":"café"}'), `=?base64?${Buffer.from('café').toString('base64')}?=`);
  assert.equal(mcpName('tools/list', undefined), undefined);
});

test('era: over HTTP with --requests-per-session a 2026-07-28 run opens a new connection every n requests', async () => {
  const port = await freePort();
  const child = spawn(process.execPath, [MODERN, 'clean', 'transport=http', 'era=modern-only', `port=${port}`, marker()], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await new Promise<void>((resolve) => child.stderr!.on('data', (d) => { if (String(d).includes('listening')) resolve(); }));
    const conn = await connectStateless({ url: new URL(`http://127.0.0.1:${port}/mcp`), timeoutMs: 10_000, requestsPerSession: 5 }, await envelope('2026-07-28'));
    // Four clients in parallel, twelve requests each in turn: four connections at a time, each closed after five.
    const outcomes = (await Promise.all(Array.from({ length: 4 }, async () => {
      const mine: Outcome[] = [];
      for (let i = 0; i < 12; i++) mine.push(await conn.request('tools/call', ECHO));
      return mine;
    }))).flat();
    // The server checks the headers against the body: a wrong or missing one would be a 400.
    assert.ok(outcomes.every((o) => classify(o) === null), JSON.stringify(outcomes.find((o) => classify(o) !== null)));
    await conn.end();
    const c = conn.stats.connections!;
    assert.ok(c.opened >= 10 && c.opened <= 14, `opened ${c.opened}`);
    assert.equal(conn.stats.sessions, undefined, 'no sessions in 2026-07-28');
    assert.equal(formatConnections({ requestsPerConnection: 5, opened: 10, closed: 10 }),
      'Connections: 10 opened, 10 closed, a new one every 5 requests (2026-07-28 has no sessions: each connection stands for a stateless client)');
  } finally {
    child.kill();
  }
});

const NOTHING_OFFERED: Offered = { uris: [], templates: [], prompts: [], complete: true, problems: [] };
const NO_NAMES = { tools: [], toolArgs: [], resources: [], prompts: [] };

test('era: input_required is its own outcome, and a tool answering it to its trial call is left out', async () => {
  const asked: Outcome = { kind: 'answer', latencyMs: 1, message: { jsonrpc: '2.0', id: 1, result: { resultType: 'input_required', inputRequests: { confirm: { method: 'elicitation/create', params: {} } }, requestState: 's' } } };
  const gated: Outcome = { kind: 'answer', latencyMs: 1, http: { status: 400, error: { code: -32021, message: 'Cannot request input' } }, message: { jsonrpc: '2.0', id: 2, error: { code: 400, message: 'Bad Request' } } };
  assert.equal(classify(asked), 'inputRequired');
  assert.equal(describeError(asked), 'input_required (elicitation/create)');
  assert.equal(classify(gated), 'inputRequired');
  assert.equal(describeError(gated), '-32021 Cannot request input');
  const ok: Outcome = { kind: 'answer', latencyMs: 1, message: { jsonrpc: '2.0', id: 3, result: { content: [], resultType: 'complete' } } };
  const conn = { request: async (_m: string, p?: string) => (p?.includes('"ask"') ? asked : ok) } as unknown as Connection;
  const { calls, notices } = await preflight(conn, [toolCall('ask', {}), toolCall('plain', {})], NOTHING_OFFERED, 2000, false);
  assert.deepEqual(calls.map((c) => c.tool), ['plain']);
  assert.match(notices[0], /ask \(asks for client input: input_required \(elicitation\/create\)\)/);
});

test('era: no ping in the 2026-07-28 era, where it does not exist', () => {
  const info = { protocolVersion: '2026-07-28', era: 'modern' as const, name: 's', version: '1', capabilities: { tools: {} }, tools: [] };
  assert.deepEqual(chooseCalls(info, NOTHING_OFFERED, NO_NAMES).calls.map((c) => c.method), ['tools/list']);
  assert.deepEqual(chooseCalls({ ...info, era: 'legacy' }, NOTHING_OFFERED, NO_NAMES).calls.map((c) => c.method), ['tools/list', 'ping']);
});

// The stdio client against a real process that misbehaves on purpose: answers out of order and split across
// writes (a multi-byte character cut in two), a banner line, a notification, a ping of its own, an unknown id,
// and a request it never answers. The hot path batches and decodes per chunk; none of that may change this.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connectStdio } from '../../src/transport/stdio.js';

// Reads two requests, then: a banner, a notification, a ping, the answer to the second request, the answer to
// the first in two writes 50 ms apart (cut inside "é"), an answer to an id never sent; the third request is
// never answered. It exits once it has read our answer to its ping.
const SERVER = `
let text = '';
let answered = false;
process.stdin.on('data', (d) => {
  text += d;
  const lines = text.split('\\n').filter(Boolean).map((l) => JSON.parse(l));
  const requests = lines.filter((m) => m.method === 'tools/call');
  if (requests.length === 2 && !answered) {
    answered = true;
    const [a, b] = requests;
    const first = Buffer.from(JSON.stringify({ jsonrpc: '2.0', id: a.id, result: { text: 'café' } }) + '\\n');
    const cut = first.indexOf(0xc3) + 1;
    process.stdout.write('Server starting...\\n');
    process.stdout.write('{"jsonrpc":"2.0","method":"notifications/message","params":{}}\\n');
    process.stdout.write('{"jsonrpc":"2.0","id":"s1","method":"ping"}\\n');
    process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: b.id, result: { text: 'second' } }) + '\\n');
    process.stdout.write(first.subarray(0, cut));
    setTimeout(() => process.stdout.write(Buffer.concat([first.subarray(cut), Buffer.from('{"jsonrpc":"2.0","id":999,"result":{}}\\n')])), 50);
  }
  if (lines.some((m) => m.id === 's1' && m.result)) setTimeout(() => process.exit(0), 1000);
});`;

test('client: ids matched across split writes, server requests answered, the rest counted, timeouts swept', async () => {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['pipe', 'pipe', 'inherit'] });
  const conn = connectStdio(child.stdout, child.stdin, { timeoutMs: 10_000 }); // starting node may take a while
  const [first, second] = await Promise.all([conn.request('tools/call', '{"name":"a"}'), conn.request('tools/call', '{"name":"b"}')]);
  assert.equal(first.kind, 'answer');
  assert.equal(second.kind, 'answer');
  if (first.kind !== 'answer' || second.kind !== 'answer') return;
  assert.equal(first.message.result.text, 'café');
  assert.equal(second.message.result.text, 'second');
  assert.ok(first.latencyMs >= 40, `latency of the split answer ${first.latencyMs} ms`);
  conn.setTimeoutMs(200);
  assert.deepEqual(await conn.request('tools/call', '{"name":"c"}'), { kind: 'timeout' });
  await new Promise((r) => child.on('exit', r));
  assert.equal(conn.stats.nonJsonLines, 1);
  assert.deepEqual(conn.stats.nonJsonSample, ['Server starting...']);
  assert.equal(conn.stats.notifications, 1);
  assert.deepEqual(conn.stats.serverRequests, { ping: 1 });
  assert.equal(conn.stats.unknownIds, 1);
  assert.equal(conn.inFlight(), 0);
});

// The HTTP transports without a verdict: the connection to SDK-built fixture servers on 127.0.0.1
// (Streamable HTTP with event-stream or JSON answers, HTTP+SSE (2024-11-05)), sessions opened, ended and
// replaced, a 429 as an answer, and the one sentence a user gets for each mistake. Every fixture is ended
// by its pid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../helpers/cli.js';
import { freePort, marker, processesWith } from '../helpers/processes.js';
import { startHttpFixture as startFixture } from '../helpers/http-fixture.js';
import { connectStreamable } from '../../src/transport/streamable.js';
import { connectSse } from '../../src/transport/sse.js';
import { handshake } from '../../src/transport/handshake.js';
import { endServer } from '../../src/server/process.js';
import { openTarget } from '../../src/server/open.js';
import { classify, describeError } from '../../src/transport/outcome.js';
import { networkProblem } from '../../src/transport/httperrors.js';
import { memoryTrend } from '../../src/judge/trend.js';
import { leakVerdict } from '../../src/judge/leak.js';
import { formatSessions } from '../../src/report/text.js';

const ECHO = JSON.stringify({ name: 'echo', arguments: { text: 'hi' } });
const COUNT = JSON.stringify({ name: 'count_sessions', arguments: {} });

test('http: what a user gets wrong is one sentence and exit 2', async () => {
  const server = await startFixture('sessions', 'token=right');
  const free = await freePort();
  const pid = String(server.pid);
  const auth = ['-H', 'Authorization: Bearer right'];
  const cases: [string[], RegExp][] = [
    [['--url', `http://127.0.0.1:${free}/mcp`, '--pid', pid], /nothing is listening at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/],
    [['--url', server.url('/nope'), '--pid', pid, ...auth], /answered 404 Not Found for http:\/\/127\.0\.0\.1:\d+\/nope: is the MCP endpoint path right/],
    [['--url', server.url('/page'), '--pid', pid, ...auth], /answered with an HTML page, not MCP/],
    [['--url', `https://127.0.0.1:${server.port}/mcp`, '--pid', pid, ...auth], /TLS handshake with 127\.0\.0\.1:\d+ failed .*use an http:\/\/ URL/],
    [['--url', server.url('/mcp'), '--sse', '--pid', pid, ...auth], /would not open an event stream .*drop --sse/],
    [['--url', server.url('/mcp'), '--pid', pid], /refused access \(401 Unauthorized\).*give credentials with -H/],
    [['--url', server.url('/mcp'), '--pid', pid, '-H', 'Authorization: Bearer wrong-value'], /refused access \(401 Unauthorized\).*check the header given with -H \(Authorization\)/],
    [['--url', server.url('/mcp')], /the memory test measures the server's memory, so it needs its process/],
    [['--sse'], /--sse needs --url/],
    [['--url', 'ftp://127.0.0.1/x', '--pid', pid], /--url must start with http:\/\/ or https:\/\//],
    [['--url', server.url('/mcp'), '--pid', pid, '-H', 'no colon here'], /-H number 1 is not "Name: value"/],
    [['--url', server.url('/mcp'), '--', process.execPath, '-e', '0'], /something is already listening at 127\.0\.0\.1:\d+/],
  ];
  try {
    for (const [args, expected] of cases) {
      const run = await runCli(['memory', ...args, '--duration', '5s'], { limitMs: 30_000 });
      assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
      assert.match(run.stderr, expected, args.join(' '));
      assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack');
      assert.doesNotMatch(run.stderr + run.stdout, /wrong-value/);
    }
  } finally {
    await server.stop();
  }
});

test('http: a started command that never listens, or exits, is ended and explained', async () => {
  const port = await freePort();
  const mark = marker();
  const silent = await runCli(['memory', '--url', `http://127.0.0.1:${port}/mcp`, '--startup-timeout', '3s',
    '--', process.execPath, '-e', 'setTimeout(() => {}, 60000)', mark], { limitMs: 30_000 });
  assert.equal(silent.code, 2);
  assert.match(silent.stderr, /within 3 s/);
  assert.deepEqual(processesWith(mark), []);
  const early = await runCli(['memory', '--url', `http://127.0.0.1:${port}/mcp`, '--', process.execPath, '-e', 'process.exit(4)', mark], { limitMs: 30_000 });
  assert.equal(early.code, 2);
  assert.match(early.stderr, /exited before the MCP handshake finished \(exit code 4\)/);
});

for (const [name, settings, sse] of [['event-stream answers', [], false], ['JSON answers', ['json'], false], ['HTTP+SSE (2024-11-05)', [], true]] as const) {
  test(`http: session churn over ${name} opens and ends sessions, and the server frees them`, async () => {
    const server = await startFixture('sessions', ...settings);
    try {
      const url = new URL(server.url(sse ? '/sse' : '/mcp'));
      const conn = await (sse ? connectSse : connectStreamable)({ url, timeoutMs: 10_000, requestsPerSession: 5 });
      await handshake(conn);
      const outcomes = await Promise.all(Array.from({ length: 48 }, () => conn.request('tools/call', ECHO)));
      assert.ok(outcomes.every((o) => o.kind === 'answer' && !o.message.error && o.http?.status === 200), JSON.stringify(outcomes[0]));
      await conn.end();
      const s = conn.stats.sessions!;
      assert.ok(s.opened >= 10 && s.opened <= 12, `opened ${s.opened}`);
      assert.equal(s.ended, s.opened);
      const probe = await (sse ? connectSse : connectStreamable)({ url, timeoutMs: 10_000 });
      await handshake(probe);
      const count = await probe.request('tools/call', COUNT);
      assert.equal(count.kind === 'answer' && count.message.result.content[0].text, JSON.stringify(sse ? { streamable: 0, legacy: 1 } : { streamable: 1, legacy: 0 }));
      await probe.end();
    } finally {
      await server.stop();
    }
  });
}

test('http: a 429 is an answer with its status and Retry-After, counted in the http error class', async () => {
  const server = await startFixture('sessions', 'too-many=4');
  try {
    const conn = await connectStreamable({ url: new URL(server.url('/mcp')), timeoutMs: 10_000 });
    await handshake(conn); // POSTs 1 to 3: initialize, initialized, tools/list
    const outcome = await conn.request('tools/call', ECHO); // POST 4
    assert.equal(outcome.kind, 'answer');
    assert.deepEqual(outcome.kind === 'answer' && outcome.http, { status: 429, retryAfter: '1' });
    assert.equal(outcome.kind === 'answer' && outcome.message.error?.code, 429);
    assert.equal(classify(outcome), 'http');
    assert.equal(describeError(outcome), 'HTTP 429 Too Many Requests: Too many requests, slow down (Retry-After: 1)');
    const next = await conn.request('tools/call', ECHO);
    assert.equal(classify(next), null);
    await conn.end();
  } finally {
    await server.stop();
  }
});

test('http: a session the server ends (404) is replaced, and the run goes on', async () => {
  const server = await startFixture('sessions', 'expire=10');
  try {
    const conn = await connectStreamable({ url: new URL(server.url('/mcp')), timeoutMs: 10_000 });
    await handshake(conn);
    const classes: (string | null)[] = [];
    for (let i = 0; i < 40; i++) classes.push(classify(await conn.request('tools/call', ECHO)));
    const failed = classes.filter((c) => c !== null);
    assert.ok(failed.length >= 3 && failed.length <= 5 && failed.every((c) => c === 'http'), classes.join(','));
    assert.ok(conn.stats.sessions!.lost >= 3, JSON.stringify(conn.stats.sessions));
    assert.equal(classes.at(-1), null);
    await conn.end();
  } finally {
    await server.stop();
  }
});

test('http: openTarget with a URL alone (how the rate limit test reaches a remote server)', async () => {
  const server = await startFixture('sessions');
  try {
    const target = await openTarget('', [], { url: server.url('/mcp'), sse: false, headers: [], timeoutMs: 5000, startupMs: 5000 });
    assert.equal(target.server.owned, false);
    assert.equal(target.info.name, 'http-fixture-sessions');
    assert.equal(classify(await target.conn.request('tools/call', ECHO)), null);
    await endServer(target.server);
    process.kill(server.pid, 0); // not ended
    const probe = await connectStreamable({ url: new URL(server.url('/mcp')), timeoutMs: 5000 });
    await handshake(probe);
    const count = await probe.request('tools/call', COUNT);
    assert.equal(count.kind === 'answer' && count.message.result.content[0].text, JSON.stringify({ streamable: 1, legacy: 0 }), 'the session was ended');
    await probe.end();
  } finally {
    await server.stop();
  }
});

test('http: DNS and certificate failures are one sentence too (pure mapping: no lookup leaves this machine)', () => {
  const err = (code: string) => Object.assign(new Error(code), { code });
  assert.match(networkProblem(new URL('http://nowhere.invalid/mcp'), err('ENOTFOUND')), /^cannot find the host 'nowhere\.invalid' \(DNS lookup failed\)/);
  assert.match(networkProblem(new URL('https://127.0.0.1:8443/mcp'), err('DEPTH_ZERO_SELF_SIGNED_CERT')), /certificate of 127\.0\.0\.1:8443 is not trusted .*NODE_EXTRA_CA_CERTS/);
  assert.match(networkProblem(new URL('https://127.0.0.1:8443/mcp'), err('CERT_HAS_EXPIRED')), /is not trusted \(CERT_HAS_EXPIRED\)/);
});

test('http: with churn the verdict speaks per session; the sessions line says what was opened and ended', () => {
  const floors = Array.from({ length: 48 }, (_, i) => ({ requests: i * 1000, bytes: 50e6 + i * 1000 * 4096 }));
  const verdict = leakVerdict(memoryTrend(floors), { bytesPerRequest: 1024, bytesPerSession: 16384, requestsPerSession: 5 }, { durationSeconds: 30, requestsPerSecond: 1600, setLength: true });
  assert.equal(verdict.pass, false);
  assert.match(verdict.reasons[0], /^memory grows as sessions come and go: 20\.0 KB per session \(a new session every 5 requests; 4\.0 KB per request\)/);
  assert.equal(formatSessions({ requestsPerSession: 5, opened: 1200, ended: 1199, lost: 1, endRefused: 0, stateless: false }),
    'Sessions: 1,200 opened, 1,199 ended, 1 ended by the server (a new one every 5 requests)');
  assert.equal(formatSessions({ opened: 1, ended: 0, lost: 0, endRefused: 0, stateless: true }),
    'Sessions: 1 opened; the server gave no session id (stateless)');
});

// The HTTP client against a plain node:http keep-alive client, side by side on the same server, 16 requests
// in flight: requests per second and the tester's CPU per request. The bar: at least 80% of the
// plain client's rate, no MaxListenersExceededWarning, the tester's memory flat.
// Run: npm run build && node dist/bench/http.js [seconds per round] [rounds]
// Exported for the benchmark: benchHttp() (the rows) and testerHeap() (the tester's own heap over a long run).
// Servers: a bare node:http server that answers every POST at once (the client is then the limit), and
// the SDK-built fixture answering with JSON and with an event stream (the server is then the limit).
import http from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connectStreamable } from '../src/transport/streamable.js';
import { handshake } from '../src/transport/handshake.js';

const CONCURRENCY = 16;
const CALL = JSON.stringify({ name: 'echo', arguments: { text: 'hello' } });

export interface HttpBenchRow {
  server: string;
  plain: { perSecond: number; cpuUsPerCall: number };
  hammer: { perSecond: number; cpuUsPerCall: number };
  /** hammer's rate over plain's (median of the rounds). */
  ratio: number;
}

/** A server that answers every POST at once with a fixed JSON-RPC result, so that the client is the limit. */
const BARE_SERVER = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    const id = /"id":(\\d+)/.exec(body);
    if (!id) { res.writeHead(202).end(); return; }
    const result = body.includes('"initialize"')
      ? '{"protocolVersion":"2025-06-18","capabilities":{},"serverInfo":{"name":"bare","version":"1"}}'
      : '{"content":[{"type":"text","text":"hello"}]}';
    res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' });
    res.end('{"jsonrpc":"2.0","id":' + id[1] + ',"result":' + result + '}');
  });
});
s.keepAliveTimeout = 60000;
s.listen(0, '127.0.0.1', () => process.stderr.write('listening on http://127.0.0.1:' + s.address().port + '/\\n'));`;

function start(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let text = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      text += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)\//.exec(text);
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', () => reject(new Error(`server exited: ${text}`)));
  });
}

/** The plain client: POST, read the whole body, parse the answer (JSON, or the data line of an event). */
async function plainRound(port: number, seconds: number): Promise<{ perSecond: number; cpuUsPerCall: number }> {
  const agent = new http.Agent({ keepAlive: true });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const post = (body: string) => new Promise<{ text: string; sid?: string }>((resolve, reject) => {
    const req = http.request({ agent, host: '127.0.0.1', port, path: '/mcp', method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { text += d; });
      res.on('end', () => resolve({ text, sid: res.headers['mcp-session-id'] as string | undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
  const init = await post('{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"plain","version":"1"}}}');
  if (init.sid) headers['mcp-session-id'] = init.sid;
  headers['mcp-protocol-version'] = '2025-06-18';
  await post('{"jsonrpc":"2.0","method":"notifications/initialized"}');
  let id = 1;
  let done = 0;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < until) {
      const { text } = await post(`{"jsonrpc":"2.0","id":${id++},"method":"tools/call","params":${CALL}}`);
      const at = text.indexOf('data: ');
      JSON.parse(at === -1 ? text : text.slice(at + 6, text.indexOf('\n', at)));
      done++;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  agent.destroy();
  return { perSecond: done / elapsed, cpuUsPerCall: (used.user + used.system) / done };
}

async function hammerRound(port: number, seconds: number): Promise<{ perSecond: number; cpuUsPerCall: number }> {
  const conn = await connectStreamable({ url: new URL(`http://127.0.0.1:${port}/mcp`), timeoutMs: 10_000 });
  await handshake(conn);
  let done = 0;
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const until = t0 + seconds * 1000;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (performance.now() < until) {
      const o = await conn.request('tools/call', CALL);
      if (o.kind !== 'answer' || o.message.error) throw new Error(`request failed: ${JSON.stringify(o)}`);
      done++;
    }
  }));
  const elapsed = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu);
  await conn.end();
  return { perSecond: done / elapsed, cpuUsPerCall: (used.user + used.system) / done };
}

/**
 * The tester's own heap (after a full collection) early in a long run and at its end, against the bare
 * server, with a new session every 10 requests: it must not grow.
 */
export async function testerHeap(requests = 200_000): Promise<{ requests: number; sessions: number; earlyBytes: number; endBytes: number }> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { child, port } = await start(['-e', BARE_SERVER]);
  try {
    const conn = await connectStreamable({ url: new URL(`http://127.0.0.1:${port}/mcp`), timeoutMs: 10_000, requestsPerSession: 10 });
    await handshake(conn);
    let sent = 0;
    let early = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (sent < requests) {
        if (++sent === 20_000) {
          gc();
          early = process.memoryUsage().heapUsed;
        }
        const o = await conn.request('tools/call', CALL);
        if (o.kind !== 'answer' || o.message.error) throw new Error(`request failed: ${JSON.stringify(o)}`);
      }
    }));
    gc();
    const end = process.memoryUsage().heapUsed;
    const sessions = conn.stats.sessions!.opened;
    await conn.end();
    return { requests, sessions, earlyBytes: early, endBytes: end };
  } finally {
    child.kill();
  }
}

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];

/** Alternate the two clients round by round (the machine's load drifts), and take the medians. */
export async function benchHttp(o: { seconds?: number; rounds?: number } = {}): Promise<HttpBenchRow[]> {
  const seconds = o.seconds ?? 3;
  const rounds = o.rounds ?? 5;
  const fixture = fileURLToPath(new URL('../test/fixtures/http-server.js', import.meta.url));
  const servers: [string, string[]][] = [
    ['bare node:http server (client-bound)', ['-e', BARE_SERVER]],
    ['SDK server, JSON answers', [fixture, 'sessions', 'json']],
    ['SDK server, event-stream answers', [fixture, 'sessions']],
  ];
  const rows: HttpBenchRow[] = [];
  for (const [name, args] of servers) {
    const { child, port } = await start(args);
    try {
      await plainRound(port, 1); // warm both up
      await hammerRound(port, 1);
      const plain: { perSecond: number; cpuUsPerCall: number }[] = [];
      const ours: { perSecond: number; cpuUsPerCall: number }[] = [];
      for (let i = 0; i < rounds; i++) {
        plain.push(await plainRound(port, seconds));
        ours.push(await hammerRound(port, seconds));
      }
      const pick = (r: typeof plain) => ({
        perSecond: Math.round(median(r.map((x) => x.perSecond))), cpuUsPerCall: Math.round(median(r.map((x) => x.cpuUsPerCall))),
      });
      const ratio = median(ours.map((r, i) => r.perSecond / plain[i].perSecond));
      rows.push({ server: name, plain: pick(plain), hammer: pick(ours), ratio: Math.round(ratio * 100) / 100 });
    } finally {
      child.kill();
    }
  }
  return rows;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let warnings = 0;
  process.on('warning', (w) => {
    warnings++;
    process.stderr.write(`warning: ${w.name}: ${w.message}\n`);
  });
  const rows = await benchHttp({ seconds: Number(process.argv[2] ?? 3), rounds: Number(process.argv[3] ?? 5) });
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  process.stdout.write(`${'server'.padEnd(38)}${pad('plain req/s', 12)}${pad('µs CPU', 8)}${pad('ours req/s', 12)}${pad('µs CPU', 8)}${pad('ratio', 7)}\n`);
  for (const r of rows) {
    process.stdout.write(`${r.server.padEnd(38)}${pad(r.plain.perSecond, 12)}${pad(r.plain.cpuUsPerCall, 8)}${pad(r.hammer.perSecond, 12)}${pad(r.hammer.cpuUsPerCall, 8)}${pad(r.ratio.toFixed(2), 7)}\n`);
  }
  const heap = await testerHeap();
  const mb = (b: number) => (b / 1e6).toFixed(2);
  process.stdout.write(`tester heap after a full GC: ${mb(heap.earlyBytes)} MB at 20,000 requests, ${mb(heap.endBytes)} MB at `
    + `${heap.requests.toLocaleString('en-US')} (${heap.sessions.toLocaleString('en-US')} sessions opened and ended)\n`);
  process.stdout.write(`warnings: ${warnings}\n`);
}

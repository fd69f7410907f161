// The ceiling for stdio: the least a client can do. Spawn the server, hand-shake, keep `concurrency`
// requests in flight, match answers by id, and send each chunk's new requests in one write. No latency,
// no promises, no memory sampling. Prints {requests, seconds, requestsPerSecond, cpuPercent} as JSON; the rate
// is that after the first second (see WARM_UP_MS in bench.ts), the CPU that of the whole run.
// With `modern` it speaks 2026-07-28: server/discover instead of initialize, and every request carries the
// envelope, written once into the params text (as mcp-hammer does).
// Usage: ceiling.js <concurrency> <seconds> <tools/call params as JSON> [modern] -- <server command> [args...]
import { spawn } from 'node:child_process';

const argv = process.argv.slice(2);
const dashdash = argv.indexOf('--');
const [concurrencyText, secondsText, params, era] = argv.slice(0, dashdash);
const [command, ...args] = argv.slice(dashdash + 1);
if (dashdash === -1 || !command) throw new Error('usage: ceiling.js <concurrency> <seconds> <params> [modern] -- <command> [args...]');
const modern = era === 'modern';
const META = JSON.stringify({
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'ceiling', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
});
const PARAMS = modern ? `${params.slice(0, params.lastIndexOf('}'))},"_meta":${META}}` : params;
const concurrency = Number(concurrencyText);
const seconds = Number(secondsText);

const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
const inFlight = new Set<number>();
let nextId = 1;
let done = 0;
let issuing = true;
let started = 0;
let deadline = Infinity;
let cpuStart = process.cpuUsage();
// The count and time at the end of the first second: the rate is taken from there on, as mcp-hammer's is.
let mark: { at: number; done: number } | undefined;

const request = (): string => {
  const id = nextId++;
  inFlight.add(id);
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${PARAMS}}\n`;
};

const begin = () => {
  if (!modern) child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
  started = performance.now();
  deadline = started + seconds * 1000;
  cpuStart = process.cpuUsage();
  let out = '';
  for (let i = 0; i < concurrency; i++) out += request();
  child.stdin.write(out);
};

const finish = () => {
  const end = performance.now();
  const elapsed = (end - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const from = mark ?? { at: started, done: 0 };
  process.stdout.write(JSON.stringify({
    requests: done, seconds: elapsed, requestsPerSecond: ((done - from.done) / (end - from.at)) * 1000,
    cpuPercent: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100,
  }) + '\n');
  child.stdin.end();
  child.kill('SIGTERM');
};

let partial = '';
child.stdout.setEncoding('utf8');
child.stdout.on('data', (text: string) => {
  const lines = (partial + text).split('\n');
  partial = lines.pop()!;
  let out = '';
  for (const line of lines) {
    const msg = JSON.parse(line);
    if (msg.id === 0) {
      begin();
      continue;
    }
    if (!inFlight.delete(msg.id)) continue;
    done++;
    if (issuing) out += request();
  }
  if (out) child.stdin.write(out);
  const t = performance.now();
  if (!mark && t >= started + 1000) mark = { at: t, done };
  if (issuing && t >= deadline) issuing = false;
  if (!issuing && inFlight.size === 0) finish();
});

child.stdin.write(modern
  ? `{"jsonrpc":"2.0","id":0,"method":"server/discover","params":{"_meta":${META}}}\n`
  : `{"jsonrpc":"2.0","id":0,"method":"initialize","params":${JSON.stringify({
    protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'ceiling', version: '1.0.0' },
  })}}\n`);

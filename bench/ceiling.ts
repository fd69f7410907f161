// The ceiling for stdio: the least a client can do. Spawn the server, hand-shake, keep `concurrency`
// requests in flight, match answers by id, and send each chunk's new requests in one write. No latency,
// no promises, no memory sampling. Prints {requests, seconds, requestsPerSecond, cpuPercent} as JSON.
// Usage: ceiling.js <concurrency> <seconds> -- <server command> [args...]
import { spawn } from 'node:child_process';

const [concurrencyText, secondsText, dashdash, command, ...args] = process.argv.slice(2);
if (dashdash !== '--' || !command) throw new Error('usage: ceiling.js <concurrency> <seconds> -- <command> [args...]');
const concurrency = Number(concurrencyText);
const seconds = Number(secondsText);
// The same request mcp-hammer sends to the benchmark servers' echo tool (arguments from its schema: none required).
const PARAMS = '{"name":"echo","arguments":{}}';

const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
const inFlight = new Set<number>();
let nextId = 1;
let done = 0;
let issuing = true;
let started = 0;
let deadline = Infinity;
let cpuStart = process.cpuUsage();

const request = (): string => {
  const id = nextId++;
  inFlight.add(id);
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${PARAMS}}\n`;
};

const begin = () => {
  child.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
  started = performance.now();
  deadline = started + seconds * 1000;
  cpuStart = process.cpuUsage();
  let out = '';
  for (let i = 0; i < concurrency; i++) out += request();
  child.stdin.write(out);
};

const finish = () => {
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  process.stdout.write(JSON.stringify({
    requests: done, seconds: elapsed, requestsPerSecond: done / elapsed,
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
  if (issuing && performance.now() >= deadline) issuing = false;
  if (!issuing && inFlight.size === 0) finish();
});

child.stdin.write(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":${JSON.stringify({
  protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'ceiling', version: '1.0.0' },
})}}\n`);

// The ceiling for HTTP: a plain node:http keep-alive client, `concurrency` requests in flight, each answer
// parsed and its id checked. Prints {requests, seconds, requestsPerSecond, cpuPercent} as JSON; the rate is
// that after the first second (see WARM_UP_MS in bench.ts), the CPU that of the whole run.
// With `modern` it speaks 2026-07-28: no initialize, every request with the envelope in its params and the
// MCP-Protocol-Version, Mcp-Method and Mcp-Name headers.
// Usage: http-ceiling.js <url> <concurrency> <seconds> [modern]
import { Agent, request } from 'node:http';

const [url, concurrencyText, secondsText, era] = process.argv.slice(2);
const concurrency = Number(concurrencyText);
const seconds = Number(secondsText);
const modern = era === 'modern';
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
const headers: Record<string, string> = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': modern ? '2026-07-28' : '2025-06-18',
  ...(modern ? { 'mcp-method': 'tools/call', 'mcp-name': 'echo' } : {}),
};
const META = JSON.stringify({
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientInfo': { name: 'ceiling', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
});
const PARAMS = modern ? `{"name":"echo","arguments":{},"_meta":${META}}` : '{"name":"echo","arguments":{}}';

function post(body: string): Promise<{ status: number; text: string; session?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode ?? 0,
        text: Buffer.concat(chunks).toString('utf8'),
        session: res.headers['mcp-session-id'] as string | undefined,
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

if (!modern) {
  const init = await post(`{"jsonrpc":"2.0","id":0,"method":"initialize","params":${JSON.stringify({
    protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'ceiling', version: '1.0.0' },
  })}}`);
  if (init.status !== 200) throw new Error(`initialize: HTTP ${init.status}`);
  if (init.session) headers['mcp-session-id'] = init.session;
  await post('{"jsonrpc":"2.0","method":"notifications/initialized"}');
}

let nextId = 1;
let done = 0;
const started = performance.now();
const deadline = started + seconds * 1000;
const cpuStart = process.cpuUsage();
let mark: { at: number; done: number } | undefined;

async function worker(): Promise<void> {
  while (performance.now() < deadline) {
    const id = nextId++;
    const res = await post(`{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${PARAMS}}`);
    if (res.status !== 200 || JSON.parse(res.text).id !== id) throw new Error(`bad answer to ${id}: HTTP ${res.status} ${res.text.slice(0, 100)}`);
    done++;
    if (!mark && performance.now() >= started + 1000) mark = { at: performance.now(), done };
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const end = performance.now();
const elapsed = (end - started) / 1000;
const cpu = process.cpuUsage(cpuStart);
const from = mark ?? { at: started, done: 0 };
process.stdout.write(JSON.stringify({
  requests: done, seconds: elapsed, requestsPerSecond: ((done - from.done) / (end - from.at)) * 1000,
  cpuPercent: ((cpu.user + cpu.system) / 1e6 / elapsed) * 100,
}) + '\n');
agent.destroy();

// The driver benchmark (`npm run bench`): how fast mcp-hammer drives a server, next to the least a client
// can do (the ceiling), in the same run; and the tester's own peak memory over a long run.
// mcp-hammer is measured as users run it: the real CLI (`memory --duration ... --json`) in its own process,
// its rate read from the results JSON, memory sampling and block pauses included. Each ceiling runs in its
// own process too. The machine may be shared, so the two take turns, round after round (the order flips
// every round), and a row gives the medians: of each side's rates, and of the ratios of each round's pair.
// Usage: bench.js [--seconds 3] [--rounds 4] [--requests 1000000]
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { freePort, runNode, startListening, stop, type ChildRun } from './children.js';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const SERVERS = { null: here('./null-server.js'), sdk: here('./sdk-server.js') };
type ServerName = keyof typeof SERVERS;
const LIMITED = 'limited by the tester'; // the words of the tester's warning about itself (src/stress/memory.ts)

interface Rate {
  requestsPerSecond: number;
  /** CPU of the whole client process, % of one core. */
  cpuPercent: number;
  /** mcp-hammer only: did it warn that it set the pace? */
  limited?: boolean;
  /** mcp-hammer only (Linux): its event-loop thread running, and waiting for a CPU; the server's CPU. */
  loopPercent?: number;
  cpuWaitPercent?: number;
  serverCpuPercent?: number;
  peakRssBytes?: number;
}

interface Row {
  transport: string;
  server: string;
  concurrency: number;
  ceiling: Rate;
  tester: Rate | null;
  /** Median over the rounds of mcp-hammer's rate over the ceiling's in the same round. */
  ratio?: number;
  /** How many of the tester's runs warned that it set the pace, of how many. */
  limitedRuns: [number, number];
  target?: number;
}

// ---- the clients ------------------------------------------------------------------------------------

async function ceilingStdio(server: ServerName, concurrency: number, seconds: number): Promise<Rate> {
  const run = await runNode([here('./ceiling.js'), String(concurrency), String(seconds), '--', process.execPath, SERVERS[server]], (seconds + 30) * 1000);
  if (!run.json) throw new Error(`the ceiling client failed: ${run.stderr.slice(-500)}`);
  return run.json;
}

async function hammerStdio(server: ServerName, concurrency: number, seconds: number): Promise<Rate> {
  return runCli(['--duration', `${seconds}s`, '--concurrency', String(concurrency), '--', process.execPath, SERVERS[server]], seconds);
}

async function ceilingHttp(concurrency: number, seconds: number): Promise<Rate> {
  const port = await freePort();
  const server = await startListening([here('./http-null-server.js'), String(port)]);
  try {
    const run = await runNode([here('./http-ceiling.js'), `http://127.0.0.1:${port}/mcp`, String(concurrency), String(seconds)], (seconds + 30) * 1000);
    if (!run.json) throw new Error(`the HTTP ceiling client failed: ${run.stderr.slice(-500)}`);
    return run.json;
  } finally {
    await stop(server);
  }
}

// ==== MCP-HAMMER OVER HTTP ============================================================================
// The one function to finish once the CLI has `--url` (issue 5): it runs the real CLI against the HTTP null
// server, which the CLI starts itself as the command after `--`. Until `--help` lists --url, the row reads
// "waiting for --url". Check the arguments below against the CLI's final interface when it lands.
async function hammerHttp(concurrency: number, seconds: number): Promise<Rate | null> {
  const help = execFileSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  if (!help.includes('--url')) return null;
  const port = await freePort();
  return runCli(['--url', `http://127.0.0.1:${port}/mcp`, '--duration', `${seconds}s`, '--concurrency', String(concurrency),
    '--', process.execPath, here('./http-null-server.js'), String(port)], seconds);
}
// =====================================================================================================

/** One run of the real CLI's memory test; its rate and its view of itself come from the results JSON. */
async function runCli(args: string[], seconds: number): Promise<Rate> {
  const out = mkdtempSync(join(tmpdir(), 'mcp-hammer-bench-'));
  try {
    const run = await runNode([CLI, 'memory', '--json', '--out', out, ...args], (seconds + 60) * 1000);
    return fromResults(run);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function fromResults(run: ChildRun): Rate {
  const r = run.json;
  if (!r?.requests) throw new Error(`mcp-hammer did not run (exit ${run.code}): ${run.stderr.slice(-500)}`);
  return {
    requestsPerSecond: r.requestsPerSecond,
    cpuPercent: r.tester.cpuPercent,
    loopPercent: r.tester.loopPercent,
    cpuWaitPercent: r.tester.cpuWaitPercent,
    serverCpuPercent: r.tester.serverCpuPercent,
    limited: r.warnings.some((w: string) => w.includes(LIMITED)),
    peakRssBytes: run.peakRssBytes,
  };
}

// ---- measuring --------------------------------------------------------------------------------------

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The run whose rate is the median one (the lower middle for an even count), to show its other figures. */
function medianRun(runs: Rate[]): Rate {
  const s = [...runs].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond);
  return { ...s[(s.length - 1) >> 1], requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)) };
}

/** Ceiling and tester in turns; the order flips every round, so that a slow patch hurts neither side alone. */
async function sideBySide(ceiling: () => Promise<Rate>, tester: () => Promise<Rate | null>, rounds: number) {
  const c: Rate[] = [];
  const t: Rate[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    let a: Rate;
    let b: Rate | null;
    if (i % 2 === 0) {
      a = await ceiling();
      b = await tester();
    } else {
      b = await tester();
      a = await ceiling();
    }
    c.push(a);
    if (b) {
      t.push(b);
      ratios.push(b.requestsPerSecond / a.requestsPerSecond);
    }
  }
  return {
    ceiling: medianRun(c),
    tester: t.length ? medianRun(t) : null,
    ratio: ratios.length ? median(ratios) : undefined,
    limitedRuns: [t.filter((r) => r.limited).length, t.length] as [number, number],
  };
}

// ---- the table --------------------------------------------------------------------------------------

const n = (v: number) => Math.round(v).toLocaleString('en-US');
/** CPU microseconds per request: what a request costs the client, less disturbed by a busy machine than its rate. */
const usPerRequest = (r: Rate) => (r.cpuPercent / 100) * 1e6 / r.requestsPerSecond;

function tableRow(row: Row): string {
  const t = row.tester;
  const { ratio } = row;
  const target = row.target === undefined ? '' : `>= ${row.target}${ratio === undefined ? '' : ratio >= row.target ? ' met' : ' MISSED'}`;
  const pct = (v?: number) => (v === undefined ? '-' : `${Math.round(v)}%`);
  const cells = [
    row.transport, row.server, String(row.concurrency), n(row.ceiling.requestsPerSecond),
    t ? n(t.requestsPerSecond) : 'waiting for --url', ratio === undefined ? '' : `${ratio.toFixed(2)}x`, target,
    usPerRequest(row.ceiling).toFixed(1), t ? usPerRequest(t).toFixed(1) : '',
    t ? `${pct(t.loopPercent)} / ${pct(t.serverCpuPercent)}` : '', t ? pct(t.cpuWaitPercent) : '',
    t ? `${row.limitedRuns[0]} of ${row.limitedRuns[1]}` : '',
  ];
  return `| ${cells.join(' | ')} |`;
}

const HEADER = [
  '| transport | server | in flight | ceiling req/s | mcp-hammer req/s | ratio | target | CPU µs/req, ceiling | CPU µs/req, mcp-hammer | mcp-hammer loop / server CPU | mcp-hammer waiting for a CPU | "limited by the tester" |',
  '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |',
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '3' }, rounds: { type: 'string', default: '4' }, requests: { type: 'string', default: '1000000' } },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const requests = Number(values.requests);
  const say = (line: string) => process.stderr.write(line + '\n');
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, load average ${loadavg()[0].toFixed(1)} at start`;
  say(`mcp-hammer driver benchmark: ${machine}; ${rounds} rounds of ${seconds} s per row`);
  say(HEADER[0]);

  const rows: Row[] = [];
  const targets: Record<string, number> = { 'null 64': 0.8, 'sdk 16': 0.9 };
  for (const server of ['null', 'sdk'] as ServerName[]) {
    for (const concurrency of [1, 16, 64]) {
      const r = await sideBySide(() => ceilingStdio(server, concurrency, seconds), () => hammerStdio(server, concurrency, seconds), rounds);
      rows.push({ transport: 'stdio', server, concurrency, ...r, target: targets[`${server} ${concurrency}`] });
      say(tableRow(rows.at(-1)!));
    }
  }
  const http = await sideBySide(() => ceilingHttp(16, seconds), () => hammerHttp(16, seconds), rounds);
  rows.push({ transport: 'http', server: 'null', concurrency: 16, ...http, target: 0.8 });
  say(tableRow(rows.at(-1)!));

  // The tester's own memory: a run a tenth as long, then the long one, against the null server, 64 in flight.
  const memory: string[] = [];
  for (const count of [requests / 10, requests]) {
    const rate = await runCli(['--requests', String(count), '--concurrency', '64', '--', process.execPath, SERVERS.null], count / 10_000);
    memory.push(`${n(count)} requests: ${Math.round((rate.peakRssBytes ?? 0) / 1048576)} MB (${n(rate.requestsPerSecond)} req/s)`);
    say(memory.at(-1)!);
  }

  process.stdout.write([
    '', `Machine: ${machine}. Each row: medians of ${rounds} rounds of ${seconds} s, ceiling and mcp-hammer taking turns.`, '',
    ...HEADER, ...rows.map(tableRow), '',
    `mcp-hammer's peak RSS (VmHWM of the CLI process; null server, 64 in flight; target < 150 MB at 1,000,000): ${memory.join('; ')}`, '',
  ].join('\n'));
}

await main();

// The driver benchmark (`npm run bench`): how fast mcp-hammer drives a server, next to the least a client
// can do (the ceiling), in the same run; what --heap costs; and the tester's own peak memory over a long run.
// mcp-hammer is measured as users run it: the real CLI (`memory --duration ... --json`) in its own process,
// its rate read from the results JSON, memory sampling and block pauses included. Each ceiling runs in its
// own process too. The machine may be shared, so the two take turns, round after round (the order flips
// every round), and a row gives the medians: of each side's rates, and of the ratios of each round's pair.
// Rates are those after each side's first second (WARM_UP_MS): the sides differ in how much code V8 must
// compile before it runs at speed, a cost paid once per run, which a short round would weigh tens of times
// more than a real run of 30 s or more does. CPU figures are those of the whole run.
// Usage: bench.js [--seconds 5] [--rounds 4] [--requests 1000000]
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runNode, startListening, stop, type ChildRun } from './children.js';

const here = (name: string) => fileURLToPath(new URL(name, import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const LIMITED = 'limited by the tester'; // the words of the tester's warning about itself (src/load/testerload.ts)
/**
 * The rows set mcp-hammer as a polite client (one session, nothing given up on) next to the ceilings, which
 * are polite clients too; what the client mix costs has a line of its own, the default mix against polite.
 */
const POLITE = ['--clients', 'polite'];
/** Each side's rate is counted from this far into its run (the ceilings do the same on their own). */
const WARM_UP_MS = 1000;

/**
 * A stdio server: its command, and the call both clients make (the ceiling sends it as it is, with the
 * 2026-07-28 envelope added when the server is modern; mcp-hammer finds the era itself).
 */
interface Server { name: string; args: string[]; params: string; hammer: string[]; modern?: boolean }
const SERVERS: Server[] = [
  { name: 'null', args: [here('./null-server.js')], params: '{"name":"echo","arguments":{}}', hammer: [] },
  { name: 'sdk', args: [here('./sdk-server.js')], params: '{"name":"echo","arguments":{}}', hammer: [] },
];
/** The null server speaking only 2026-07-28: the envelope on every request, in both clients. */
const NULL_MODERN: Server = { name: 'null, 2026-07-28', args: [here('./null-server.js'), 'modern'], params: '{"name":"echo","arguments":{}}', hammer: [], modern: true };
// The SDK's reference server, the one other MCP load generators are quoted against: its echo tool.
const EVERYTHING: Server = {
  name: 'server-everything echo',
  args: [createRequire(import.meta.url).resolve('@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'],
  params: '{"name":"echo","arguments":{"message":"hello"}}',
  hammer: ['--tool', 'echo', '--args', '{"message":"hello"}'],
};
/** The fastest existing MCP load generator seen on the machine of the table in the README, at 16 in flight. */
const OTHER_GENERATORS = 18_000;

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
  /** mcp-hammer over HTTP: every HTTP request it sent (the calls and the initialize, DELETE and notifications around them) per call. */
  httpPerCall?: number;
  /** mcp-hammer only: the whole run, start to exit. */
  wallSeconds?: number;
}

interface Row {
  transport: string;
  server: string;
  concurrency: number;
  ceiling: Rate;
  tester: Rate;
  /** Median over the rounds of mcp-hammer's rate over the ceiling's in the same round. */
  ratio: number;
  /** How many of the tester's runs warned that it set the pace, of how many. */
  limitedRuns: [number, number];
  target?: number;
}

// ---- the clients ------------------------------------------------------------------------------------

async function ceilingStdio(server: Server, concurrency: number, seconds: number): Promise<Rate> {
  const run = await runNode([here('./ceiling.js'), String(concurrency), String(seconds), server.params, ...(server.modern ? ['modern'] : []),
    '--', process.execPath, ...server.args], (seconds + 30) * 1000);
  if (!run.json) throw new Error(`the ceiling client failed: ${run.stderr.slice(-500)}`);
  return run.json;
}

async function hammerStdio(server: Server, concurrency: number, seconds: number, extra: string[] = []): Promise<Rate> {
  return runCli([...server.hammer, ...extra, '--duration', `${seconds}s`, '--concurrency', String(concurrency), '--', process.execPath, ...server.args], seconds);
}

const era = (modern: boolean) => (modern ? ['modern'] : []);

async function ceilingHttp(concurrency: number, seconds: number, modern = false): Promise<Rate> {
  const port = await freePort();
  const server = await startListening([here('./http-null-server.js'), String(port), ...era(modern)]);
  try {
    const run = await runNode([here('./http-ceiling.js'), `http://127.0.0.1:${port}/mcp`, String(concurrency), String(seconds), ...era(modern)], (seconds + 30) * 1000);
    if (!run.json) throw new Error(`the HTTP ceiling client failed: ${run.stderr.slice(-500)}`);
    return run.json;
  } finally {
    await stop(server);
  }
}

/** The real CLI over HTTP against the HTTP null server, which it starts itself as the command after `--`. */
async function hammerHttp(concurrency: number, seconds: number, modern = false, extra: string[] = []): Promise<Rate> {
  const port = await freePort();
  return runCli(['--url', `http://127.0.0.1:${port}/mcp`, ...extra, '--duration', `${seconds}s`, '--concurrency', String(concurrency),
    '--', process.execPath, here('./http-null-server.js'), String(port), ...era(modern)], seconds);
}

/** One run of the real CLI's memory test; its rate and its view of itself come from the results JSON. */
async function runCli(args: string[], seconds: number): Promise<Rate> {
  const out = mkdtempSync(join(tmpdir(), 'mcp-hammer-bench-'));
  try {
    const started = performance.now();
    const run = await runNode([CLI, 'memory', '--json', '--out', out, ...args], (seconds + 90) * 1000);
    return { ...fromResults(run), wallSeconds: (performance.now() - started) / 1000 };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function fromResults(run: ChildRun): Rate {
  const r = run.json;
  if (!r?.requests) throw new Error(`mcp-hammer did not run (exit ${run.code}): ${run.stderr.slice(-500)}`);
  return {
    requestsPerSecond: steadyRate(r.memory.samples) ?? r.requestsPerSecond,
    cpuPercent: r.tester.cpuPercent,
    loopPercent: r.tester.loopPercent,
    cpuWaitPercent: r.tester.cpuWaitPercent,
    serverCpuPercent: r.tester.serverCpuPercent,
    limited: r.warnings.some((w: string) => w.includes(LIMITED)),
    peakRssBytes: run.peakRssBytes,
    ...(r.connection?.httpRequests ? { httpPerCall: r.connection.httpRequests / r.requests } : {}),
  };
}

/** Requests per second from the first memory sample past the warm-up second to the last. */
function steadyRate(samples: [number, number][]): number | undefined {
  const first = samples.find(([s]) => s * 1000 >= WARM_UP_MS);
  const last = samples.at(-1);
  if (!first || !last || last[0] - first[0] < 0.5) return undefined;
  return (last[1] - first[1]) / (last[0] - first[0]);
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

/** Two clients in turns; the order flips every round, so that a slow patch hurts neither side alone. */
async function sideBySide(ceiling: () => Promise<Rate>, tester: () => Promise<Rate>, rounds: number) {
  const c: Rate[] = [];
  const t: Rate[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      c.push(await ceiling());
      t.push(await tester());
    } else {
      t.push(await tester());
      c.push(await ceiling());
    }
  }
  return {
    ceiling: medianRun(c),
    tester: medianRun(t),
    ratio: median(t.map((r, i) => r.requestsPerSecond / c[i].requestsPerSecond)),
    /** The same counting every HTTP request, not only the calls. */
    httpRatio: median(t.map((r, i) => (r.requestsPerSecond * (r.httpPerCall ?? 1)) / (c[i].requestsPerSecond * (c[i].httpPerCall ?? 1)))),
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
  const target = row.target === undefined ? '' : `>= ${row.target}${ratio >= row.target ? ' met' : ' MISSED'}`;
  const pct = (v?: number) => (v === undefined ? '-' : `${Math.round(v)}%`);
  const cells = [
    row.transport, row.server, String(row.concurrency), n(row.ceiling.requestsPerSecond), n(t.requestsPerSecond),
    `${ratio.toFixed(2)}x`, target, usPerRequest(row.ceiling).toFixed(1), usPerRequest(t).toFixed(1),
    `${pct(t.loopPercent)} / ${pct(t.serverCpuPercent)}`, pct(t.cpuWaitPercent), `${row.limitedRuns[0]} of ${row.limitedRuns[1]}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

const HEADER = [
  '| transport | server | in flight | ceiling req/s | mcp-hammer req/s | ratio | target | CPU µs/req, ceiling | CPU µs/req, mcp-hammer | mcp-hammer loop / server CPU | mcp-hammer waiting for a CPU | "limited by the tester" |',
  '| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |',
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '5' }, rounds: { type: 'string', default: '4' }, requests: { type: 'string', default: '1000000' },
      only: { type: 'string' },
    },
  });
  const seconds = Number(values.seconds);
  const rounds = Number(values.rounds);
  const requests = Number(values.requests);
  const say = (line: string) => process.stderr.write(line + '\n');
  const machine = `${cpus().length} cores (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, load average ${loadavg()[0].toFixed(1)} at start`;
  say(`mcp-hammer driver benchmark: ${machine}; ${rounds} rounds of ${seconds} s per row`);
  say(HEADER[0]);

  const rows: Row[] = [];
  let everything: Awaited<ReturnType<typeof sideBySide>> | undefined;
  let heapLine = '';
  const memory: string[] = [];
  const sdk = SERVERS[1];
  // --only mix: the client mix's line alone (a few minutes instead of half an hour).
  if (values.only !== 'mix') {
    const targets: Record<string, number> = { 'null 64': 0.8, 'sdk 16': 0.9 };
    for (const server of SERVERS) {
      for (const concurrency of [1, 16, 64]) {
        const r = await sideBySide(() => ceilingStdio(server, concurrency, seconds), () => hammerStdio(server, concurrency, seconds, POLITE), rounds);
        rows.push({ transport: 'stdio', server: server.name, concurrency, ...r, target: targets[`${server.name} ${concurrency}`] });
        say(tableRow(rows.at(-1)!));
      }
    }
    // The 2026-07-28 wire: the envelope on every request (stdio), and the headers too (HTTP).
    for (const concurrency of [16, 64]) {
      const r = await sideBySide(() => ceilingStdio(NULL_MODERN, concurrency, seconds), () => hammerStdio(NULL_MODERN, concurrency, seconds, POLITE), rounds);
      rows.push({ transport: 'stdio', server: NULL_MODERN.name, concurrency, ...r, target: concurrency === 64 ? 0.8 : undefined });
      say(tableRow(rows.at(-1)!));
    }
    everything = await sideBySide(() => ceilingStdio(EVERYTHING, 16, seconds), () => hammerStdio(EVERYTHING, 16, seconds, POLITE), rounds);
    rows.push({ transport: 'stdio', server: EVERYTHING.name, concurrency: 16, ...everything });
    say(tableRow(rows.at(-1)!));
    const http = await sideBySide(() => ceilingHttp(16, seconds), () => hammerHttp(16, seconds, false, POLITE), rounds);
    rows.push({ transport: 'http', server: 'null', concurrency: 16, ...http, target: 0.8 });
    say(tableRow(rows.at(-1)!));
    const httpModern = await sideBySide(() => ceilingHttp(16, seconds, true), () => hammerHttp(16, seconds, true, POLITE), rounds);
    rows.push({ transport: 'http', server: 'null, 2026-07-28', concurrency: 16, ...httpModern, target: 0.8 });
    say(tableRow(rows.at(-1)!));

    // What --heap costs, in a run as users make it (the default 30 s), on the SDK server, with and without.
    const heap = await sideBySide(() => hammerStdio(sdk, 16, 30), () => hammerStdio(sdk, 16, 30, ['--heap']), 1);
    heapLine = `--heap on the SDK server, 16 in flight, a 30 s run: ${n(heap.tester.requestsPerSecond)} req/s against `
      + `${n(heap.ceiling.requestsPerSecond)} without (${heap.ratio.toFixed(2)}x while loading; the pauses for forced GCs and snapshots are left out), `
      + `${Math.round(heap.tester.wallSeconds!)} s from start to exit against ${Math.round(heap.ceiling.wallSeconds!)} s`;
    say(heapLine);

    // The tester's own memory: a run a tenth as long, then the long one, against the null server, 64 in flight.
    for (const count of [requests / 10, requests]) {
      const rate = await runCli(['--requests', String(count), '--concurrency', '64', '--', process.execPath, ...SERVERS[0].args], count / 10_000);
      memory.push(`${n(count)} requests: ${Math.round((rate.peakRssBytes ?? 0) / 1048576)} MB (${n(rate.requestsPerSecond)} req/s)`);
      say(memory.at(-1)!);
    }
  }

  // What the client mix costs the driver: the default mix against a polite client, in turns, against the
  // null servers (there the tester sets the rate; against the SDK server the line would measure what the
  // mix costs the server).
  const mixStdio = await sideBySide(() => hammerStdio(SERVERS[0], 16, seconds, POLITE), () => hammerStdio(SERVERS[0], 16, seconds), rounds);
  const mixHttp = await sideBySide(() => hammerHttp(16, seconds, false, POLITE), () => hammerHttp(16, seconds), rounds);
  const http1 = (r: Rate) => r.requestsPerSecond * (r.httpPerCall ?? 1);
  const mixLine = `The default client mix against a polite client, 16 in flight: stdio null server ${n(mixStdio.tester.requestsPerSecond)} calls/s against `
    + `${n(mixStdio.ceiling.requestsPerSecond)} (${mixStdio.ratio.toFixed(2)}x); HTTP null server ${n(mixHttp.tester.requestsPerSecond)} calls/s against `
    + `${n(mixHttp.ceiling.requestsPerSecond)} (${mixHttp.ratio.toFixed(2)}x), and counting every HTTP request the clients send `
    + `(${(mixHttp.tester.httpPerCall ?? 1).toFixed(2)} a call: the short sessions' initialize, notifications and DELETE, the cancellations) `
    + `${n(http1(mixHttp.tester))} against ${n(http1(mixHttp.ceiling))} (${mixHttp.httpRatio.toFixed(2)}x); `
    + `CPU per HTTP request ${Math.round(usPerRequest(mixHttp.tester) / (mixHttp.tester.httpPerCall ?? 1))} µs against ${Math.round(usPerRequest(mixHttp.ceiling))}`;
  say(mixLine);

  process.stdout.write([
    '', `Machine: ${machine}. Each row: medians of ${rounds} rounds of ${seconds} s, ceiling and mcp-hammer taking turns.`, '',
    ...(everything ? [...HEADER, ...rows.map(tableRow), '',
      `Existing MCP load generators: the fastest seen drove ~${n(OTHER_GENERATORS)} calls/s on server-everything's echo at 16 in flight; `
      + `mcp-hammer ${n(everything.tester.requestsPerSecond)} (${(everything.tester.requestsPerSecond / OTHER_GENERATORS).toFixed(2)}x).`, '',
      heapLine, ''] : []), mixLine, '',
    ...(memory.length ? [`mcp-hammer's peak RSS (VmHWM of the CLI process; null server, 64 in flight; target < 150 MB at 1,000,000): ${memory.join('; ')}`, ''] : []),
  ].join('\n'));
}

await main();

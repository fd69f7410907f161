// Time to verdict and repeated verdicts (part of `npm run bench`): the real CLI with default options (the
// run lasts until the evidence decides) against each kind of fixture, as a user would run it; each fixture
// --runs times, the median of the wall times from start to exit, every verdict seen, and at the end the
// count of wrong ones: a false FAIL (a clean server failed), a false PASS (a leak passed), undecided. The
// repeats are what shows that a clean server is not failed by chance; the test tiers run each case once.
// Runs alone, one at a time: a busy machine gives fewer requests a second, so every verdict comes later.
// Usage: verdicts.js [--runs 3] [--only <name part>]... (cases whose name has any of the parts)
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, runNode } from './children.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PYTHON = join(ROOT, '.venv-fixtures', 'bin', 'python');
const PY_SERVER = join(ROOT, 'test', 'fixtures', 'python', 'memory_server.py');

interface Case {
  name: string;
  expect: 'pass' | 'fail';
  /** The CLI's arguments; port: a free port, for servers over HTTP. */
  args: (port: number) => string[];
  python?: boolean;
}

const node = (file: string, mode: string) => ['--', process.execPath, fixture(file), mode];
const CASES: Case[] = [
  { name: 'Node SDK, clean (~25,000 req/s)', expect: 'pass', args: () => ['memory', ...node('memory-server.js', 'clean')] },
  { name: 'Node SDK, 1 KB per call', expect: 'fail', args: () => ['memory', ...node('memory-server.js', 'heap-leak')] },
  { name: 'Node SDK, 1 MB garbage per call', expect: 'pass', args: () => ['memory', ...node('memory-server.js', 'garbage')] },
  { name: 'Node SDK, slow (~300 req/s), clean', expect: 'pass', args: () => ['memory', ...node('memory-server.js', 'slow-clean')] },
  { name: 'Node SDK, slow (~300 req/s), 1 KB per call', expect: 'fail', args: () => ['memory', ...node('memory-server.js', 'slow-leak')] },
  { name: 'Node SDK, 20 ms per call, clean', expect: 'pass', args: () => ['memory', ...node('memory-server.js', 'clean'), 'wait=20'] },
  { name: 'Node SDK, 20 ms per call, 1 KB per call', expect: 'fail', args: () => ['memory', ...node('memory-server.js', 'clean'), 'wait=20', 'keep=1024'] },
  { name: 'Node SDK, 1 MB garbage per call, 1 KB per call', expect: 'fail', args: () => ['memory', ...node('memory-server.js', 'garbage'), 'keep=1024'] },
  { name: 'Python SDK, clean', expect: 'pass', python: true, args: () => ['memory', '--', PYTHON, PY_SERVER, 'clean'] },
  { name: 'Python SDK, 2 KB per call', expect: 'fail', python: true, args: () => ['memory', '--', PYTHON, PY_SERVER, 'keep-2kb'] },
  { name: 'Python SDK, 500 B per call', expect: 'fail', python: true, args: () => ['memory', '--', PYTHON, PY_SERVER, 'keep-500b'] },
  {
    name: 'HTTP, sessions never freed, churn 10', expect: 'fail',
    args: (port) => ['memory', '--url', `http://127.0.0.1:${port}/mcp`, '--requests-per-session', '10', '--', process.execPath, fixture('http-server.js'), 'sessions-kept', `port=${port}`],
  },
  {
    name: 'HTTP, sessions freed, churn 10', expect: 'pass',
    args: (port) => ['memory', '--url', `http://127.0.0.1:${port}/mcp`, '--requests-per-session', '10', '--', process.execPath, fixture('http-server.js'), 'sessions', `port=${port}`],
  },
  // The client mix, default options: each planted shape and its tidy twin.
  ...['sessions', 'delete-leak', 'stream-leak', 'cancel-leak', 'hangup-leak', 'refused-leak', 'tidy'].map((mode): Case => ({
    name: `HTTP client mix: ${mode}`, expect: mode === 'tidy' ? 'pass' : 'fail',
    args: (port) => ['memory', '--url', `http://127.0.0.1:${port}/mcp`, '--', process.execPath, fixture('http-server.js'), mode, `port=${port}`],
  })),
  // 2026-07-28: long-lived subscriptions/listen streams, dropped and reopened, in the GET stream's place.
  ...['listen-leak', 'clean'].map((mode): Case => ({
    name: `2026-07-28 client mix: ${mode}`, expect: mode === 'clean' ? 'pass' : 'fail',
    args: (port) => ['memory', '--url', `http://127.0.0.1:${port}/mcp`, '--', process.execPath, fixture('modern-server.js'), mode, 'transport=http', 'era=modern-only', `port=${port}`],
  })),
  { name: 'stdio client mix: cancel-leak', expect: 'fail', args: () => ['memory', ...node('memory-server.js', 'cancel-leak')] },
  { name: 'stdio client mix: cancel-tidy', expect: 'pass', args: () => ['memory', ...node('memory-server.js', 'cancel-tidy')] },
  {
    name: 'Python SDK over HTTP, sessions kept', expect: 'fail', python: true,
    args: (port) => ['memory', '--url', `http://127.0.0.1:${port}/mcp`, '--protocol', '2025-11-25', '--', PYTHON, join(ROOT, 'test', 'fixtures', 'python', 'http_server.py'), 'kept', `port=${port}`],
  },
  { name: 'SDK v2, 2026-07-28 only, clean', expect: 'pass', args: () => ['memory', '--', process.execPath, fixture('modern-server.js'), 'clean', 'era=modern-only'] },
  { name: 'SDK v2, 2026-07-28 only, 4 KB per call', expect: 'fail', args: () => ['memory', '--', process.execPath, fixture('modern-server.js'), 'leak', 'kb=4', 'era=modern-only'] },
  { name: 'cache: unbounded 8 KB memo', expect: 'fail', args: () => ['cache', ...node('cache-server.js', 'unbounded')] },
  { name: 'cache: lru=500', expect: 'pass', args: () => ['cache', ...node('cache-server.js', 'lru=500')] },
  // The passing cases the test suite once ran several times in a row, to show there is no false FAIL.
  { name: 'Node SDK, bounded cache of 5,000', expect: 'pass', args: () => ['memory', ...node('memory-server.js', 'bounded-cache')] },
  { name: 'cache: no cache', expect: 'pass', args: () => ['cache', ...node('cache-server.js', 'none')] },
  { name: 'handles: clean', expect: 'pass', args: () => ['memory', ...node('handle-server.js', 'clean')] },
  { name: 'handles: a file opened and closed per call', expect: 'pass', args: () => ['memory', ...node('handle-server.js', 'clean-file')] },
  { name: 'handles: a pool of 10 sockets', expect: 'pass', args: () => ['memory', ...node('handle-server.js', 'pool')] },
  { name: 'Python SDK, 1 MB garbage per call', expect: 'pass', python: true, args: () => ['memory', '--', PYTHON, PY_SERVER, 'garbage'] },
  { name: 'Python SDK, cache: lru_cache(maxsize=500)', expect: 'pass', python: true, args: () => ['cache', '--', PYTHON, PY_SERVER, 'lru'] },
  {
    name: 'ratelimit: token bucket 100/s, burst 20', expect: 'pass',
    args: () => ['ratelimit', '--recovery-timeout', '10s', ...node('ratelimit-server.js', 'bucket'), 'rate=100', 'burst=20', 'reply=jsonrpc'],
  },
];

interface Seen {
  seconds: number;
  verdict: string;
  stopReason?: string;
  requestsPerSecond?: number;
}

async function once(c: Case, out: string): Promise<Seen> {
  const port = await freePort();
  const started = performance.now();
  const run = await runNode([CLI, ...c.args(port).slice(0, 1), '--json', '--out', out, ...c.args(port).slice(1)], 400_000);
  const r = run.json;
  return { seconds: (performance.now() - started) / 1000, verdict: r?.verdict ?? `exit ${run.code}`, stopReason: r?.stopReason, requestsPerSecond: r?.requestsPerSecond };
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, only: { type: 'string', multiple: true } } });
  const runs = Number(values.runs);
  const out = mkdtempSync(join(tmpdir(), 'mcp-hammer-verdicts-'));
  process.stderr.write(`Time to verdict, default options, ${runs} runs each; load average at start ${loadavg()[0].toFixed(2)}\n`);
  const lines = ['| server | expected | time to verdict (median) | verdicts | stopped | req/s |', '| --- | --- | ---: | --- | --- | ---: |'];
  const wrong = { falseFail: 0, falsePass: 0, undecided: 0, runs: 0 };
  try {
    for (const c of CASES.filter((k) => !values.only || values.only.some((part) => k.name.includes(part)))) {
      if (c.python && !existsSync(PYTHON)) {
        lines.push(`| ${c.name} | ${c.expect.toUpperCase()} | (no .venv-fixtures: node dist/test/fixtures/python/venv.js) | | | |`);
        continue;
      }
      const seen: Seen[] = [];
      for (let i = 0; i < runs; i++) {
        seen.push(await once(c, out));
        process.stderr.write(`  ${c.name}: ${seen.at(-1)!.verdict} in ${seen.at(-1)!.seconds.toFixed(1)} s\n`);
      }
      for (const v of seen.map((x) => x.verdict)) {
        wrong.runs++;
        if (v === c.expect) continue;
        if (v === 'fail') wrong.falseFail++;
        else if (v === 'pass') wrong.falsePass++;
        else wrong.undecided++;
      }
      const verdicts = seen.map((s) => s.verdict.toUpperCase()).join(', ');
      const stops = [...new Set(seen.map((s) => s.stopReason ?? '-'))].join(', ');
      lines.push(`| ${c.name} | ${c.expect.toUpperCase()} | ${median(seen.map((s) => s.seconds)).toFixed(0)} s | ${verdicts} | ${stops} | `
        + `${Math.round(median(seen.map((s) => s.requestsPerSecond ?? 0))).toLocaleString('en-US')} |`);
    }
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  lines.push('', `Wrong verdicts: ${wrong.falseFail + wrong.falsePass + wrong.undecided} of ${wrong.runs} runs `
    + `(false FAIL ${wrong.falseFail}, false PASS ${wrong.falsePass}, undecided or could not run ${wrong.undecided})`);
  process.stdout.write(lines.join('\n') + '\n');
}

await main();

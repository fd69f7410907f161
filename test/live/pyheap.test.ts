// --heap on Python servers end to end: the CLI against Python fixtures (the official SDK's MCPServer, and a
// plain one) that keep known things per call at a line marked `# leak:<mode>`; the report must name that
// line. Each run stops when decided, or at a hard limit, and must leave no process behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fixture, runCli, type CliRun } from '../helpers/cli.js';
import { freePort, marker, processesWith } from '../helpers/processes.js';
import { fixturePython, repoRoot } from '../fixtures/python/venv.js';

const DIR = join(repoRoot(), 'test', 'fixtures', 'python');
const SERVER = join(DIR, 'heap_server.py');
const python = fixturePython();

/** file:line of the `# leak:<mode>` marker in a fixture, as the report names it (relative to the run's folder). */
function leakLine(file: string, mode: string): string {
  const at = readFileSync(join(DIR, file), 'utf8').split('\n').findIndex((l) => l.includes(`# leak:${mode}`));
  assert.ok(at >= 0, `leak:${mode} in ${file}`);
  return `test/fixtures/python/${file}:${at + 1}`;
}

/** Runs the CLI from the repository's root; ends (by pid) any marked process left behind, then fails. */
async function hammer(args: string[], mark: string): Promise<CliRun> {
  const run = await runCli(args, { limitMs: 300_000, cwd: repoRoot() });
  const left = processesWith(mark);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone since
    }
  }
  assert.deepEqual(left, [], 'no server process may be left behind');
  assert.ok(run.results, `results JSON on stdout; stderr: ${run.stderr}`);
  return run;
}

const why = (run: CliRun) => `${run.results?.reasons?.join('; ')}\n${run.stderr}`;

/** What every traced run shows: the Python, the slowdown measured, the line named first. */
function assertNamed(run: CliRun, location: string, fn: string) {
  const h = run.results.heap;
  assert.equal(h?.runtime, 'cpython', why(run));
  assert.equal(h.problem, undefined, h.problem);
  assert.equal(h.growth[0]?.location, location, JSON.stringify(h.growth.map((g: any) => g.location)));
  assert.equal(h.growth[0].function, fn);
  assert.ok(h.growth[0].perRequest > 1000 && h.growth[0].perRequest < 4000, `${h.growth[0].perRequest} B per request`);
  assert.ok(h.growth[0].trace.length > 3, 'the whole traceback is in the JSON');
  const s = h.tracemalloc.slowdown;
  assert.ok(s.withTracing > 0 && s.withoutTracing > s.withTracing, JSON.stringify(s));
  assert.match(run.stderr, /Tracing cost: [\d,]+ requests\/s without tracemalloc, [\d,]+ with it/);
  assert.ok(run.stderr.includes(location), run.stderr);
}

test('pyheap: a list that grows, over stdio: its line, its function and the global that holds it', async () => {
  const mark = marker();
  const run = await hammer(['memory', '--heap', '--', python, SERVER, 'list', mark], mark);
  assert.equal(run.code, 1, why(run));
  assertNamed(run, leakLine('heap_server.py', 'list'), 'echo');
  assert.match(run.results.heap.growth[0].retainedBy, /^history\[\d+\]$/);
});

test('pyheap: a leak in a helper module, made inside json: the helper\'s line', async () => {
  const mark = marker();
  const run = await hammer(['memory', '--heap', '--', python, SERVER, 'helper', mark], mark);
  assert.equal(run.code, 1, why(run));
  assertNamed(run, leakLine('heap_helper.py', 'helper'), 'audit');
});

test('pyheap: a dict used as a cache, in the cache test: its line, per new key', async () => {
  const mark = marker();
  const run = await hammer(['cache', '--heap', '--', python, SERVER, 'cache', mark], mark);
  assert.equal(run.code, 1, why(run));
  assertNamed(run, leakLine('heap_server.py', 'cache'), 'lookup');
  assert.match(run.stderr, /per key/);
});

test('pyheap: a clean server still PASSes with --heap, and nothing is named', async () => {
  const mark = marker();
  const run = await hammer(['memory', '--heap', '--', python, SERVER, 'clean', mark], mark);
  assert.equal(run.code, 0, why(run));
  assert.equal(run.results.verdict, 'pass');
  assert.equal(run.results.heap.runtime, 'cpython');
  assert.deepEqual(run.results.heap.growth, []);
  assert.match(run.stderr, /Kept by the traced calls \(after a full collection\): nothing above/);
});

test('pyheap: over Streamable HTTP, behind a shell wrapper: the list\'s line', async () => {
  const mark = marker();
  const port = await freePort();
  const wrapper = `${python} ${SERVER} list --http ${port} ${mark}; exit $?`;
  const run = await hammer(['memory', '--heap', '--url', `http://127.0.0.1:${port}/mcp`, '--clients', 'polite', '--', 'sh', '-c', wrapper, mark], mark);
  assert.equal(run.code, 1, why(run));
  assert.equal(run.results.server.transport, 'streamable-http');
  assertNamed(run, leakLine('heap_server.py', 'list'), 'echo');
});

test('pyheap: a Node.js server with --no-inspector gets one sentence, and the test runs without --heap', async () => {
  const mark = marker();
  const run = await hammer(['memory', '--heap', '--no-inspector', '--requests', '20000', '--', process.execPath, fixture('memory-server.js'), 'clean', mark], mark);
  assert.ok(run.code === 0 || run.code === 2, why(run));
  const said = run.results.warnings.filter((w: string) => w.includes('--heap'));
  assert.equal(said.length, 1, JSON.stringify(run.results.warnings));
  assert.match(said[0], /--no-inspector turns off: the test runs without it$/);
  assert.equal(run.results.heap, undefined);
  assert.doesNotMatch(run.stderr, /\n\s+at /, 'no stack');
});

/** A Python older than 3.10 on this machine, if there is one: $MCP_HAMMER_OLD_PYTHON, else one of pyenv's. */
function oldPython(): string | undefined {
  if (process.env.MCP_HAMMER_OLD_PYTHON) return process.env.MCP_HAMMER_OLD_PYTHON;
  const versions = join(homedir(), '.pyenv', 'versions');
  if (!existsSync(versions)) return undefined;
  const old = readdirSync(versions).filter((v) => /^3\.[6-9]\.\d+$/.test(v)).sort().at(-1);
  return old ? join(versions, old, 'bin', 'python3') : undefined;
}

const old = oldPython();
test('pyheap: a Python older than 3.10 gets one sentence with its version', { skip: old ? false : 'no Python older than 3.10 here (set MCP_HAMMER_OLD_PYTHON)' }, async () => {
  const mark = marker();
  const run = await hammer(['memory', '--heap', '--requests', '5000', '--', old!, join(DIR, 'bare_server.py'), 'clean', mark], mark);
  assert.ok(run.code === 0 || run.code === 2, why(run));
  const said = run.results.warnings.filter((w: string) => w.includes('--heap'));
  assert.equal(said.length, 1, JSON.stringify(run.results.warnings));
  assert.match(said[0], /^--heap on a Python server needs Python 3\.10 or newer, and this server runs Python 3\.\d\.\d+ .*: the test runs without it$/);
  assert.equal(run.results.heap, undefined);
});

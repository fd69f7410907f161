// Real servers as users meet them: the reference server-filesystem on a folder of files and server-memory
// on a memory file, both made by the test, hammered with default options. The path tools get arguments
// learnt from the server's own answers; server-memory's resource is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runCli, tempDir } from '../helpers/cli.js';
import { marker, processesWith } from '../helpers/processes.js';

const require = createRequire(import.meta.url);
const bin = (pkg: string) => join(dirname(require.resolve(`@modelcontextprotocol/${pkg}/package.json`)), 'dist', 'index.js');

/** A folder like a small project: 49 files in nested folders, one name with a space. Named with the marker. */
function folder(mark: string): string {
  const dir = join(tempDir(), mark);
  for (const sub of ['docs', 'src/lib', 'images', 'with space']) mkdirSync(join(dir, sub), { recursive: true });
  for (let i = 1; i <= 5; i++) writeFileSync(join(dir, `file${i}.txt`), `line one of ${i}\n`);
  writeFileSync(join(dir, 'data.json'), '{"a": 1}\n');
  for (let i = 1; i <= 15; i++) {
    writeFileSync(join(dir, 'docs', `doc${i}.md`), `# Doc ${i}\n\nSome text for doc ${i}.\n`);
    writeFileSync(join(dir, 'src', `mod${i}.ts`), `export const m${i} = ${i};\n`);
  }
  for (let i = 1; i <= 8; i++) writeFileSync(join(dir, 'src', 'lib', `util${i}.ts`), `export const u${i} = ${i};\n`);
  for (let i = 1; i <= 3; i++) writeFileSync(join(dir, 'images', `pic${i}.png`), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  writeFileSync(join(dir, 'images', 'blob.bin'), Buffer.alloc(100, 7));
  writeFileSync(join(dir, 'with space', 'a b.txt'), 'hi\n');
  return dir;
}

/** `args` gets the marker that finds the server's processes: server-filesystem's folder is named with it. */
async function run(test: string, pkg: string, args: (mark: string) => string[], extra: string[] = [], env?: NodeJS.ProcessEnv) {
  const mark = marker();
  const result = await runCli([test, ...extra, '--', process.execPath, bin(pkg), ...args(mark)], { limitMs: 360_000, env });
  assert.deepEqual(processesWith(mark), [], 'no server process may be left behind');
  assert.ok(result.results, `results JSON on stdout; stderr: ${result.stderr}`);
  return result;
}

const PATH_TOOLS = ['read_file', 'read_text_file', 'read_media_file', 'read_multiple_files', 'list_directory', 'list_directory_with_sizes',
  'directory_tree', 'search_files', 'get_file_info'];

test('server-filesystem, memory test with default options: PASS, every read-only tool called, paths learnt from the server', async () => {
  let dir = '';
  const r = await run('memory', 'server-filesystem', (mark) => [dir = folder(mark)]);
  assert.equal(r.code, 0, `${r.results.reasons.join('; ')}\n${r.stderr}`);
  const called = r.results.calls.map((c: any) => c.tool);
  assert.deepEqual([...called].sort(), [...PATH_TOOLS, 'list_allowed_directories'].sort());
  for (const c of r.results.calls.filter((c: any) => PATH_TOOLS.includes(c.tool))) {
    const key = c.tool === 'read_multiple_files' ? 'paths' : 'path';
    const value = [c.arguments[key]].flat()[0];
    assert.ok(value.startsWith(dir), `${c.tool} ${JSON.stringify(c.arguments)}`);
    assert.match(c.learnt[key], /^path from (list_allowed_directories|list_directory|list_directory_with_sizes|directory_tree)$/, c.tool);
  }
  // The readers got a file, the listers a folder.
  const arg = (tool: string) => r.results.calls.find((c: any) => c.tool === tool).arguments.path;
  assert.match(arg('read_text_file'), /\.\w+$/);
  assert.doesNotMatch(arg('list_directory'), /\.\w+$/);
  assert.deepEqual(r.results.errors, {});
  assert.ok(!r.results.warnings.some((w: string) => /left out/.test(w)), r.results.warnings.join('\n'));
  assert.match(r.stderr, /Arguments from the server's own answers: .*list_directory.*: path = ".*" \(path from list_allowed_directories\)/);
});

test('server-filesystem, cache test: floods search_files\' pattern at a path the server named, instead of exiting 2', async () => {
  const r = await run('cache', 'server-filesystem', (mark) => [folder(mark)], []);
  assert.notEqual(r.code, 2, `${r.results.reasons.join('; ')}\n${r.stderr}`);
  assert.deepEqual(r.results.calls.map((c: any) => [c.tool, c.varied, c.learnt]), [['search_files', ['pattern'], { path: r.results.calls[0].learnt.path }]]);
  assert.match(r.results.calls[0].learnt.path, /^path from /);
  assert.ok(r.results.uniqueKeys > 500, `unique keys ${r.results.uniqueKeys}`);
  assert.ok(r.results.warnings.some((w: string) => /left out, their string arguments take only values the server offered .*read_file \(path: path from/.test(w)));
});

test('server-memory, memory test with default options: PASS, its read-only tools and its resource called', async () => {
  // server-memory ignores its arguments: the marker is one.
  const r = await run('memory', 'server-memory', (mark) => [mark], [], { MEMORY_FILE_PATH: join(tempDir(), 'memory.jsonl') });
  assert.equal(r.code, 0, `${r.results.reasons.join('; ')}\n${r.stderr}`);
  assert.deepEqual(r.results.calls.map((c: any) => c.tool ?? c.uri), ['read_graph', 'search_nodes', 'open_nodes', 'memory://knowledge-graph']);
  assert.deepEqual(r.results.calls[3], { method: 'resources/read', uri: 'memory://knowledge-graph' });
  assert.deepEqual(r.results.errors, {});
  assert.match(r.stderr, /memory-server [\d.]+ \(MCP [^)]+\): calling read_graph, search_nodes, open_nodes, memory:\/\/knowledge-graph, 16 in flight/);
});

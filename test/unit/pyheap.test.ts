// --heap on a Python server, without a server: a recorded tracemalloc answer grouped by the server's own
// line, the frames skipped to reach it, the report's lines, and which Pythons are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chargedFrame, frameKind, pythonGrowth, type FrameKind, type PySnapshot } from '../../src/heap/python/frames.js';
import { unfitPython } from '../../src/heap/choose.js';
import { heapLines } from '../../src/report/heap.js';
import type { HeapResults } from '../../src/results.js';
import { readRecorded } from '../helpers/recorded.js';

const recorded = readRecorded('pyheap-helper-stdio');
const snapshot: PySnapshot = recorded.snapshot;

test('pyheap: a frame is the server\'s own, the SDK\'s, another package\'s or the standard library\'s', () => {
  const paths = { stdlib: ['/usr/lib/python3.11'], site: ['/usr/lib/python3.11/site-packages'], sdk: ['/usr/lib/python3.11/site-packages/mcp'] };
  assert.equal(frameKind('/srv/app/server.py', paths), 'user');
  assert.equal(frameKind('/usr/lib/python3.11/json/decoder.py', paths), 'stdlib');
  assert.equal(frameKind('/usr/lib/python3.11/site-packages/mcp/server/stdio.py', paths), 'sdk');
  assert.equal(frameKind('/usr/lib/python3.11/site-packages/mcpx/tool.py', paths), 'site', 'a prefix of a name is not its folder');
  assert.equal(frameKind('<frozen codecs>', paths), 'stdlib');
});

test('pyheap: the charged frame is the innermost of the server\'s code, not the frames that start the program', () => {
  const k = (s: string) => s.split(' ') as FrameKind[];
  // json inside a helper inside a tool, under the SDK, under the script's server.run(): the helper's line.
  assert.equal(chargedFrame(k('stdlib stdlib user user sdk sdk stdlib sdk user'), 9), 2);
  // Only the SDK and the script's run(): the SDK's line, not where the event loop was entered.
  assert.equal(chargedFrame(k('stdlib sdk sdk stdlib user'), 5), 1);
  // Cut short by tracemalloc (depth 40 > 5 frames kept): the outermost frames are not the program's start.
  assert.equal(chargedFrame(k('stdlib sdk sdk stdlib user'), 40), 4);
  // A server installed as a package (uvx): its own frames are in site-packages.
  assert.equal(chargedFrame(k('stdlib site sdk user'), 4), 1);
  assert.equal(chargedFrame(k('stdlib stdlib'), 2), 0);
});

test('pyheap: a recorded snapshot names the helper module\'s line, two calls below the tool, under json', () => {
  const growth = pythonGrowth(snapshot, { minBytes: 64 * 1024, top: 5, cwd: recorded.cwd });
  assert.equal(growth.length, 1, JSON.stringify(growth.map((g) => [g.location, g.bytes])));
  const [g] = growth;
  assert.equal(g.location, 'test/fixtures/python/heap_helper.py:9');
  assert.equal(g.function, 'audit');
  assert.equal(g.name, 'str');
  // A parsed record per call, about 1.8 KB, in six blocks (a dict, its strings and ints, its table).
  const perCall = g.bytes / recorded.requests;
  assert.ok(perCall > 1500 && perCall < 2500, `${perCall} bytes per call`);
  // The full trace, innermost first: the standard library's json, then the helper, then the tool.
  assert.match(g.trace![0], /json\/decoder\.py:\d+$/);
  assert.ok(g.trace!.includes('test/fixtures/python/heap_server.py:53'));
  assert.equal(g.trace!.at(-1), 'test/fixtures/python/heap_server.py:59', 'the complete traceback ends at server.run()');
});

test('pyheap: below the threshold the SDK\'s own blocks stay the SDK\'s; nothing is charged to server.run()', () => {
  const all = pythonGrowth(snapshot, { minBytes: 0, top: 1000, cwd: recorded.cwd });
  assert.ok(!all.some((g) => g.location === 'test/fixtures/python/heap_server.py:59'), 'the script\'s run() line names nothing');
  assert.ok(all.some((g) => g.location?.startsWith('.venv/lib/python3.11/site-packages/mcp/')));
  const total = snapshot.stats.reduce((sum, s) => sum + (s.frames.length >= 2 ? s.size : 0), 0);
  assert.equal(all.reduce((sum, g) => sum + g.bytes, 0), total, 'every block is charged once');
});

test('pyheap: the report reads as the Node.js one, with what tracing cost', () => {
  const heap: HeapResults = {
    runtime: 'cpython', pid: 7, evidence: '', series: [], traceRequests: 300, minBytes: 64 * 1024, seconds: { snapshots: 0.5, gc: 0, trace: 5 },
    baseline: { requests: 15000, bytes: 0 }, end: { requests: 15300, bytes: 660 * 1024 },
    tracemalloc: { python: '3.11.7', frames: 64, tracedBytes: 660 * 1024, slowdown: { withoutTracing: 1210.7, withTracing: 60.5, seconds: 9.8 } },
    growth: [{ name: 'str', bytes: 468 * 1024, count: 300, perRequest: 1597, countPerRequest: 1, location: 'server.py:51', function: 'echo', retainedBy: 'history[15299]' }],
  };
  assert.deepEqual(heapLines(heap), [
    'Traced after the run (pid 7, Python 3.11.7, tracemalloc, 64 frames): 300 calls, 660.0 KB still allocated',
    'Tracing cost: 1,211 requests/s without tracemalloc, 61 with it (20x slower)',
    'Kept by the traced calls (after a full collection):',
    '  +468.0 KB str  300 x 1.6 KB        server.py:51  (echo)  1.6 KB in 1 per request',
    '  the largest is held by: history[15299]',
  ]);
  assert.deepEqual(heapLines({ ...heap, growth: [] }).at(-1), 'Kept by the traced calls (after a full collection): nothing above 64.0 KB');
});

test('pyheap: a Python older than 3.10, or not CPython, is refused in one sentence', () => {
  const hello = { pid: 1, python: '3.9.18', implementation: 'cpython', executable: 'python3.9' };
  assert.equal(unfitPython(hello), '--heap on a Python server needs Python 3.10 or newer, and this server runs Python 3.9.18 (python3.9)');
  assert.match(unfitPython({ ...hello, python: '2.7.18' })!, /3\.10 or newer/);
  assert.match(unfitPython({ ...hello, python: '3.12.1', implementation: 'pypy' })!, /needs CPython/);
  assert.equal(unfitPython({ ...hello, python: '3.10.0' }), undefined);
  assert.equal(unfitPython({ ...hello, python: '3.13.0' }), undefined);
});

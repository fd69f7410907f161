// The pieces of --heap alone: the snapshot reader on a real snapshot from a real Node process, the
// dominator tree and growth on small graphs built by hand, the choice of evidence and the rendering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connectInspector } from '../../src/heap/inspector.js';
import { snapshotParser, type Snapshot } from '../../src/heap/snapshot.js';
import { heapGrowth, highestObjectId, place } from '../../src/heap/diff.js';
import { dominatorTree } from '../../src/heap/graph.js';
import { chooseEvidence, heapTrend } from '../../src/judge/evidence.js';
import { heapLines } from '../../src/report/heap.js';
import { memoryTrend, type Trend } from '../../src/judge/trend.js';
import type { HeapResults } from '../../src/results.js';

/** A snapshot's JSON text, taken through the inspector of a real `node -e` process. */
async function realSnapshotText(): Promise<string> {
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', '-e',
    'globalThis.kept = new Map([["k\\"ey\\u00e9", { text: "v".repeat(50) }]]); console.error("ready"); setInterval(() => {}, 1000);'],
  { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        // The inspector listens before the script runs: wait until the script has made what it keeps.
        const m = /Debugger listening on (ws:\/\/\S+)/.exec(text);
        if (m && /^ready$/m.test(text)) resolve(m[1]);
      });
      setTimeout(() => reject(new Error('no inspector address')), 10_000);
    });
    assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\//);
    const inspector = await connectInspector(url);
    const chunks: string[] = [];
    inspector.on('HeapProfiler.addHeapSnapshotChunk', (p) => chunks.push(p.chunk));
    await inspector.send('HeapProfiler.takeHeapSnapshot', {}, 60_000);
    inspector.close();
    return chunks.join('');
  } finally {
    child.kill('SIGKILL');
  }
}

function parse(text: string, piece: number): Snapshot {
  const p = snapshotParser();
  for (let i = 0; i < text.length; i += piece) p.write(text.slice(i, i + piece));
  return p.end();
}

test('snapshot: read in pieces of any size, a real snapshot gives what JSON.parse gives', async () => {
  const text = await realSnapshotText();
  const json = JSON.parse(text);
  for (const piece of [1 << 20, 4096, 7, 1]) {
    const s = parse(text, piece);
    assert.equal(s.nodeCount, json.snapshot.node_count);
    assert.deepEqual(Array.from(s.nodes), json.nodes, `nodes, pieces of ${piece}`);
    assert.deepEqual(Array.from(s.edges), json.edges, `edges, pieces of ${piece}`);
    assert.deepEqual(s.strings, json.strings.map((x: string) => x.slice(0, 1024)), `strings, pieces of ${piece}`);
    assert.deepEqual(s.locations, json.locations);
  }
  assert.ok(parse(text, 4096).strings.includes('k"eyé'), 'escaped strings are decoded');
});

test('inspector: refuses any address that is not loopback', async () => {
  await assert.rejects(connectInspector('ws://192.0.2.1:9229/x'), /not a loopback inspector address/);
  await assert.rejects(connectInspector('ws://example.com:9229/x'), /not a loopback inspector address/);
});

/**
 * A snapshot built by hand: nodes as [type, name, id, selfSize], edges as [from, type, name, to]
 * (node numbers). Node 0 is the root.
 */
function graph(nodes: [string, string, number, number][], edges: [number, string, string | number, number][]): Snapshot {
  const nodeTypes = ['hidden', 'array', 'string', 'object', 'code', 'closure', 'regexp', 'number', 'native', 'synthetic'];
  const edgeTypes = ['context', 'element', 'property', 'internal', 'hidden', 'shortcut', 'weak'];
  const strings: string[] = [];
  const str = (v: string) => (strings.includes(v) ? strings.indexOf(v) : strings.push(v) - 1);
  const nf = 7;
  const flat: number[] = [];
  nodes.forEach(([type, name, id, size], i) => {
    flat.push(nodeTypes.indexOf(type), str(name), id, size, edges.filter((e) => e[0] === i).length, 0, 0);
  });
  const edgeFlat: number[] = [];
  for (const [, type, name, to] of [...edges].sort((a, b) => a[0] - b[0])) {
    edgeFlat.push(edgeTypes.indexOf(type), type === 'element' ? Number(name) : str(String(name)), to * nf);
  }
  return {
    nodeFieldCount: nf, edgeFieldCount: 3,
    field: { type: 0, name: 1, id: 2, selfSize: 3, edgeCount: 4, traceNodeId: 5 },
    edgeField: { type: 0, nameOrIndex: 1, toNode: 2 },
    nodeTypes, edgeTypes, nodeCount: nodes.length,
    nodes: Float64Array.from(flat), edges: Uint32Array.from(edgeFlat), strings,
    traceFunctionInfos: [], traceTree: [], locations: [],
  };
}

test('dominators: a node reached two ways belongs to neither; weak edges retain nothing', () => {
  const s = graph(
    [['synthetic', '', 1, 0], ['object', 'A', 3, 10], ['object', 'B', 5, 20], ['object', 'C', 7, 30], ['object', 'D', 9, 40], ['object', 'E', 11, 50]],
    [[0, 'property', 'a', 1], [0, 'property', 'b', 2], [1, 'property', 'c', 3], [2, 'property', 'c', 3], [3, 'property', 'd', 4],
      [0, 'property', 'e', 5], [1, 'weak', 'w', 5]],
  );
  const g = dominatorTree(s);
  assert.deepEqual(Array.from(g.idom), [0, 0, 0, 0, 3, 0]);
  assert.deepEqual(Array.from(g.retained), [150, 10, 20, 70, 40, 50]);
});

test('growth: new objects in an old array are counted once, with what they hold; a Map counts entries', () => {
  // root -> kept (old Array) -> its backing store (new, internal) -> 3 new Arrays, each holding a new string;
  // root -> cache (old Map) -> table (new) -> 2 entries of a new key string and a new Object.
  const s = graph(
    [['synthetic', '', 1, 0], ['object', 'Array', 101, 32], ['array', '', 301, 100],
      ['object', 'Array', 303, 32], ['object', 'Array', 305, 32], ['object', 'Array', 307, 32],
      ['string', 'x', 309, 1000], ['string', 'y', 311, 1000], ['string', 'z', 313, 1000],
      ['object', 'Map', 103, 24], ['array', '', 315, 200],
      ['string', 'key-1', 317, 20], ['object', 'Object', 319, 500], ['string', 'key-2', 321, 20], ['object', 'Object', 323, 500]],
    [[0, 'context', 'kept', 1], [1, 'internal', 'elements', 2], [2, 'element', 0, 3], [2, 'element', 1, 4], [2, 'element', 2, 5],
      [3, 'element', 1, 6], [4, 'element', 1, 7], [5, 'element', 1, 8],
      [0, 'context', 'cache', 9], [9, 'internal', 'table', 10],
      [10, 'internal', '7', 11], [10, 'internal', '8', 12], [10, 'internal', '10', 13], [10, 'internal', '11', 14]],
  );
  assert.equal(highestObjectId(s), 323);
  const growth = heapGrowth(s, 200);
  assert.deepEqual(growth.map((g) => [g.name, g.bytes, g.count]), [['Array', 3096, 3], ['Map', 1040, 2]]);
  assert.equal(growth[0].retainedBy, 'kept[0]');
  assert.deepEqual(heapGrowth(s, 200, { minBytes: 2000 }).map((g) => g.name), ['Array']);
  assert.deepEqual(heapGrowth(s, 400), [], 'nothing is new after the highest id');
});

test('place: file URLs become paths, relative inside the working folder', () => {
  assert.equal(place('file:///srv/app/src/a%20b.js', 12, '/srv/app'), 'src/a b.js:12');
  assert.equal(place('/opt/x.js', 3, '/srv/app'), '/opt/x.js:3');
  assert.equal(place('node:internal/timers', 5), 'node:internal/timers:5');
});

const MB = 1024 * 1024;
const flat = (): Trend => memoryTrend(Array.from({ length: 48 }, (_, i) => ({ requests: i * 1000, bytes: 100 * MB })));
const rising = (): Trend => memoryTrend(Array.from({ length: 48 }, (_, i) => ({ requests: i * 1000, bytes: 100 * MB + i * 1000 * 8192 })));

const TARGET = { bytesPerRequest: 1024 };

test('evidence: either rising fails the run, and the results say which one decided', () => {
  assert.equal(chooseEvidence(flat(), null, TARGET).decidedBy, 'process memory');
  assert.equal(chooseEvidence(rising(), rising(), TARGET).decidedBy, 'both');
  assert.equal(chooseEvidence(rising(), flat(), TARGET).decidedBy, 'process memory');
  const heapOnly = chooseEvidence(flat(), rising(), TARGET);
  assert.equal(heapOnly.decidedBy, 'heap after GC');
  assert.equal(heapOnly.trend.shape, 'rising');
});

test('evidence: the heap after GC decides a PASS when it rules the leak out and the process memory grew no more than it', () => {
  assert.equal(chooseEvidence(flat(), flat(), TARGET).decidedBy, 'heap after GC');
  // Process memory growing 2 KB per request, unevenly, beside a flat heap: growth a PASS cannot stand beside.
  const uneven = memoryTrend(Array.from({ length: 48 }, (_, i) => ({ requests: i * 1000, bytes: 100 * MB + i * 2048 * 1000 + (i % 4) * 8 * MB })));
  assert.notEqual(uneven.shape, 'flat');
  assert.notEqual(chooseEvidence(uneven, flat(), TARGET).decidedBy, 'heap after GC');
});

test('evidence: a steady climb of the heap after GC is a leak without the saw-tooth falls process memory needs', () => {
  // 1 KB per request over 43,500 requests, no fall anywhere: read as process memory, it could be the rising
  // stretch of one long saw-tooth (44 MB, under what one can be); read after forced GCs, it cannot.
  const points = (f: (r: number) => number) => Array.from({ length: 30 }, (_, i) => ({ requests: i * 1500, bytes: f(i * 1500) }));
  assert.equal(heapTrend(points((r) => 12 * MB + r * 1024)).shape, 'rising');
  assert.equal(memoryTrend(points((r) => 12 * MB + r * 1024)).shape, 'unclear', 'process memory would wait for falls');
  // 420 B per request, as the heap fixture's Map: 25 MB, over the heap's budget and its scatter.
  assert.equal(heapTrend(points((r) => 12 * MB + r * 420)).shape, 'rising');
  assert.equal(heapTrend(points((r) => 12 * MB + (r % 3) * 1024)).shape, 'flat');
});

test('report: the --heap lines under the verdict, from saved results', () => {
  const heap: HeapResults = {
    runtime: 'node', pid: 42, evidence: '', series: [], traceRequests: 500, minBytes: 256 * 1024, seconds: { snapshots: 1, gc: 1, trace: 1 },
    baseline: { requests: 1000, bytes: 12 * MB }, end: { requests: 11000, bytes: 74 * MB },
    growth: [
      { name: 'Array', bytes: 61.9 * MB, count: 10000, perRequest: 6490, countPerRequest: 1, location: 'planted.mjs:57', function: 'handler', retainedBy: 'kept[9999]' },
      { name: 'Closure', bytes: 1.3 * MB, count: 1200, perRequest: 136 },
    ],
  };
  assert.deepEqual(heapLines(heap, 'both'), [
    'Heap after GC (pid 42): 12 MB at warm-up, 74 MB at the end; verdict from both process memory and heap',
    'Growing since warm-up (heap, after GC):',
    '  +62 MB    Array    10,000 x 6.3 KB     planted.mjs:57  (handler)  6.3 KB in 1 per request',
    '  +1.3 MB   Closure  1,200 x 1.1 KB      136 B per request',
    '  the largest is held by: kept[9999]',
  ]);
  assert.deepEqual(heapLines({ ...heap, growth: [] }).slice(1), ['Growing since warm-up (heap, after GC): nothing above 256.0 KB']);
  assert.deepEqual(heapLines({ ...heap, pid: undefined }), []);
});

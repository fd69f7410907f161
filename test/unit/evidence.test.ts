// The memory verdict with its two kinds of evidence, replayed look by look on series recorded from real
// runs: the process memory and, for Node.js servers, the heap after forced GCs read at the same floors; and
// CPython's process memory, read without waiting for a saw-tooth it does not have. No clean server's series
// stops with a FAIL at any look; every planted leak does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { memoryTrend, DEFAULT_BUDGETS, type Point } from '../../src/judge/trend.js';
import { streak, type Decision } from '../../src/judge/stopping.js';
import { chooseEvidence, heapTrend, lookAtEvidence } from '../../src/judge/evidence.js';
import { CPYTHON_BUDGETS } from '../../src/stress/length.js';
import { runtimeOf } from '../../src/sampling/runtime.js';
import { readRecorded, recordedFloors } from '../helpers/recorded.js';

const TARGET = { bytesPerRequest: 1024 };

/** A series recorded with its heap after GC: process floors [requests, bytes, seconds], heapFloors [requests, bytes]. */
function withHeap(name: string): { process: Point[]; heap: Point[] } {
  const r = readRecorded(name);
  return {
    process: r.floors.map(([requests, bytes, seconds]: number[]) => ({ requests, bytes, seconds })),
    heap: r.heapFloors.map(([requests, bytes]: number[], i: number) => ({ requests, bytes, seconds: r.floors[i][2] })),
  };
}

/** The first decision the stopping rule reaches on both kinds of evidence, looking after every floor. */
function replay(s: { process: Point[]; heap: Point[] }): { decision: Decision; at: number } {
  const agreed = streak();
  for (let i = 1; i <= s.process.length; i++) {
    const seen = lookAtEvidence(memoryTrend(s.process.slice(0, i)), heapTrend(s.heap.slice(0, i)), TARGET);
    const d = agreed(seen.decision, s.process[i - 1].requests);
    if (d) return { decision: d, at: i };
  }
  return { decision: null, at: s.process.length };
}

// Each recorded twice: until decided (default options), and for 60 s whatever the looks said.
const CLEAN = ['heap-node-clean', 'heap-node-wait20-clean', 'heap-node-slow-clean', 'heap-node-garbage', 'heap-node-bounded-cache',
  'heap-node-clean-60s', 'heap-node-wait20-clean-60s', 'heap-node-slow-clean-60s', 'heap-node-garbage-60s', 'heap-node-bounded-cache-60s'];
const LEAKS = ['heap-node-keep64', 'heap-node-wait20-keep', 'heap-node-slow-leak', 'heap-node-garbage-keep', 'heap-node-listener-leak-60s'];

test('evidence, recorded: clean Node servers (fast, 20 ms and 50 ms per call, 1 MB of garbage, a bounded cache) PASS on the heap after GC, never FAIL', () => {
  for (const name of CLEAN) {
    const { decision } = replay(withHeap(name));
    assert.equal(decision, 'pass', name);
    // Nor at any later look: judged on every prefix, not one says FAIL.
    const s = withHeap(name);
    for (let i = 1; i <= s.process.length; i++) {
      assert.notEqual(lookAtEvidence(memoryTrend(s.process.slice(0, i)), heapTrend(s.heap.slice(0, i)), TARGET).decision, 'fail', `${name} at floor ${i}`);
    }
  }
});

test('evidence, recorded: Node servers keeping 64 B to 1 KB per call FAIL on the heap after GC, slow and garbage-making ones too', () => {
  for (const name of LEAKS) assert.equal(replay(withHeap(name)).decision, 'fail', name);
});

test('evidence: the heap after GC decides what the process memory could not (a leak under its saw-tooth)', () => {
  const s = withHeap('heap-node-keep64');
  const process = memoryTrend(s.process);
  const heap = heapTrend(s.heap);
  assert.equal(heap.shape, 'rising');
  assert.notEqual(process.shape, 'rising');
  assert.equal(chooseEvidence(process, heap, TARGET).decidedBy, 'heap after GC');
});

test('evidence, recorded: CPython process memory has no saw-tooth to wait out; clean servers PASS and leaks FAIL at every look', () => {
  const decide = (name: string) => {
    const points = recordedFloors(name);
    const agreed = streak();
    for (let i = 1; i <= points.length; i++) {
      const d = agreed(lookAtEvidence(memoryTrend(points.slice(0, i), CPYTHON_BUDGETS), null, TARGET).decision, points[i - 1].requests);
      if (d) return d;
    }
    return null;
  };
  for (const name of ['python-clean', 'python-clean-2', 'python-garbage']) assert.equal(decide(name), 'pass', name);
  for (const name of ['python-keep-500b', 'python-keep-2kb']) assert.equal(decide(name), 'fail', name);
  // The same series read with the budgets of a runtime that saw-tooths wait for a minute-long climb instead.
  assert.equal(memoryTrend(recordedFloors('python-keep-500b').slice(0, 10), DEFAULT_BUDGETS).shape, 'unclear');
});

test('runtime: a Node.js tree reads as node, a Python interpreter as cpython', async () => {
  assert.equal(runtimeOf([process.pid]), process.platform === 'linux' ? 'node' : 'unknown');
  if (process.platform !== 'linux') return;
  const python = spawn('python3', ['-c', 'import time; time.sleep(5)'], { stdio: 'ignore' });
  try {
    // python3 may be a launcher (pyenv's shim is a shell script) that takes a while to exec the interpreter.
    for (let i = 0; i < 50 && runtimeOf([python.pid!]) !== 'cpython'; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(runtimeOf([python.pid!]), 'cpython');
    assert.equal(runtimeOf([python.pid!, process.pid]), 'unknown');
  } finally {
    python.kill();
  }
});

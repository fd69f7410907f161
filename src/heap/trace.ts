// After the run, with --heap: a short trace repeating the run's requests with allocation tracking on, and
// the heap snapshots that show what was kept and where it was allocated. The costly parts stay out of the
// measured run.
import { hammer } from '../load/closedloop.js';
import type { Call } from '../requests/calls.js';
import type { Target } from '../server/open.js';
import type { Inspector } from './inspector.js';
import { snapshotParser, type Snapshot } from './snapshot.js';

export interface TraceOptions {
  target: Target;
  /** The call for request number i of the whole run (the trace goes on from `requests`). */
  callFor: (i: number) => Call;
  requests: number;
  concurrency: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** Enough requests for the allocation stacks of a leak every few dozen calls, bounded. */
export function traceRequests(measured: number): number {
  return Math.min(2000, Math.max(300, Math.round(measured / 20)));
}

export async function takeSnapshot(inspector: Inspector): Promise<Snapshot> {
  const parser = snapshotParser();
  const off = inspector.on('HeapProfiler.addHeapSnapshotChunk', (p) => parser.write(p.chunk));
  try {
    // A large heap takes long to write out; the server is paused meanwhile, and nothing else waits.
    await inspector.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, 300_000);
  } finally {
    off();
  }
  return parser.end();
}

/**
 * Turn allocation tracking on, so that the trace's objects carry the stack that allocated them; returns
 * the first object id numbered after tracking began.
 */
export async function trackAllocations(inspector: Inspector): Promise<number> {
  // Allocation stacks are kept by address. V8 moves a stack along with its object only while the
  // object has no snapshot id, and while tracking, the inspector numbers every live object after a
  // full GC every 50 ms: an object that compaction moves after that loses its stack. Most did
  // (measured: all but a few dozen of ~450 tracked arrays, in most runs). Without compaction
  // nothing that survived a full GC moves again; the server is ended after the trace, so it may run
  // its last seconds so. The flag is set through the inspector console's require, as Node offers it.
  await inspector.send('Runtime.evaluate', { expression: "require('v8').setFlagsFromString('--no-compact')", includeCommandLineAPI: true });
  // Precise call counting drops optimised code and keeps V8 from optimising again while it is on,
  // which gives inlined functions back their own frames in allocation stacks.
  await inspector.send('Profiler.enable');
  await inspector.send('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  // For the same reason an older object that a GC moves onto the place of a dead tracked one takes
  // its stack: only objects numbered after tracking began are asked where they come from. Tracking numbers every live object as it starts; an object made just after
  // gets the next number.
  await inspector.send('HeapProfiler.startTrackingHeapObjects', { trackAllocations: true });
  const fresh = await inspector.send('Runtime.evaluate', { expression: '({})', objectGroup: 'mcp-hammer' });
  const trackedSince = Number((await inspector.send('HeapProfiler.getHeapObjectId', { objectId: fresh.result.objectId })).heapSnapshotObjectId);
  await inspector.send('Runtime.releaseObjectGroup', { objectGroup: 'mcp-hammer' });
  return trackedSince;
}

/** The trace: the run's requests again, for a few seconds, with allocation tracking on. */
export function traceLoad(o: TraceOptions, maxRequests: number) {
  return hammer({
    conn: o.target.conn,
    callFor: (i) => o.callFor(o.requests + i),
    concurrency: o.concurrency,
    maxRequests,
    maxSeconds: 5,
    timeoutMs: o.timeoutMs,
    blockMs: 6000,
    sampleMs: 1000,
    sampler: async () => ({ anon: 0, rss: 0, pids: [] }),
    signal: o.signal,
    serverExited: o.target.server.exited,
  });
}

// --heap: watch the JavaScript heap of a Node.js server through its inspector, and name what grew.
//
// The Node processes of the server's tree are started with the inspector on a loopback port the system
// chooses (NODE_OPTIONS=--inspect=127.0.0.1:0), so that wrappers such as npx work; each says where it
// listens on stderr, and only there (--inspect-publish-uid=stderr): by default the inspector also hands
// its address, the key to running code in the server, to any local program that asks its port over HTTP.
// The server's stderr is a pipe only mcp-hammer reads, and the lines that hold the address are never
// quoted from it. After the handshake mcp-hammer connects to them all, and at the first block boundary
// keeps the one whose CPU time grew most under load: the process that serves the requests (npm's own
// process, a shell or a launcher stays idle).
//
// Then, at every block boundary (no request in flight): a forced full GC and the heap size after it, a
// series far cleaner than the process's memory. The GC comes at every boundary, never at some only: a
// forced GC also shrinks V8's young generation, which then grows back by tens of MB over the next
// thousands of requests, and floors read sometimes after one and sometimes not would climb like a leak.
// Read after a GC every time, the process memory floors stay as comparable as they were without --heap. Inside the warm-up, one heap snapshot marks which objects
// exist. After the run, a short probe repeats the same requests with allocation tracking on (and V8's
// optimised code dropped, so that inlined functions keep their own names), and a last snapshot shows every
// object that appeared since the baseline and survived, where the probe's copies were allocated.
// The costly parts (tracking, snapshots) stay out of the measured run.
import { connectInspector, listedOverHttp, loopbackAddress, type Inspector } from './inspector.js';
import { snapshotParser, type Snapshot } from './snapshot.js';
import { heapGrowth, highestObjectId } from './diff.js';
import type { HeapResults } from '../results.js';
import { keepSecret } from '../report/redact.js';
import { finished, hammer } from '../load/closedloop.js';
import type { Call } from '../requests/calls.js';
import type { Target } from '../server/open.js';

/** Below this a group of new objects is noise (a clean SDK server leaves well under it; see the tests). */
export const MIN_GROWTH_BYTES = 256 * 1024;

/** Heap measurements after the baseline before a run that lasts until decided may stop. */
const FLOORS_AFTER_BASELINE = 6;

// The inspector's messages, anywhere in a line: `Starting inspector on … failed` ends without a newline,
// so the next message of the process (or the server's next line) is glued to it.
const INSPECTOR_LINES = /Debugger listening on |Debugger ending on |For help, see: https:\/\/nodejs\.org\/en\/docs\/inspector|Debugger attached\.|Waiting for the debugger to disconnect|Starting inspector on /;
/** An inspector's address in any other words, such as a server logging inspector.url(). */
const INSPECTOR_ADDRESS = /wss?:\/\/\S+\/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

export interface ProbeOptions {
  target: Target;
  /** The call for request number i of the whole run (the probe goes on from `requests`). */
  callFor: (i: number) => Call;
  requests: number;
  concurrency: number;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface HeapWatch {
  /**
   * Given to openTarget: the environment with the inspector on, the stderr listener finding it, and which
   * stderr lines never to quote (any holding an inspector's address).
   */
  spawn: { env: NodeJS.ProcessEnv; onStderr: (text: string) => void; hideStderrLine: (line: string) => boolean };
  /**
   * After the handshake. `watching` is false when there is no Node.js process to watch; the warnings say
   * so, or that an inspector publishes its address over HTTP after all.
   */
  attach(): Promise<{ watching: boolean; warnings: string[] }>;
  /**
   * At a block boundary, with no request in flight: the heap after a forced GC, and the baseline snapshot
   * if `baseline` and it has not been taken yet. `requests` counts from the start of the load.
   */
  atFloor(p: { requests: number; baseline: boolean }): Promise<void>;
  /**
   * Whether a run that lasts until decided may stop: the baseline snapshot is taken and the heap measured at
   * a few floors since, or there is nothing to watch. A leak decided before then would have no growth list.
   */
  ready(): boolean;
  /** After a run that finished: the probe, the end snapshot and what grew. Null when not watching. */
  finish(o: ProbeOptions): Promise<HeapResults | null>;
  /** After a run that ended early: what was measured so far, saying why it stops there. Null when not watching. */
  partial(why: string): HeapResults | null;
  /** Close every inspector connection (before the server is ended: Node waits for a debugger at exit). */
  close(): void;
}

interface Candidate {
  url: string;
  inspector: Inspector;
  pid: number;
  cpu: number;
}

export function heapWatch(env: NodeJS.ProcessEnv = process.env): HeapWatch {
  const urls: string[] = [];
  /** The random paths of the addresses seen: the secret part. */
  const secrets: string[] = [];
  let line = '';
  let candidates: Candidate[] = [];
  let chosen: Candidate | null = null;
  let sinceId = 0;
  let gcMs = 0;
  let snapshotMs = 0;
  const results: HeapResults = {
    signal: 'JavaScript heap and ArrayBuffers of the process serving the requests, after a forced full GC',
    series: [], probeRequests: 0, growth: [], minBytes: MIN_GROWTH_BYTES, seconds: { snapshots: 0, gc: 0, probe: 0 },
  };

  const stop = (why: string) => {
    if (!results.problem) results.problem = why;
    chosen = null;
  };

  const done = () => {
    results.seconds = { snapshots: round(snapshotMs / 1000), gc: round(gcMs / 1000), probe: results.seconds.probe };
    return results;
  };

  const onStderr = (text: string) => {
    line = (line + text).slice(-4096);
    const lines = line.split('\n');
    line = lines.pop() ?? '';
    for (const l of lines) {
      const m = /Debugger listening on (ws:\/\/\S+)/.exec(l);
      if (!m) continue;
      const secret = m[1].slice(m[1].lastIndexOf('/') + 1);
      secrets.push(secret);
      keepSecret(secret);
      if (loopbackAddress(m[1])) urls.push(m[1]);
    }
  };

  const hideStderrLine = (l: string) => INSPECTOR_LINES.test(l) || INSPECTOR_ADDRESS.test(l) || secrets.some((s) => l.includes(s));

  const choose = async () => {
    if (candidates.length > 1) {
      await Promise.all(candidates.map(async (c) => {
        try {
          const now = await cpuOf(c.inspector);
          c.cpu = now.cpu - c.cpu;
        } catch {
          c.cpu = -1;
        }
      }));
      candidates.sort((a, b) => b.cpu - a.cpu);
    }
    chosen = candidates[0];
    for (const c of candidates.slice(1)) c.inspector.close();
    candidates = [chosen];
    results.pid = chosen.pid;
    await chosen.inspector.send('HeapProfiler.enable');
  };

  const heapAfterGc = async (inspector: Inspector): Promise<number> => {
    const t = performance.now();
    try {
      return await collectAndMeasure(inspector);
    } finally {
      gcMs += performance.now() - t;
    }
  };

  const snapshot = async (inspector: Inspector): Promise<Snapshot> => {
    const t = performance.now();
    try {
      return await takeSnapshot(inspector);
    } finally {
      snapshotMs += performance.now() - t;
    }
  };

  return {
    spawn: {
      // Last, so that they win over the user's NODE_OPTIONS (within it, the last value of a flag counts).
      // A flag on the server's own command line wins over both: see attach.
      env: { ...env, NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:0 --inspect-publish-uid=stderr`.trim() },
      onStderr,
      hideStderrLine,
    },

    async attach() {
      const found = await Promise.all(urls.map(attachTo));
      candidates = found.filter((c): c is Candidate => c !== null);
      if (candidates.length === 0) {
        results.problem = 'no Node.js process in the server tree opened an inspector';
        return { watching: false, warnings: ['--heap works on Node.js servers only, and no Node.js process of this server opened an inspector: the test runs without it'] };
      }
      // A server started with its own --inspect-publish-uid (stderr,http) lists its address over HTTP
      // whatever mcp-hammer asks. That was its own choice; the user is told, and the run goes on.
      const listed = await Promise.all(candidates.map((c) => listedOverHttp(c.url)));
      const warnings = candidates.filter((_, i) => listed[i]).map((c) => `the inspector of process ${c.pid} publishes its address over HTTP `
        + '(its own --inspect-publish-uid overrides mcp-hammer\'s): while it runs, any program on this machine can read it and run code in the server');
      return { watching: true, warnings };
    },

    async atFloor(p) {
      if (candidates.length === 0 || results.problem) return;
      try {
        if (!chosen) await choose();
        const inspector = chosen!.inspector;
        const bytes = await heapAfterGc(inspector);
        results.series.push([p.requests, bytes]);
        if (!sinceId && p.baseline) {
          sinceId = highestObjectId(await snapshot(inspector));
          results.baseline = { requests: p.requests, bytes };
        }
      } catch (err) {
        stop(`heap profiling stopped: ${(err as Error).message}`);
      }
    },

    ready() {
      if (candidates.length === 0 || results.problem) return true;
      const since = results.baseline ? results.series.filter(([requests]) => requests > results.baseline!.requests).length : 0;
      return since >= FLOORS_AFTER_BASELINE;
    },

    async finish(o) {
      if (candidates.length === 0) return null;
      if (!chosen || results.problem) return done();
      if (!sinceId) {
        stop('the run ended before the heap baseline was taken');
        return done();
      }
      const inspector = chosen.inspector;
      try {
        const trackedSince = await trackAllocations(inspector);
        const t = performance.now();
        const probe = await probeLoad(o, probeRequests(o.requests - results.baseline!.requests));
        results.seconds.probe = round((performance.now() - t) / 1000);
        results.probeRequests = probe.requests;
        if (!finished(probe.stopReason)) {
          stop(`the probe after the run did not finish (${probe.stopReason})`);
          return done();
        }
        const bytes = await heapAfterGc(inspector);
        const requests = o.requests + probe.requests;
        results.end = { requests, bytes };
        const end = await snapshot(inspector);
        const since = Math.max(1, requests - results.baseline!.requests);
        results.growth = heapGrowth(end, sinceId, { trackedSince, minBytes: MIN_GROWTH_BYTES, top: 5, cwd: process.cwd() })
          .map((g) => ({ ...g, perRequest: Math.round((g.bytes / since) * 10) / 10 }));
      } catch (err) {
        stop(`heap profiling stopped: ${(err as Error).message}`);
      }
      return done();
    },

    partial(why) {
      if (candidates.length === 0) return null;
      stop(why);
      return done();
    },

    close() {
      for (const c of candidates) c.inspector.close();
      candidates = [];
      chosen = null;
    },
  };
}

/** Enough requests for the allocation stacks of a leak every few dozen calls, bounded. */
function probeRequests(measured: number): number {
  return Math.min(2000, Math.max(300, Math.round(measured / 20)));
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** A forced full GC, then the heap and the ArrayBuffers it keeps. */
async function collectAndMeasure(inspector: Inspector): Promise<number> {
  await inspector.send('HeapProfiler.collectGarbage', {}, 60_000);
  // The memory of ArrayBuffers (Buffers) lies outside the JavaScript heap, but is kept alive by it: a
  // Buffer kept per call must count, or this signal would call such a leak flat.
  const r = await inspector.send('Runtime.evaluate', {
    expression: '(() => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; })()', returnByValue: true,
  }, 10_000);
  return r.result.value as number;
}

async function takeSnapshot(inspector: Inspector): Promise<Snapshot> {
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

async function cpuOf(inspector: Inspector): Promise<{ pid: number; cpu: number }> {
  const r = await inspector.send('Runtime.evaluate', {
    expression: '(() => { const u = process.cpuUsage(); return [process.pid, u.user + u.system]; })()',
    returnByValue: true,
  }, 5000);
  const [pid, cpu] = r.result.value as [number, number];
  return { pid, cpu };
}

/**
 * Turn allocation tracking on, so that the probe's objects carry the stack that allocated them; returns
 * the first object id numbered after tracking began.
 */
async function trackAllocations(inspector: Inspector): Promise<number> {
  // Allocation stacks are kept by address. V8 moves a stack along with its object only while the
  // object has no snapshot id, and while tracking, the inspector numbers every live object after a
  // full GC every 50 ms: an object that compaction moves after that loses its stack. Most did
  // (measured: all but a few dozen of ~450 tracked arrays, in most runs). Without compaction
  // nothing that survived a full GC moves again; the server is ended after the probe, so it may run
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

/** The probe: the run's requests again, for a few seconds, with allocation tracking on. */
function probeLoad(o: ProbeOptions, maxRequests: number) {
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

/** Connect to one inspector and read its process's CPU time; null for a process gone or not answering. */
async function attachTo(url: string): Promise<Candidate | null> {
  try {
    const inspector = await connectInspector(url, 2000);
    try {
      return { url, inspector, ...(await cpuOf(inspector)) };
    } catch {
      inspector.close();
    }
  } catch {
    // a process that has gone, or an inspector that does not answer
  }
  return null;
}

// The closed loop's blocks: what the loop takes and gives (HammerOptions, HammerResult, the floors), the
// state of one run, memory sampled on a timer with progress and the silence check, and at each block
// boundary the gate closed, the requests in flight let finish, the floor taken and the look made.
import type { Call } from '../requests/calls.js';
import type { Connection } from '../transport/connection.js';
import type { Sampler } from '../sampling/tree.js';
import type { Exit } from '../server/process.js';
import type { Histogram } from './latency.js';
import type { Refusals } from '../transport/throttled.js';
import { percent } from './testerload.js';
import type { ErrorCounts, HandleCounts, LatencySummary, StopReason, TesterLoad } from '../results.js';

/** One memory reading: [seconds since start, requests completed, leak-signal bytes, RSS bytes]. */
export type Sample = [number, number, number, number];

/** The lowest reading of a block, taken with no request in flight at its end. */
export interface Floor {
  seconds: number;
  requests: number;
  bytes: number;
  rss: number;
  /** The tree's handles at the floor, when HammerOptions.handles counts them. */
  handles?: HandleCounts;
  /** The live heap after a forced GC at the floor, when atFloor measures it. */
  heap?: number;
  /** HammerOptions.counts at the floor: cumulative. */
  counts?: number[];
}

/** The load ran its course: it was not cut short by the user or the server. */
export const finished = (r: StopReason): boolean => r === 'requests' || r === 'duration' || r === 'decided';

export interface HammerOptions {
  conn: Connection;
  /** The call for request number i (the cache test makes every one different). */
  callFor: (i: number) => Call;
  concurrency: number;
  maxRequests?: number;
  maxSeconds?: number;
  timeoutMs: number;
  /** The length of a block; a function when it changes as the run goes (the forced GCs' cost). */
  blockMs: number | (() => number);
  /** Also end a block after this many requests (for runs bounded by count, whose length in time is unknown). */
  blockRequests?: number;
  sampleMs: number;
  sampler: Sampler;
  signal?: AbortSignal;
  serverExited: Promise<Exit>;
  onProgress?: (p: Progress) => void;
  /**
   * Called at each block boundary, with no request in flight, before the floor is read: the live heap after
   * a forced GC, kept with the floor (undefined: not measured).
   */
  atFloor?: (p: { requests: number; fraction: number; seconds: number }) => Promise<number | undefined>;
  /**
   * Called after each floor with every floor so far: `stop` ends the run as decided; `note` is shown with
   * the progress (what the run has ruled out so far).
   */
  look?: (floors: Floor[]) => { stop: boolean; note?: string };
  /** Called at each floor only (never beside the other samples) with the tree's pids as last sampled. */
  handles?: (pids: number[]) => HandleCounts | null;
  /** What the load has done so far, by kind (calls made of each call, what the clients did): kept with each floor. */
  counts?: () => number[];
  /** Called at every block boundary once the floor is taken: the next block may load differently. */
  nextBlock?: () => void;
  now?: () => number;
}

export interface Progress {
  seconds: number;
  requests: number;
  /** 0..1 of the run's budget (requests or time, whichever is nearer). */
  fraction: number;
  bytes: number;
  rss: number;
  /** What the last look said. */
  note?: string;
}

export interface HammerResult {
  requests: number;
  ok: number;
  /** Requests the client mix gave up on (cancelled, hung up on): neither answered nor failed. */
  abandoned: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  errors: ErrorCounts;
  errorCount: number;
  /** The errors a rate limiter gave, with the first of each form. */
  refusals: Refusals;
  samples: Sample[];
  floors: Floor[];
  stopReason: StopReason;
  exit?: Exit;
  /** How busy the tester itself was, and the server next to it. */
  tester: TesterLoad;
}

/** The state of one run, shared by the request pump, the sampling and the block boundaries. */
export interface Run {
  clock: () => number;
  /** The run's clock: time spent in atFloor (heap snapshots, forced GCs) is left out. */
  now(): number;
  start: number;
  paused: number;
  pausing: boolean;
  stopReason?: StopReason;
  exit?: Exit;
  stop(reason: StopReason): void;
  whenStopped: Promise<void>;
  issued: number;
  done: number;
  ok: number;
  abandoned: number;
  errorCount: number;
  /** Answers received (for the silence check, read on each tick rather than the clock on each answer). */
  answers: number;
  hist: Histogram;
  errors: ErrorCounts;
  refusals: Refusals;
  /** Closed at a block boundary: no request is sent until the floor has been taken. */
  gateClosed: boolean;
  /** Requests sent and not yet recorded. */
  active: number;
  nextBlockAt: number;
  blockFull: (() => void) | null;
  drained: (() => void) | null;
  allSettled: (() => void) | null;
}

/** Memory sampled on a timer (with progress and the silence check), and the floor of each block. */
export function memoryWatch(o: HammerOptions, run: Run) {
  const samples: Sample[] = [];
  const floors: Floor[] = [];
  let blockMin = Infinity;
  let last: Sample = [0, 0, 0, 0];
  let pids: number[] = [];
  let sampling = false;
  let answersSeen = 0;
  let lastAnswerAt = run.start;
  let firstCpu: { t: number; cpu: number } | undefined;
  let lastCpu: { t: number; cpu: number } | undefined;
  let note: string | undefined;
  const wallStart = run.clock();

  const take = async (): Promise<Sample> => {
    const m = await o.sampler();
    pids = m.pids;
    const s: Sample = [(run.now() - run.start) / 1000, run.done, m.anon, m.rss];
    samples.push(s);
    if (m.cpuSeconds !== undefined) {
      lastCpu = { t: (run.clock() - wallStart) / 1000, cpu: m.cpuSeconds };
      firstCpu ??= lastCpu;
    }
    last = s;
    if (m.anon < blockMin) blockMin = m.anon;
    return s;
  };

  const progress = (): Progress => {
    const seconds = (run.now() - run.start) / 1000;
    const fractions = [o.maxSeconds ? seconds / o.maxSeconds : 0, o.maxRequests ? run.done / o.maxRequests : 0];
    return { seconds, requests: run.done, fraction: Math.min(1, Math.max(...fractions)), bytes: last[2], rss: last[3], note };
  };

  return {
    samples,
    floors,
    progress,
    /** Periodic sampling, progress and the silence check, on one timer. */
    async tick() {
      if (sampling || run.stopReason || run.pausing) return;
      sampling = true;
      try {
        await take();
      } finally {
        sampling = false;
      }
      const t = run.now();
      if (run.answers !== answersSeen) {
        answersSeen = run.answers;
        lastAnswerAt = t;
      }
      if (o.maxSeconds !== undefined && t - run.start >= o.maxSeconds * 1000) run.stop('duration');
      if (run.errors.timeout && t - lastAnswerAt > o.timeoutMs) run.stop('hung');
      o.onProgress?.(progress());
    },
    /** The block's floor: its lowest reading, the last taken now with nothing in flight; then the look. */
    async floor(heap: number | undefined) {
      while (sampling) await new Promise((r) => setTimeout(r, 1));
      const s = await take();
      const handles = o.handles?.(pids) ?? undefined;
      const counts = o.counts?.();
      floors.push({
        seconds: s[0], requests: s[1], bytes: Math.min(blockMin, s[2]), rss: s[3], ...(handles && { handles }), ...(heap !== undefined && { heap }), ...(counts && { counts }),
      });
      blockMin = Infinity;
      const seen = o.look?.(floors);
      if (seen) note = seen.note;
      if (seen?.stop) run.stop('decided');
    },
    /** From the first to the last sample that knew the tree's CPU time; a second at least, for precision. */
    serverCpuPercent: () => (firstCpu && lastCpu && lastCpu.t - firstCpu.t >= 1
      ? percent(Math.max(0, lastCpu.cpu - firstCpu.cpu), lastCpu.t - firstCpu.t) : undefined),
  };
}

/** Block boundaries: close the gate, wait for in-flight requests to finish, take the floor, open the gate. */
export async function blockBoundaries(o: HammerOptions, run: Run, memory: ReturnType<typeof memoryWatch>, fill: () => void): Promise<void> {
  while (!run.stopReason) {
    const quota = new Promise<void>((r) => { run.blockFull = r; });
    run.nextBlockAt = o.blockRequests ? run.done + o.blockRequests : Infinity;
    const blockMs = typeof o.blockMs === 'number' ? o.blockMs : o.blockMs();
    await Promise.race([new Promise((r) => setTimeout(r, blockMs)), quota, run.whenStopped]);
    run.blockFull = null;
    if (run.stopReason) break;
    run.gateClosed = true;
    if (o.conn.inFlight() > 0) {
      const quiet = new Promise<void>((r) => { run.drained = r; });
      // A slow call must not stall the run: after a second the floor is taken with it still in flight.
      await Promise.race([quiet, run.whenStopped, new Promise((r) => setTimeout(r, Math.min(o.timeoutMs, 1000)))]);
      run.drained = null;
    }
    if (o.conn.settle && !run.stopReason) await o.conn.settle();
    let heap: number | undefined;
    if (!run.stopReason && o.atFloor) {
      const pausedAt = run.clock();
      run.pausing = true;
      const { fraction, seconds } = memory.progress();
      heap = await o.atFloor({ requests: run.done, fraction, seconds });
      run.pausing = false;
      run.paused += run.clock() - pausedAt;
    }
    if (!run.stopReason) await memory.floor(heap);
    o.nextBlock?.();
    run.gateClosed = false;
    fill();
  }
}

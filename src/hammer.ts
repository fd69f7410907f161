// The load loop: keeps `concurrency` requests in flight, pauses at block boundaries to let them finish and
// record a memory floor, samples memory on a fixed interval, and stops on count, time, interruption, the
// server's exit or the server going silent. It returns a plain result; it never prints.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import type { Call } from './calls.js';
import type { Connection, Message, Outcome } from './client.js';
import type { Sampler } from './memory.js';
import type { Exit } from './server.js';
import { Histogram, type LatencySummary } from './latency.js';

export type ErrorClass = 'jsonrpc' | 'isError' | 'resultError' | 'timeout' | 'transport' | 'http';

export interface ErrorCount {
  count: number;
  samples: string[];
}

/** One memory reading: [seconds since start, requests completed, leak-signal bytes, RSS bytes]. */
export type Sample = [number, number, number, number];

/** The lowest reading of a block, taken with no request in flight at its end. */
export interface Floor {
  seconds: number;
  requests: number;
  bytes: number;
  rss: number;
}

export type StopReason = 'done' | 'interrupted' | 'exited' | 'hung';

export interface HammerOptions {
  conn: Connection;
  /** The call for request number i (the cache test makes every one different). */
  callFor: (i: number) => Call;
  concurrency: number;
  maxRequests?: number;
  maxSeconds?: number;
  timeoutMs: number;
  blockMs: number;
  /** Also end a block after this many requests (for runs bounded by count, whose length in time is unknown). */
  blockRequests?: number;
  sampleMs: number;
  sampler: Sampler;
  signal?: AbortSignal;
  serverExited: Promise<Exit>;
  onProgress?: (p: Progress) => void;
  /** Called at each block boundary, with no request in flight, before the floor is read (--heap). */
  atFloor?: (p: { requests: number; fraction: number }) => Promise<void>;
  now?: () => number;
}

export interface Progress {
  seconds: number;
  requests: number;
  /** 0..1 of the run's budget (requests or time, whichever is nearer). */
  fraction: number;
  bytes: number;
  rss: number;
}

export interface HammerResult {
  requests: number;
  ok: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latency: LatencySummary;
  errors: Partial<Record<ErrorClass, ErrorCount>>;
  errorCount: number;
  samples: Sample[];
  floors: Floor[];
  stopReason: StopReason;
  exit?: Exit;
  /** How busy the tester itself was, and the server next to it. */
  tester: TesterLoad;
}

/** Percentages are of one core, over the run. The last three are known on Linux only. */
export interface TesterLoad {
  /** CPU of the whole tester process (its event loop, garbage collector threads, file reads). */
  cpuPercent: number;
  loopDelayP99Ms: number;
  /** Time the event-loop thread ran: at ~100% it cannot send requests any faster. */
  loopPercent?: number;
  /** Time the event-loop thread was ready to run but waiting for a CPU: the machine is busy with other work. */
  cpuWaitPercent?: number;
  /** CPU of the server's process tree. */
  serverCpuPercent?: number;
}

/** How an answer counts: ok, or one of the error classes. */
export function classify(outcome: Outcome): ErrorClass | null {
  if (outcome.kind === 'timeout') return 'timeout';
  if (outcome.kind === 'closed') return 'transport';
  // Over HTTP: a status other than 2xx (429 among them), or no HTTP answer at all (status 0).
  if (outcome.http && (outcome.http.status < 200 || outcome.http.status > 299)) return 'http';
  const msg = outcome.message;
  if (msg.error) return 'jsonrpc';
  const result = msg.result;
  if (result && typeof result === 'object') {
    if (result.isError === true) return 'isError';
    // Not in the spec, but seen in real servers: an error object inside a successful result.
    if (result.error) return 'resultError';
  }
  return null;
}

export function describeError(outcome: Outcome): string {
  if (outcome.kind === 'timeout') return 'no answer within the timeout';
  if (outcome.kind === 'closed') return 'connection closed';
  const msg: Message = outcome.message;
  if (outcome.http && classify(outcome) === 'http') {
    const { status, retryAfter } = outcome.http;
    return `${status ? `HTTP ${status} ` : ''}${msg.error?.message ?? ''}${retryAfter ? ` (Retry-After: ${retryAfter})` : ''}`.slice(0, 200);
  }
  if (msg.error) return `${msg.error.code} ${msg.error.message}`.slice(0, 200);
  const r = msg.result;
  if (r?.isError) return String(r.content?.find?.((c: any) => c?.type === 'text')?.text ?? 'isError').slice(0, 200);
  return JSON.stringify(r?.error).slice(0, 200);
}

export async function hammer(o: HammerOptions): Promise<HammerResult> {
  const clock = o.now ?? (() => performance.now());
  // Time spent in atFloor (heap snapshots, forced GCs) is not part of the run: the run keeps its blocks,
  // its warm-up and its length in load, and the pauses are reported by whoever made them.
  let paused = 0;
  let pausing = false;
  const now = () => clock() - paused;
  const start = now();
  const hist = new Histogram();
  const errors: Partial<Record<ErrorClass, ErrorCount>> = {};
  const samples: Sample[] = [];
  const floors: Floor[] = [];
  let issued = 0;
  let done = 0;
  let ok = 0;
  let errorCount = 0;
  let stopReason: StopReason | undefined;
  let exit: Exit | undefined;
  // For the silence check: answers are counted here and looked at on each tick, which saves reading the
  // clock on every answer.
  let answers = 0;
  let answersSeen = 0;
  let lastAnswerAt = start;
  let blockMin = Infinity;
  let last: Sample = [0, 0, 0, 0];

  const cpuStart = process.cpuUsage();
  // Shares of CPU are taken over wall-clock time, pauses included: the CPU counters do not pause.
  const wallStart = clock();
  const threadStart = loopThreadTimes();
  let firstCpu: { t: number; cpu: number } | undefined;
  let lastCpu: { t: number; cpu: number } | undefined;
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();

  let stopped!: () => void;
  const whenStopped = new Promise<void>((r) => { stopped = r; });
  const stop = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    stopped();
  };
  const onAbort = () => stop('interrupted');
  o.signal?.addEventListener('abort', onAbort);
  if (o.signal?.aborted) stop('interrupted');
  o.serverExited.then((e) => {
    exit = e;
    stop('exited');
    o.conn.close();
  });

  // The gate closes at a block boundary: no request is sent until the floor has been taken.
  let gateClosed = false;
  let drained: (() => void) | null = null;
  let blockFull: (() => void) | null = null;
  let nextBlockAt = Infinity;

  const record = (outcome: Outcome) => {
    done++;
    if (outcome.kind === 'answer') {
      answers++;
      hist.record(outcome.latencyMs);
    }
    const cls = classify(outcome);
    if (cls === null) {
      ok++;
      return;
    }
    errorCount++;
    const e = errors[cls] ?? (errors[cls] = { count: 0, samples: [] });
    e.count++;
    if (e.samples.length < 3) e.samples.push(describeError(outcome));
  };

  const budgetLeft = () => stopReason === undefined && (o.maxRequests === undefined || issued < o.maxRequests);

  // The loop itself: every outcome sends the next request, straight from the callback, so that there is no
  // promise, no async function and no microtask per request (measured against the null server at 64 in
  // flight: 9% less CPU per request and 8% more requests per second than awaiting workers; see bench/).
  // `active` counts requests sent and not yet recorded.
  let active = 0;
  let allSettled: (() => void) | null = null;
  const fill = () => {
    while (active < o.concurrency && !gateClosed && budgetLeft()) {
      active++;
      const call = o.callFor(issued++);
      o.conn.send(call.method, call.paramsJson, onOutcome);
    }
  };
  const onOutcome = (outcome: Outcome) => {
    active--;
    record(outcome);
    if (done >= nextBlockAt && blockFull) blockFull();
    // The connection is gone (the server closed its stdout or exited): every further request would fail.
    if (outcome.kind === 'closed') stop('exited');
    if (o.maxRequests !== undefined && done >= o.maxRequests) stop('done');
    if (drained && o.conn.inFlight() === 0) drained();
    fill();
    if (active === 0) {
      if (!budgetLeft() && !gateClosed) stop('done');
      allSettled?.();
    }
  };

  const takeSample = async (): Promise<Sample> => {
    const m = await o.sampler();
    const s: Sample = [(now() - start) / 1000, done, m.anon, m.rss];
    samples.push(s);
    if (m.cpuSeconds !== undefined) {
      lastCpu = { t: (clock() - wallStart) / 1000, cpu: m.cpuSeconds };
      firstCpu ??= lastCpu;
    }
    last = s;
    if (m.anon < blockMin) blockMin = m.anon;
    return s;
  };

  // Periodic sampling, progress and the silence check, on one timer.
  let sampling = false;
  const ticker = setInterval(async () => {
    if (sampling || stopReason || pausing) return;
    sampling = true;
    try {
      await takeSample();
    } finally {
      sampling = false;
    }
    const t = now();
    if (answers !== answersSeen) {
      answersSeen = answers;
      lastAnswerAt = t;
    }
    if (o.maxSeconds !== undefined && t - start >= o.maxSeconds * 1000) stop('done');
    if (errors.timeout && t - lastAnswerAt > o.timeoutMs) stop('hung');
    o.onProgress?.(progress());
  }, o.sampleMs);

  const progress = (): Progress => {
    const seconds = (now() - start) / 1000;
    const fractions = [
      o.maxSeconds ? seconds / o.maxSeconds : 0,
      o.maxRequests ? done / o.maxRequests : 0,
    ];
    return { seconds, requests: done, fraction: Math.min(1, Math.max(...fractions)), bytes: last[2], rss: last[3] };
  };

  // Block boundaries: close the gate, wait for in-flight requests to finish, take the floor, open the gate.
  const blocks = (async () => {
    while (!stopReason) {
      const quota = new Promise<void>((r) => { blockFull = r; });
      nextBlockAt = o.blockRequests ? done + o.blockRequests : Infinity;
      await Promise.race([new Promise((r) => setTimeout(r, o.blockMs)), quota, whenStopped]);
      blockFull = null;
      if (stopReason) break;
      gateClosed = true;
      if (o.conn.inFlight() > 0) {
        const quiet = new Promise<void>((r) => { drained = r; });
        // A slow call must not stall the run: after a second the floor is taken with it still in flight.
        await Promise.race([quiet, whenStopped, new Promise((r) => setTimeout(r, Math.min(o.timeoutMs, 1000)))]);
        drained = null;
      }
      if (!stopReason && o.atFloor) {
        const pausedAt = clock();
        pausing = true;
        await o.atFloor({ requests: done, fraction: progress().fraction });
        pausing = false;
        paused += clock() - pausedAt;
      }
      if (!stopReason) {
        while (sampling) await new Promise((r) => setTimeout(r, 1));
        const s = await takeSample();
        floors.push({ seconds: s[0], requests: s[1], bytes: Math.min(blockMin, s[2]), rss: s[3] });
        blockMin = Infinity;
      }
      gateClosed = false;
      fill();
    }
  })();

  fill();
  await whenStopped;
  clearInterval(ticker);
  await blocks;
  // Requests still in flight after a stop are not waited for beyond the timeout.
  if (active > 0) {
    await new Promise<void>((r) => {
      const timer = setTimeout(r, Math.min(o.timeoutMs, 2000));
      allSettled = () => {
        if (active > 0) return;
        clearTimeout(timer);
        r();
      };
    });
  }
  o.signal?.removeEventListener('abort', onAbort);
  if (stopReason === 'exited' && !exit) {
    exit = await Promise.race([o.serverExited, new Promise<undefined>((r) => setTimeout(r, 2000))]);
  }
  loopDelay.disable();

  const elapsed = (now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const threadEnd = loopThreadTimes();
  const percent = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 100) : 0);
  const wall = (clock() - wallStart) / 1000;
  const thread = threadStart && threadEnd ? {
    loopPercent: percent((threadEnd.runNs - threadStart.runNs) / 1e9, wall),
    cpuWaitPercent: percent((threadEnd.waitNs - threadStart.waitNs) / 1e9, wall),
  } : {};
  // From the first to the last memory sample that knew the tree's CPU time; a second at least, for precision.
  const server = firstCpu && lastCpu && lastCpu.t - firstCpu.t >= 1
    ? { serverCpuPercent: percent(Math.max(0, lastCpu.cpu - firstCpu.cpu), lastCpu.t - firstCpu.t) } : {};
  return {
    requests: done,
    ok,
    durationSeconds: elapsed,
    requestsPerSecond: elapsed > 0 ? done / elapsed : 0,
    latency: hist.summary(),
    errors,
    errorCount,
    samples,
    floors,
    stopReason: stopReason ?? 'done',
    exit,
    tester: {
      cpuPercent: elapsed > 0 ? Math.round(((cpu.user + cpu.system) / 1e6 / elapsed) * 100) : 0,
      loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
      ...thread,
      ...server,
    },
  };
}

/**
 * Time this process's event-loop thread has spent running and waiting to run, in nanoseconds, from
 * /proc/self/schedstat (the main thread's line; Linux only). process.cpuUsage() counts every thread, so it
 * cannot tell a saturated event loop from busy helper threads, and it cannot see the waiting.
 */
function loopThreadTimes(): { runNs: number; waitNs: number } | null {
  try {
    const [run, wait] = readFileSync('/proc/self/schedstat', 'latin1').split(' ').map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? { runNs: run, waitNs: wait } : null;
  } catch {
    return null;
  }
}

// What a run leaves behind, the shape of its results JSON: the stress tests fill it in, the verdicts and
// the report read it, the file keeps it. One shape per test, and the parts they are made of; the README's
// "Results JSON" table says what each field means. Nothing here imports the rest of mcp-hammer, so every
// part of it can name these shapes.
import { VERSION } from './version.js';

export type VerdictName = 'pass' | 'fail' | 'error' | 'interrupted';

export type Shape = 'flat' | 'rising' | 'levels off' | 'unclear' | 'too short';

// inputRequired: a 2026-07-28 server asked for client input (an input_required result, or -32021 for a
// capability mcp-hammer does not declare) instead of answering: neither a success nor throttling.
export type ErrorClass = 'jsonrpc' | 'isError' | 'resultError' | 'inputRequired' | 'timeout' | 'transport' | 'http';

export interface ErrorCount {
  count: number;
  samples: string[];
}

export type ErrorCounts = Partial<Record<ErrorClass, ErrorCount>>;

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  count: number;
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

export interface SessionStats {
  /** A new session every this many requests; undefined: one session for the run. */
  requestsPerSession?: number;
  /** Sessions whose initialize was answered. */
  opened: number;
  /** Sessions ended by mcp-hammer and acknowledged (DELETE answered, or the event stream closed). */
  ended: number;
  /** Sessions the server ended on its own (404 for the session id, or its event stream closed). */
  lost: number;
  /** DELETEs the server refused (e.g. 405): those sessions live on until the server expires them. */
  endRefused: number;
  /** The server gave no session id: every request stands alone. */
  stateless: boolean;
}

/**
 * Over HTTP in the 2026-07-28 era, which has no sessions: the HTTP connections. With --requests-per-session n
 * each connection carries n requests and is closed, as a fleet of stateless clients would.
 */
export interface ConnectionChurn {
  requestsPerConnection?: number;
  /** TCP connections opened, and closed after their n requests. */
  opened: number;
  closed: number;
}

export interface Growth {
  /** The kind of object: a constructor name (Array, Object, Map, a class), Closure, String, Buffer, ... */
  name: string;
  /** Bytes kept alive by the new objects of this kind (their retained size). */
  bytes: number;
  /** New objects of this kind; for a Map or Set, new entries. */
  count: number;
  /** Where most of them (by bytes) were allocated: the allocating function, outside Node's internals. */
  location?: string;
  function?: string;
  /** For closures: where the function itself is written. */
  definedAt?: string;
  /** How the largest of them is reached from the roots, e.g. "kept[4711]". */
  retainedBy?: string;
}

export interface HeapGrowth extends Growth {
  perRequest: number;
}

/** What --heap leaves in the results JSON, as `heap`. */
export interface HeapResults {
  /** The process whose heap was watched. */
  pid?: number;
  signal: string;
  /** The heap after a forced GC when the baseline snapshot was taken, and after the probe. */
  baseline?: { requests: number; bytes: number };
  end?: { requests: number; bytes: number };
  /** [requests, heap bytes after a forced GC] at block boundaries. */
  series: [number, number][];
  /** Requests of the probe after the run (allocation tracking on; not counted in the test's requests). */
  probeRequests: number;
  /** Objects new since the baseline and still alive, largest first; groups under minBytes left out. */
  growth: HeapGrowth[];
  minBytes: number;
  /** Time the server spent paused for mcp-hammer: snapshots, forced GCs, and the probe's length. */
  seconds: { snapshots: number; gc: number; probe: number };
  /** Why heap profiling stopped short, when it did. */
  problem?: string;
}

export type ThrottleStyle = 'http' | 'jsonrpc' | 'isError' | 'resultError';

export interface RetryHint {
  /** Where the server said it: the Retry-After header, a retryAfter field, or the message text. */
  source: 'Retry-After' | 'retryAfter' | 'text';
  seconds: number;
}

export interface Throttle {
  style: ThrottleStyle;
  code?: number | string;
  message: string;
  hint?: RetryHint;
}

export type StepPhase = 'baseline' | 'step' | 'hold';

/** One phase sent at a fixed rate: what was offered, what came back. */
export interface StepSummary {
  phase: StepPhase;
  offeredPerSecond: number;
  /** The rate the requests really went out at (below the offered rate when the tester fell behind). */
  sentPerSecond: number;
  sent: number;
  /** From the first send to the last answer (at least the length of the schedule). */
  seconds: number;
  answeredPerSecond: number;
  acceptedPerSecond: number;
  ok: number;
  throttled: number;
  /** Failures that are not throttling (answered). */
  errors: number;
  /** No answer: timed out, or the connection closed. */
  unanswered: number;
  /** Of every answer, throttled or not. */
  latencyMs: { p50: number; p95: number; max: number };
}

export interface Rejection {
  style: ThrottleStyle;
  code?: number | string;
  message: string;
  p95Ms: number;
  /** p95 of the calls let through in the same phases: what the machine's own delays look like meanwhile. */
  acceptedP95Ms: number;
  retryHint: RetryHint | null;
}

/** Everything the verdict needs, as written to the results JSON. */
export interface RateFindings {
  /** The highest rate the step-up was allowed to offer (--max-rate, or the built-in cap). */
  topRatePerSecond: number;
  baselineLatencyMs: { p50: number; p95: number };
  steps: StepSummary[];
  /**
   * The limit as a rate: calls let through per second while held above it; for a window or quota (none let
   * through while held), the burst over the window. Null when neither could be seen.
   */
  observedLimitPerSecond: number | null;
  /** Calls let through before the first refusal, beyond what the sustained limit explains. */
  burst: number | null;
  /**
   * For a window or quota: from the first call it counted to the first call let in again, which is the
   * window of a sliding window (a fixed window may be longer). Null for a rate limiter.
   */
  windowSeconds: number | null;
  rejection: Rejection | null;
  recoverySeconds: number | null;
  recoveryTimeoutSeconds: number;
  timeoutSeconds: number;
  exit?: { code: number | null; signal: string | null };
}


export interface CallRecord {
  method: string;
  tool?: string;
  arguments?: unknown;
  /** Cache test: the properties given a new value in every request. */
  varied?: string[];
}

export interface ServerRecord {
  /** Absent when mcp-hammer did not start the server (--url alone, or --pid). */
  command?: string;
  args?: string[];
  example: boolean;
  /** Over HTTP: the address (without its query), the transport, the -H header names (never values), --pid. */
  url?: string;
  transport?: 'streamable-http' | 'sse';
  headers?: string[];
  pid?: number;
  name?: string;
  version?: string;
  /** The protocol revision the run spoke, and its era: 'modern' (2026-07-28) or 'legacy' (2025). */
  protocolVersion?: string;
  era?: 'modern' | 'legacy';
  exit?: { code: number | null; signal: string | null };
}

/** What every test records. */
interface CommonResults {
  verdict: VerdictName;
  reasons: string[];
  warnings: string[];
  version: string;
  startedAt: string;
  server: ServerRecord;
  calls: CallRecord[];
  requests: number;
  durationSeconds: number;
  requestsPerSecond: number;
  latencyMs: LatencySummary;
  errors: ErrorCounts;
  stderrTail: string[];
  tester?: TesterLoad;
  /** Over HTTP: the MCP sessions opened and ended; in the 2026-07-28 era, the connections instead. */
  sessions?: SessionStats;
  connections?: ConnectionChurn;
  /** What the connection saw besides answers. */
  connection?: { unknownIds: number; notifications: number; serverRequests: Record<string, number>; largestMessageBytes: number };
  /** mcp-hammer hit a bug: its stack, for the report the user is asked to file. */
  bug?: string;
}

export interface MemorySection {
  signal: string;
  baseline: number;
  end: number;
  baselineRss: number;
  endRss: number;
  bytesPerRequest: number;
  firstHalfBytesPerRequest: number;
  secondHalfBytesPerRequest: number;
  bytesPerMillionRequests: number;
  shape: Shape;
  noise: number;
  /** The smallest growth per request the run could have called a leak (null when too short). */
  detectableBytesPerRequest: number | null;
  warmupRequests: number;
  levelsOffAt?: { bytes: number; requests: number };
  /** With --heap: the signal that decided the verdict ('process memory', 'heap after GC' or 'both'). */
  decidedBy?: string;
  /** With session churn: the growth per session opened and ended. */
  bytesPerSession?: number;
  /** [seconds, requests, bytes, rssBytes] */
  samples: [number, number, number, number][];
  /** Each block's floor: [requests, bytes], the series the verdict is computed from. */
  floors: [number, number][];
}

export interface MemoryResults extends CommonResults {
  test: 'memory';
  memory?: MemorySection;
  heap?: HeapResults;
}

export interface CacheResults extends CommonResults {
  test: 'cache';
  memory?: MemorySection;
  heap?: HeapResults;
  /** The flood's requests, each with an argument set never sent before. */
  uniqueKeys?: number;
  varied?: string[];
  bytesPerKey?: number;
  levelsOffAt?: { bytes: number; keys: number };
  projectedAtMillionKeys?: number;
  plainLeak?: boolean;
  control?: { requests: number; durationSeconds: number; bytesPerRequest: number; shape: Shape; errors: ErrorCounts };
}

export interface RateResults extends CommonResults, Partial<RateFindings> {
  test: 'ratelimit';
  throttled?: number;
  probes?: number;
}

export type Results = MemoryResults | CacheResults | RateResults;
export type TestName = Results['test'];

export const EXIT_CODES: Record<VerdictName, number> = { pass: 0, fail: 1, error: 2, interrupted: 130 };

/** A results object for a run that is starting; the test fills in what it measures. */
export function newResults<T extends TestName>(o: { test: T; command: string; serverArgs: string[]; example: boolean }): Extract<Results, { test: T }> {
  return {
    test: o.test,
    verdict: 'error',
    reasons: [],
    warnings: [],
    version: VERSION,
    startedAt: new Date().toISOString(),
    // Names and arguments only: the environment the server gets is never written anywhere.
    server: { ...(o.command ? { command: o.command, args: o.serverArgs } : {}), example: o.example },
    calls: [],
    requests: 0,
    durationSeconds: 0,
    requestsPerSecond: 0,
    latencyMs: { p50: 0, p95: 0, p99: 0, max: 0, count: 0 },
    errors: {},
    stderrTail: [],
  } as CommonResults & { test: T } as Extract<Results, { test: T }>;
}

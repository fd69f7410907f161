// What a run leaves behind, the shape of its results JSON: the stress tests fill it in, the verdicts and
// the report read it, the file keeps it. One shape per test, and the parts they are made of; the README's
// "Results JSON" table says what each field means. Nothing here imports the rest of mcp-hammer, so every
// part of it can name these shapes.
import { VERSION } from './version.js';

export type VerdictName = 'pass' | 'fail' | 'error' | 'interrupted';

/**
 * Why the load stopped: the --requests or the time limit was reached, the look after a block decided, the
 * user interrupted, the server exited (or closed the connection), or it stopped answering.
 */
export type StopReason = 'requests' | 'duration' | 'decided' | 'interrupted' | 'exited' | 'hung';

/** What the floors after warm-up look like; 'settling': warm-up has not ended, 'unclear': growth that is
 * neither steady nor stopped. */
export type Shape = 'flat' | 'rising' | 'levels off' | 'unclear' | 'settling' | 'too short';

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

/** Over HTTP in the 2026-07-28 era (no sessions): with --requests-per-session n, connections of n requests each. */
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

export interface HeapGrowth extends Growth { perRequest: number }

/** What --heap leaves in the results JSON, as `heap`. */
export interface HeapResults {
  /** The process whose heap was watched. */
  pid?: number;
  evidence: string;
  /** The heap after a forced GC when the baseline snapshot was taken, and after the trace. */
  baseline?: { requests: number; bytes: number };
  end?: { requests: number; bytes: number };
  /** [requests, heap bytes after a forced GC] at block boundaries. */
  series: [number, number][];
  /** Requests of the trace after the run (allocation tracking on; not counted in the test's requests). */
  traceRequests: number;
  /** Objects new since the baseline and still alive, largest first; groups under minBytes left out. */
  growth: HeapGrowth[];
  minBytes: number;
  /** Time the server spent paused for mcp-hammer: snapshots, forced GCs, and the trace's length. */
  seconds: { snapshots: number; gc: number; trace: number };
  /** Why heap profiling stopped short, when it did. */
  problem?: string;
}

export type ThrottleStyle = 'http' | 'jsonrpc' | 'isError' | 'resultError';

export interface RetryHint {
  /** Where the server said it: the Retry-After header, a retryAfter field, or the message text. */
  source: 'Retry-After' | 'retryAfter' | 'text';
  seconds: number;
  /** For a retryAfter field: where it sits in the answer, e.g. result.error.data.retryAfter. */
  field?: string;
}

export interface Throttle {
  style: ThrottleStyle;
  code?: number | string;
  message: string;
  hint?: RetryHint;
}

/** Memory and cache: the calls a rate limiter refused (told from the error samples of each class). */
export interface Throttling extends Omit<Throttle, 'hint'> {
  count: number;
  /** Of the run's requests, 0..1. */
  share: number;
  retryHint?: RetryHint;
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

export interface Rejection extends Omit<Throttle, 'hint'> {
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
  /** resources/read: the URI read (through a template: filled in). */
  uri?: string;
  /** resources/read through a URI template: the template. */
  template?: string;
  /** prompts/get: the prompt's name. */
  prompt?: string;
  arguments?: unknown;
  /** Arguments whose value came from the server's own answers: property -> where from ("path from list_directory"). */
  learnt?: Record<string, string>;
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
  /** What was measured: the process tree's memory, as named here. */
  evidence: string;
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
  /** With --heap: the evidence that decided the verdict ('process memory', 'heap after GC' or 'both'). */
  decidedBy?: string;
  /** With session churn: the growth per session opened and ended. */
  bytesPerSession?: number;
  /** [seconds, requests, bytes, rssBytes] */
  samples: [number, number, number, number][];
  /** Each block's floor: [requests, bytes, seconds], the series the verdict is computed from. */
  floors: [number, number, number][];
}

/** Why a memory or cache run stopped: decided, its --duration or --requests, or the --max-duration cap. */
export type RunEnd = StopReason | 'cap';
/** What each handle count is called: descriptors by kind (from /proc/PID/fd), threads, processes. */
export type HandleKind = 'files' | 'sockets' | 'pipes' | 'other' | 'threads' | 'processes';

/** The handles of the server's whole process tree at one block floor. */
export interface HandleCounts {
  /** Descriptors by what they point at: a path (regular files, directories, devices), socket:, pipe:, the rest (anon_inode: ...). */
  files: number;
  sockets: number;
  pipes: number;
  other: number;
  threads: number;
  processes: number;
  /** The most descriptors open in one process of the tree, and that process's soft limit on them (null: none or unknown). */
  mostFds: number;
  fdLimit: number | null;
  /** Names (comm) of the newest processes of the tree besides the one started, newest last. */
  newest: string[];
  /** Processes whose descriptors could not be listed (another user's: EACCES); their threads are still counted. */
  unreadable: number;
  /** What this reading cost the tester, in milliseconds. */
  ms: number;
}

export type HandleShape = 'flat' | 'rising' | 'levels off' | 'too short';

/** One handle count over the run, and how it was judged. */
export interface HandleKindSection {
  /** The count at the end of warm-up (the first floor if the run was too short) and at the end. */
  start: number;
  end: number;
  /** Theil-Sen slope of the floors after warm-up: handles per request. */
  perRequest: number;
  /** Scatter of the floors about that fit (robust standard deviation). */
  jitter: number;
  shape: HandleShape;
  leaking: boolean;
  /** [requests, count] at every block floor, warm-up included. */
  series: [number, number][];
}

/** `handles` in the results JSON of the memory and cache tests (Linux: needs /proc). */
export interface HandlesSection {
  kinds: Record<HandleKind, HandleKindSection>;
  warmupRequests: number;
  /** At the last floor: the most descriptors in one process, and its limit. */
  mostFds: number;
  fdLimit: number | null;
  /** Names of the newest processes of the tree at the last floor. */
  newest: string[];
  /** A line of the server's where it ran out of descriptors (EMFILE), from its answers or its stderr. */
  emfile?: string;
  /** Processes of the tree still running once the server itself had exited (mcp-hammer then ended them). */
  outlived: { pid: number; command: string }[];
  /** What counting cost per floor, in milliseconds. */
  costMs: { median: number; max: number };
}

export interface MemoryResults extends CommonResults {
  test: 'memory';
  stopReason?: RunEnd;
  /** The smallest leak the run ruled out, per request and (with churn) per session. */
  ruledOutBytesPerRequest?: number | null;
  ruledOutBytesPerSession?: number | null;
  throttling?: Throttling;
  memory?: MemorySection;
  heap?: HeapResults;
  handles?: HandlesSection;
}

export interface CacheResults extends CommonResults {
  test: 'cache';
  stopReason?: RunEnd;
  /** The smallest growth per new key the run ruled out. */
  ruledOutBytesPerKey?: number | null;
  throttling?: Throttling;
  memory?: MemorySection;
  heap?: HeapResults;
  handles?: HandlesSection;
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

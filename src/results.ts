// What a run leaves behind, the shape of its results JSON: the stress tests fill it in, the verdicts and
// the report read it, the file keeps it. One shape per test, and the parts they are made of; the README's
// results table (docs/results.md) says what each field means. Nothing here imports the rest of mcp-hammer,
// so every part of it can name these shapes; the sections of some tests are in results/.
import { VERSION } from './version.js';

import type { ErrorCounts, LatencySummary, Shape, StopReason, VerdictName } from './results/basics.js';
import type { HeapAfterGc, HeapResults } from './results/heap.js';
import type { RateFindings, Throttling } from './results/rate.js';
import type { HandlesSection } from './results/handles.js';
import type { ClientsSection } from './results/clients.js';

export type * from './results/basics.js';
export type * from './results/heap.js';
export type * from './results/rate.js';
export type * from './results/handles.js';
export type * from './results/clients.js';


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
  /** With the client mix: sessions left without DELETE, as clients that exit or forget do. */
  abandoned?: number;
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
  /** The runtime serving the requests, where the process tree tells it: 'node' or 'cpython'. */
  runtime?: 'node' | 'cpython';
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
  connection?: { unknownIds: number; notifications: number; serverRequests: Record<string, number>; largestMessageBytes: number;
    /** HTTP: every HTTP request sent, the calls and everything the clients send around them. */
    httpRequests?: number };
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
  /** With the heap after GC measured: the evidence that decided the verdict ('process memory', 'heap after GC' or 'both'). */
  decidedBy?: string;
  /** A Node.js server's heap after forced GCs, read through its inspector at every floor (not with --no-inspector). */
  heapAfterGc?: HeapAfterGc;
  /** With session churn: the growth per session opened and ended. */
  bytesPerSession?: number;
  /** [seconds, requests, bytes, rssBytes] */
  samples: [number, number, number, number][];
  /** Each block's floor: [requests, bytes, seconds], the series the verdict is computed from. */
  floors: [number, number, number][];
}

/** Why a memory or cache run stopped: decided, its --duration or --requests, or the --max-duration cap. */
export type RunEnd = StopReason | 'cap';
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
  /** The client mix and what it did (absent for a polite client). */
  clients?: ClientsSection;
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

// The heap sections of the results: what --heap names (`heap`, for a Node.js server from its heap
// snapshots, for a Python server from tracemalloc), and the heap after forced GCs that a Node.js server's
// memory verdict reads (`memory.heapAfterGc`).
import type { Shape } from './basics.js';

export interface Growth {
  /**
   * The kind of object: a constructor name (Array, Object, Map, a class), Closure, String, Buffer, ...
   * Python: the type most objects of the group are of (str, dict, a class), or (storage) for blocks with
   * no object of their own (a list's or dict's table).
   */
  name: string;
  /** Bytes kept alive by the new objects of this kind (their retained size); Python: the blocks' bytes. */
  bytes: number;
  /** New objects of this kind; for a Map or Set, new entries. Python: memory blocks. */
  count: number;
  /**
   * Where most of them (by bytes) were allocated: the allocating function, outside Node's internals.
   * Python: the group's line, the first of the server's own code on the allocation's traceback.
   */
  location?: string;
  function?: string;
  /** Python: the largest traceback of the group, file:line innermost first, library frames included. */
  trace?: string[];
  /** For closures: where the function itself is written. */
  definedAt?: string;
  /** How the largest of them is reached from the roots, e.g. "kept[4711]". */
  retainedBy?: string;
}

/** perRequest: bytes per request since the baseline (the cache test: per new key); countPerRequest likewise. */
export interface HeapGrowth extends Growth { perRequest: number; countPerRequest?: number }

/** What --heap leaves in the results JSON, as `heap`. */
export interface HeapResults {
  /** How it was measured: a Node.js heap through the inspector, or CPython's tracemalloc. */
  runtime: 'node' | 'cpython';
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
  /** Python: what tracemalloc kept and cost. */
  tracemalloc?: PyTracing;
}

/** Python: how tracemalloc ran, and what it cost the server. */
export interface PyTracing {
  /** The Python that served, and the frames kept per traceback. */
  python: string;
  frames: number;
  /** Bytes still allocated since tracing began at the end snapshot, and tracemalloc's own memory then. */
  tracedBytes?: number;
  overheadBytes?: number;
  /** Tracebacks too small to be sent (their bytes are not in `growth`). */
  omitted?: { tracebacks: number; bytes: number };
  /**
   * Requests per second after the run, in alternating bursts with tracing off and on (same server, same
   * calls): the slowdown tracemalloc causes. The run itself was traced from the baseline on.
   */
  slowdown?: { withoutTracing: number; withTracing: number; seconds: number };
}

/** The heap after forced GCs of the serving Node.js process: a second series, judged by the same rule. */
export interface HeapAfterGc {
  evidence: string;
  pid?: number;
  /** [requests, bytes] at every floor. */
  floors: [number, number][];
  /** The fit's level where the measured part begins, the last floor, and the trend after warm-up. */
  baseline: number;
  end: number;
  bytesPerRequest: number;
  shape: Shape;
  noise: number;
  warmupRequests: number;
  ruledOutBytesPerRequest: number | null;
  /** What each forced collection and reading took (ms), and the block length that kept them a small part of the run. */
  gcMs: { median: number; max: number };
  blockMs: number;
  /** Why the heap stopped being measured, when it did. */
  problem?: string;
}

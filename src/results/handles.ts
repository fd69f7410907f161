// The `handles` section of the memory and cache tests' results: open descriptors by kind, threads and
// processes of the server's tree at every floor, and how each count was judged.

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

// The memory test's `clients` section: the client mix the load used, what the clients did, and which call
// or behaviour the growth came from (judge/attribute.ts).

export interface ClientsSection {
  /** The mix as --clients takes it. */
  mix: string;
  /** What the clients did over the run: short sessions opened and how they ended, GET streams, and the rest. */
  events: { opened: number; abandoned: number; deleted: number; streams: number; dropped: number; cancelled: number; hungUp: number; refused: number };
  /** Cancelled calls the server answered all the same. */
  answeredAfterCancel?: number;
  /** Streamable HTTP (2025): whether the server offers a GET event stream. */
  getStream?: 'offered' | 'none' | 'unknown';
  /** The statuses the refused requests got, by what was wrong with them, e.g. { "unknown session id": { "404": 120 } }. */
  refusals?: Record<string, Record<string, number>>;
  /**
   * Abandoned sessions asked about again (a ping with the id): found freed (404) or still held, the youngest
   * freed and the oldest held (seconds since left); and the open sessions when the server refused a new one (503).
   */
  reclaim?: { probes: number; freed: number; held: number; youngestFreedSeconds?: number; oldestHeldSeconds?: number; capAt?: number };
  /** --session-timeout, as declared. */
  declaredSessionTimeoutSeconds?: number;
  /** What each call and behaviour cost, fitted on the evidence that decided, after warm-up. */
  attribution?: {
    evidence: string;
    blocks: number;
    /** The growth after warm-up, and the share of it the factors explain. */
    growth: number;
    explained: number;
    factors: { name: string; kind: 'call' | 'behaviour' | 'held'; unit: string; events: number; bytesPerEvent: number; stderr: number; bytes: number; established: boolean }[];
  };
  /**
   * After a leak: each behaviour tried alone (a burst between two quiet stretches): the events, the memory
   * still held after the second quiet stretch less what the calls keep, per event, and whether it leaks.
   */
  alone?: { name: string; unit: string; events: number; keptBytes: number; bytesPerEvent: number; stderr: number; leaks: boolean }[];
  /** How long trying the behaviours alone took, after the run's own duration. */
  aloneSeconds?: number;
  /** The counts at every floor, named: [requests, ...counts]. */
  counts: { names: string[]; floors: number[][] };
}

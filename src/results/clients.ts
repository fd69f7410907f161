// The memory test's `clients` section: the client mix the load used, what the clients did, and which call
// or behaviour the growth came from (judge/attribute.ts).

/** The event stream the client mix's clients keep open and drop (transport/streams.ts). */
export type StreamKind = 'GET' | 'subscriptions/listen' | 'SSE';

export interface ClientsSection {
  /** The mix as --clients takes it. */
  mix: string;
  /** What the clients did over the run: short sessions opened and how they ended, event streams, and the rest. */
  events: { opened: number; abandoned: number; deleted: number; streams: number; dropped: number; cancelled: number; hungUp: number; refused: number };
  /** Cancelled calls the server answered all the same. */
  answeredAfterCancel?: number;
  /** Whether the server offers the event stream clients keep open, and which: GET (2025), subscriptions/listen (2026-07-28), SSE. */
  getStream?: 'offered' | 'none' | 'unknown';
  streamKind?: StreamKind;
  /**
   * A server that serves both eras: the calls split between 2025-era session clients (legacy, with GET
   * streams) and 2026-07-28 ones (modern, with subscriptions/listen streams), and what each did.
   */
  eras?: { era: 'legacy' | 'modern'; events: ClientsSection['events']; refusals: NonNullable<ClientsSection['refusals']> }[];
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
   * After a leak: the calls alone (name 'calls'), then each behaviour tried alone (a burst and a quiet
   * stretch): the events, the memory still held after the quiet stretch less what the calls keep, per
   * event, whether it leaks; `skipped` says why one was not tried (the deadline came first).
   */
  alone?: { name: string; unit: string; events: number; keptBytes: number; bytesPerEvent: number; stderr: number; leaks: boolean; skipped?: string }[];
  /** How long trying the behaviours alone took, after the run's own duration. */
  aloneSeconds?: number;
  /** The counts at every floor, named: [requests, ...counts]. */
  counts: { names: string[]; floors: number[][] };
}

// What real clients do besides calling, as the memory test's load does it: long-lived sessions and short
// churned ones, most short ones abandoned without DELETE, GET event streams dropped and reopened, calls
// cancelled in flight, requests hung up on, and a trickle of refused requests. Real MCP servers leak most
// on these paths (abandoned sessions kept forever, cleanup hung on a response's 'finish', per-request state
// kept when a call is cancelled), and a perfectly polite client passes them all.
//
// The shares are the mix; `--clients` sets them. Each block of the run varies every share around its value
// (a seeded generator, so a run is repeatable), so that the growth can be told apart by behaviour and by
// call (judge/attribute.ts): with fixed shares every count would grow in step with the requests.
import { CannotRun } from '../errors.js';

/** The shares of a mix: see DEFAULT_MIX and the help text. */
export interface Mix {
  /** Long-lived sessions (2025 era over HTTP), each with its GET stream where the server offers one. */
  sessions: number;
  /** % of calls made on short sessions, opened and ended as the run goes. */
  churn: number;
  /** Calls per short session. */
  length: number;
  /** % of short sessions left without DELETE, as clients that exit or forget do; the rest end with DELETE. */
  abandon: number;
  /** GET event streams dropped (the connection reset) and reopened, per 1,000 calls. */
  drop: number;
  /** % of calls cancelled in flight (notifications/cancelled; in 2026-07-28 by closing the answer's stream). */
  cancel: number;
  /** % of requests hung up on before the answer. */
  hangup: number;
  /** Refused requests (an unknown session id, none, a wrong method), % of calls. */
  refused: number;
}

/** Sylvester's Hadamard matrix of order 8: +1 or -1 at (row, column), each 0..7; columns 1..7 are orthogonal and balanced. */
export function hadamard(row: number, column: number): number {
  let bits = row & column;
  let sign = 1;
  while (bits) {
    sign = -sign;
    bits &= bits - 1;
  }
  return sign;
}

/** The mix a run uses unless told otherwise: what clients seen in the wild do, at rates a run can measure. */
export const DEFAULT_MIX: Mix = { sessions: 4, churn: 50, length: 5, abandon: 60, drop: 10, cancel: 3, hangup: 2, refused: 1 };

/** A perfectly polite client: one session, never abandoned, no stream, nothing cancelled or hung up on. */
export const POLITE: Mix = { sessions: 1, churn: 0, length: 10, abandon: 0, drop: 0, cancel: 0, hangup: 0, refused: 0 };

const KEYS = Object.keys(DEFAULT_MIX) as (keyof Mix)[];
const PERCENT: (keyof Mix)[] = ['churn', 'abandon', 'cancel', 'hangup', 'refused'];

/** `--clients`: 'polite', or key=value pairs over the default mix (e.g. abandon=100,cancel=0). */
export function parseMix(text: string | undefined): Mix {
  if (text === undefined || text.trim() === '' || text.trim() === 'default') return { ...DEFAULT_MIX };
  if (text.trim() === 'polite') return { ...POLITE };
  const mix = { ...DEFAULT_MIX };
  for (const part of text.split(',')) {
    const [key, value] = part.split('=').map((p) => p.trim());
    if (!KEYS.includes(key as keyof Mix)) {
      throw new CannotRun(`--clients: unknown share '${key}'; give 'polite', or any of ${KEYS.join(', ')} as key=value (e.g. --clients abandon=100,cancel=0)`);
    }
    const n = Number(value);
    const max = PERCENT.includes(key as keyof Mix) ? 100 : 10_000;
    const min = key === 'sessions' || key === 'length' ? 1 : 0;
    if (!/^\d+(\.\d+)?$/.test(value ?? '') || n < min || n > max) throw new CannotRun(`--clients: ${key} must be a number from ${min} to ${max} (got '${value ?? ''}')`);
    mix[key as keyof Mix] = n;
  }
  return mix;
}

/** The mix as --clients would give it back, for the report and the results. */
export function describeMix(mix: Mix): string {
  if (KEYS.every((k) => mix[k] === POLITE[k])) return 'polite';
  return KEYS.map((k) => `${k}=${mix[k]}`).join(',');
}

/** Everything the clients did that the verdict may attribute growth to, counted from the start of the load. */
export interface ClientEvents {
  /** Short sessions opened, and how each ended: left without DELETE, or ended with DELETE. */
  opened: number;
  abandoned: number;
  deleted: number;
  /** Event streams (GET, subscriptions/listen, SSE) opened, and dropped by a reset connection. */
  streams: number;
  dropped: number;
  cancelled: number;
  hungUp: number;
  refused: number;
}

export const newEvents = (): ClientEvents => ({ opened: 0, abandoned: 0, deleted: 0, streams: 0, dropped: 0, cancelled: 0, hungUp: 0, refused: 0 });

/**
 * The mix in force during one block: every share of the base mix times 0.25 or 1.75 for that block, so that
 * over the run each behaviour's count varies apart from the others' (each happens in every block, at a low
 * or a high rate, the mean being the mix's). Which behaviours are high follows the rows of a Hadamard matrix
 * of order 8 in turn: over every 8 blocks each behaviour is high in 4, and each pair of behaviours agrees in
 * exactly 4, the design that tells their costs apart in the fewest blocks.
 */
export class Varied {
  private state: number;
  current: Mix;

  constructor(readonly base: Mix, seed = 0x6d637068) {
    this.state = seed >>> 0;
    this.current = { ...base };
  }

  private block = 0;
  private fixed: Mix | null = null;

  /** Hold the mix fixed (a phase that tries one behaviour at a time), or let it vary again (null). */
  fix(mix: Mix | null): void {
    this.fixed = mix;
    if (mix) this.current = mix;
  }

  /** The next block's mix. */
  next(): Mix {
    if (this.fixed) return this.current;
    const row = this.block++ % 8;
    const vary = (column: number, v: number, max: number) => Math.min(max, v * (hadamard(row, column) > 0 ? 1.75 : 0.25));
    this.current = {
      ...this.base,
      churn: vary(1, this.base.churn, 100),
      abandon: vary(2, this.base.abandon, 100),
      drop: vary(3, this.base.drop, 10_000),
      cancel: vary(4, this.base.cancel, 100),
      hangup: vary(5, this.base.hangup, 100),
      refused: vary(6, this.base.refused, 100),
    };
    return this.current;
  }

  /** A number in [0, 1): mulberry32, small and repeatable. */
  random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

// The open-loop sender of the rate limit test: requests go out on a fixed schedule, `rate` a second,
// whether or not earlier ones have been answered, as a crowd of clients would send them. The closed loop of
// closedloop.ts waits for an answer before sending again, so it slows down with the server and would hide a
// server that throttles by queueing. Every request is recorded (send time, latency, what came back) for
// the analysis in judge/rate.ts; a run of the test sends tens of thousands at most.
import type { Call } from '../requests/calls.js';
import type { Connection, Outcome } from '../transport/connection.js';
import { classify, countError, describeError } from '../transport/outcome.js';
import type { ErrorClass, ErrorCounts, Throttle } from '../results.js';
import type { Shot } from '../judge/rate.js';
import { Histogram } from './latency.js';
import { throttleOf } from '../transport/throttled.js';

/** What the whole run has seen so far, across phases. */
export interface Tally {
  sent: number;
  answered: number;
  ok: number;
  throttled: number;
  /** Failures that are not throttling, by class. */
  errors: ErrorCounts;
  latency: Histogram;
  first?: Throttle;
  /** The most recent throttle and when it arrived (ms since the run began): its retry hint is the one to honour. */
  last?: Throttle;
  lastAt?: number;
}

export function newTally(): Tally {
  return { sent: 0, answered: 0, ok: 0, throttled: 0, errors: {}, latency: new Histogram() };
}

export interface Clock {
  /** performance.now() when the run began. */
  origin: number;
  now: () => number;
}

/** Send one request; the shot is filled in when its answer (or timeout) comes. */
export function shoot(conn: Connection, calls: Call[], index: number, tally: Tally, clock: Clock): { shot: Shot; done: Promise<Shot> } {
  const call = calls[index % calls.length];
  const shot: Shot = { call: index % calls.length, sentMs: clock.now() - clock.origin, latencyMs: NaN };
  tally.sent++;
  const done = conn.request(call.method, call.paramsJson).then((outcome) => {
    record(shot, outcome, tally, clock);
    return shot;
  });
  return { shot, done };
}

function record(shot: Shot, outcome: Outcome, tally: Tally, clock: Clock): void {
  if (outcome.kind === 'answer') {
    tally.answered++;
    tally.latency.record(outcome.latencyMs);
    shot.latencyMs = outcome.latencyMs;
  }
  const throttle = throttleOf(outcome);
  if (throttle) {
    shot.result = 'throttled';
    shot.throttle = throttle;
    tally.throttled++;
    tally.first ??= throttle;
    tally.last = throttle;
    tally.lastAt = clock.now() - clock.origin;
    return;
  }
  const cls = classify(outcome);
  if (cls === null) {
    shot.result = 'ok';
    tally.ok++;
    return;
  }
  shot.result = cls === 'timeout' ? 'timeout' : cls === 'transport' ? 'closed' : 'error';
  countFailure(shot, cls, describeError(outcome), tally);
}

function countFailure(shot: Shot, cls: ErrorClass, note: string, tally: Tally): void {
  shot.note = note;
  countError(tally.errors, cls, note);
}

/**
 * Count throttled answers as plain failures after all: their call turned out to fail every time, so its
 * words about limits were not throttling. The first and last throttle are then taken from the rest.
 */
export function countAsFailures(wrong: Shot[], all: Shot[], tally: Tally): void {
  for (const shot of wrong) {
    if (shot.result !== 'throttled' || !shot.throttle) continue;
    const t = shot.throttle;
    shot.result = 'error';
    shot.throttle = undefined;
    tally.throttled--;
    countFailure(shot, t.style === 'isError' ? 'isError' : t.style === 'resultError' ? 'resultError' : 'jsonrpc', t.message, tally);
  }
  const left = all.filter((s) => s.result === 'throttled');
  tally.first = left[0]?.throttle;
  tally.last = left.at(-1)?.throttle;
  tally.lastAt = left.length ? left.at(-1)!.sentMs + left.at(-1)!.latencyMs : undefined;
}

export interface PaceOptions {
  conn: Connection;
  calls: Call[];
  /** Requests per second, and how many to send. */
  rate: number;
  count: number;
  /** The index of the first call in the rotation (so the rotation continues across phases). */
  firstIndex: number;
  tally: Tally;
  clock: Clock;
  signal?: AbortSignal;
}

/**
 * Send `count` requests at `rate` a second, then wait for every answer (each is bounded by the
 * connection's timeout). Stops sending early when interrupted or when the connection closes.
 */
export async function sendAtRate(o: PaceOptions): Promise<Shot[]> {
  const shots: Shot[] = [];
  const answers: Promise<Shot>[] = [];
  const start = o.clock.now();
  let closed = false;
  while (shots.length < o.count && !closed && !o.signal?.aborted) {
    // Everything due by now goes out together (the client writes them in one batch): at thousands a
    // second the timer cannot wake for each request, and the schedule, not the timer, sets the rate.
    const due = Math.min(o.count, Math.floor(((o.clock.now() - start) * o.rate) / 1000) + 1);
    while (shots.length < due) {
      const { shot, done } = shoot(o.conn, o.calls, o.firstIndex + shots.length, o.tally, o.clock);
      done.then((s) => { if (s.result === 'closed') closed = true; });
      shots.push(shot);
      answers.push(done);
    }
    const next = start + (shots.length * 1000) / o.rate;
    await new Promise((r) => setTimeout(r, Math.max(0, next - o.clock.now())));
  }
  // Interrupted: keep what has been answered and wait no longer for the rest (their result stays unset).
  let onAbort = () => {};
  const interrupted = new Promise<void>((r) => { onAbort = r; });
  if (o.signal?.aborted) onAbort();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  await Promise.race([Promise.all(answers), interrupted]);
  o.signal?.removeEventListener('abort', onAbort);
  return shots;
}

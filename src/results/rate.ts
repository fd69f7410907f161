// The rate limit test's findings, and the throttling the other tests count: what a limiter's refusal looks
// like and the wait it asks for.

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

// The words every part of the results uses: the verdict, why a load stopped, the shape of a trend, error
// classes and latency.

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

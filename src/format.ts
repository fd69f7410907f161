// Numbers as people read them: sizes, counts, durations, rates and exits, for the report and for the
// sentences verdicts give; and values rounded for the results JSON. Pure functions.

export const MB = 1024 * 1024;

export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= 1024 * MB) return `${(bytes / 1024 / MB).toFixed(1)} GB`;
  if (abs >= 10 * MB) return `${Math.round(bytes / MB)} MB`;
  if (abs >= MB) return `${(bytes / MB).toFixed(1)} MB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${Math.round(bytes)} B`;
}

/** A count with thousands separators: 12,345. */
export const count = (v: number): string => Math.round(v).toLocaleString('en-US');

/** Whole megabytes, as the memory lines show them: 62MB. */
export const wholeMB = (bytes: number): string => `${Math.round(bytes / MB)}MB`;

export function formatDuration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 120) return `${Math.round(seconds)} s`;
  if (seconds < 7200) {
    const total = Math.round(seconds);
    return `${Math.floor(total / 60)} min${total % 60 ? ` ${total % 60} s` : ''}`;
  }
  const minutes = Math.round(seconds / 60);
  return `${Math.floor(minutes / 60)} h${minutes % 60 ? ` ${minutes % 60} min` : ''}`;
}

export function formatRate(perSecond: number): string {
  return perSecond >= 10 ? Math.round(perSecond).toLocaleString('en-US') : String(round(perSecond, 1));
}

/** A share as a percentage: "62%", or "99.96%" where rounding would say all or none. */
export function formatShare(share: number): string {
  const pct = share * 100;
  return (pct > 99.5 && pct < 100) || (pct > 0 && pct < 0.5) ? `${pct.toFixed(2)}%` : `${Math.round(pct)}%`;
}

/** "2 min", "90 s", "1.5 s": for the recovery timeout in a reason. */
export function formatWait(seconds: number): string {
  if (seconds >= 120 && seconds % 60 === 0) return `${seconds / 60} min`;
  return `${round(seconds, 1)} s`;
}

/** How a process ended, as in "the server exited (exit code 3)". */
export function describeExit(e: { code: number | null; signal: string | null }): string {
  if (e.code === null && e.signal === null) return 'exit status unknown: mcp-hammer did not start it';
  return e.signal ? `killed by ${e.signal}` : `exit code ${e.code}`;
}

export function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

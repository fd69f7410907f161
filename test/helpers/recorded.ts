// Shared by the tiers: series recorded from real runs (test/recorded/), read back as the verdict reads them.
// A recorded series gives the same verdict every time, where a live run on a busy machine is noisy.
import { readFileSync } from 'node:fs';
import type { Point } from '../../src/judge/trend.js';
import type { Floor } from '../../src/load/closedloop.js';
import type { Call } from '../../src/requests/calls.js';
import type { SessionBounds } from '../../src/judge/reclaim.js';
import type { PhaseFinding } from '../../src/stress/phases.js';

/** The JSON of test/recorded/<name>.json, as it was written. */
export function readRecorded(name: string): any {
  return JSON.parse(readFileSync(new URL(`../../../test/recorded/${name}.json`, import.meta.url), 'utf8'));
}

/** A recorded memory series: its floors [requests, bytes], with the seconds read off its samples where it has them. */
export function recordedFloors(name: string): Point[] {
  const data = readRecorded(name);
  const samples: [number, number][] = data.samples ?? [];
  return data.floors.map(([requests, bytes]: [number, number]) => {
    const at = samples.find((s) => s[1] >= requests) ?? samples.at(-1);
    return { requests, bytes, seconds: at?.[0] };
  });
}

/** A run under a client mix, recorded from its results file: what the mix's verdict reads, as the run had it. */
export interface RecordedMixRun {
  data: any;
  floors: Floor[];
  calls: Call[];
  /** The server's answers to abandoned session ids asked about again, and a cap met; null over stdio. */
  reclaim: SessionBounds | null;
  /** The behaviours tried alone after the run, when it found a leak. */
  alone: PhaseFinding[];
  /** The heap after GC was measured at each floor. */
  watched: boolean;
}

export function recordedMixRun(name: string): RecordedMixRun {
  const data = readRecorded(name);
  const heap = new Map<number, number>((data.memory.heapAfterGc?.floors ?? []).map(([r, b]: [number, number]) => [r, b]));
  const counts: number[][] = data.clients.counts.floors;
  const floors: Floor[] = data.memory.floors.map(([requests, bytes, seconds]: number[], k: number) => ({
    requests, bytes, seconds, rss: 0, counts: counts[k].slice(1), ...(heap.has(requests) ? { heap: heap.get(requests) } : {}),
  }));
  return { data, floors, calls: data.calls, reclaim: data.clients.reclaim ?? null, alone: data.clients.alone ?? [], watched: heap.size > 0 };
}

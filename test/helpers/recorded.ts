// Shared by the tiers: series recorded from real runs (test/recorded/), read back as the verdict reads them.
// A recorded series gives the same verdict every time, where a live run on a busy machine is noisy.
import { readFileSync } from 'node:fs';
import type { Point } from '../../src/judge/trend.js';

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

// The live heap of the serving process: a forced full garbage collection through its inspector, then the
// JavaScript heap and the ArrayBuffers it keeps. Read the same way at every block boundary, it is a series
// without the collector's saw-tooth: kilobyte-exact where the process memory moves by tens of MB.
import type { Inspector } from './inspector.js';

/** A forced full GC, then the heap and the ArrayBuffers it keeps. */
export async function collectAndMeasure(inspector: Inspector): Promise<number> {
  await inspector.send('HeapProfiler.collectGarbage', {}, 60_000);
  // The memory of ArrayBuffers (Buffers) lies outside the JavaScript heap, but is kept alive by it: a
  // Buffer kept per call must count, or this signal would call such a leak flat.
  const r = await inspector.send('Runtime.evaluate', {
    expression: '(() => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; })()', returnByValue: true,
  }, 10_000);
  return r.result.value as number;
}

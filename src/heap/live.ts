// The live heap of a Node.js server, as evidence for the memory verdict: at every block boundary (no request
// in flight) a forced full garbage collection through the serving process's inspector, then its JavaScript
// heap and the Buffers and ArrayBuffers its objects keep outside it. Read
// so every time, the series has no collector's saw-tooth: kilobyte-exact where the process memory moves by
// tens of MB, so a leak shows in seconds. The forced collection pauses the server (30-80 ms for a heap of
// tens of MB); blocks are lengthened so that the pauses take no more than PAUSE_SHARE of the run, as far
// as MAX_BLOCK_MS allows.
import type { Inspector } from './inspector.js';
import { Inspectors, type Candidate, type SpawnHooks } from './inspectors.js';
import { median } from '../judge/stats.js';

/** The share of the run the forced collections may take; blocks are lengthened to keep within it... */
const PAUSE_SHARE = 0.05;
/**
 * ...up to this long. A leaking server's heap, and with it the cost of collecting it, grows as the run goes
 * (0.5 s for 500 MB): blocks as long as the pause share asks would leave too few floors to decide on.
 */
const MAX_BLOCK_MS = 1000;

export class LiveHeap {
  readonly inspectors = new Inspectors();
  /** Given to openTarget: the inspector turned on, its address read from stderr and never quoted. */
  readonly spawn: SpawnHooks;
  private chosen: Candidate | null = null;
  /** Milliseconds each forced collection and reading took. */
  readonly costs: number[] = [];
  /** Why the live heap stopped being measured, when it did. */
  problem?: string;

  constructor(env: NodeJS.ProcessEnv) {
    this.spawn = this.inspectors.spawnHooks(env);
  }

  /** After the handshake: connect to the inspectors announced. Warnings name those that publish their address. */
  attach(): Promise<string[]> {
    return this.inspectors.attach();
  }

  /** A Node.js process of the tree is watched (and measuring has not failed). */
  watching(): boolean {
    return this.inspectors.candidates.length > 0 && !this.problem;
  }

  /** The serving process, chosen at the first floor (see Inspectors.choose); null before it or when not watching. */
  serving(): Candidate | null {
    return this.chosen;
  }

  /**
   * At a block boundary: choose the serving process the first time, force a full collection, read the live
   * heap. Undefined when not watching; a failure stops the measuring (problem says why).
   */
  async measure(): Promise<number | undefined> {
    if (!this.watching()) return undefined;
    try {
      this.chosen ??= await this.inspectors.choose();
      const t = performance.now();
      const bytes = await collectAndMeasure(this.chosen.inspector);
      this.costs.push(performance.now() - t);
      return bytes;
    } catch (err) {
      this.problem = `the heap after GC stopped being measured: ${(err as Error).message}`;
      return undefined;
    }
  }

  /** The block length that keeps the forced collections within PAUSE_SHARE of the run, at least minMs. */
  blockMs(minMs: number): number {
    if (this.costs.length < 2) return minMs;
    return Math.max(minMs, Math.min(MAX_BLOCK_MS, Math.round(median(this.costs.slice(-8)) / PAUSE_SHARE)));
  }

  /** Close every inspector connection (before the server is ended: Node waits for a debugger at exit). */
  close(): void {
    this.inspectors.close();
    this.chosen = null;
  }
}

/** A forced full GC, then the heap and the ArrayBuffers it keeps. */
export async function collectAndMeasure(inspector: Inspector): Promise<number> {
  await inspector.send('HeapProfiler.collectGarbage', {}, 60_000);
  // Buffers and ArrayBuffers lie outside the JavaScript heap but are kept alive by it: a Buffer kept per call
  // must count, or this series would call such a leak flat. (All of `external` would count the native memory
  // of open sockets too, which varies with the connections open at the moment, and nothing else: measured,
  // its per-block scatter under a client mix is a third larger.)
  const r = await inspector.send('Runtime.evaluate', {
    expression: '(() => { const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; })()', returnByValue: true,
  }, 10_000);
  return r.result.value as number;
}

// What the memory and cache tests ask of --heap, whatever the server's runtime: a Node.js server's heap
// through its inspector (watch.ts), a Python server's allocations through tracemalloc (python/watch.ts).
import type { HeapResults } from '../results.js';
import type { TraceOptions } from './trace.js';

export interface HeapProbe {
  /** Something is watched (a run without it goes on as without --heap). */
  watching(): boolean;
  /**
   * At a block boundary (no request in flight): the baseline when `baseline` says it is due and it has
   * not been taken yet. `bytes`: the heap after a forced GC, when the live heap was measured.
   */
  atFloor(p: { requests: number; baseline: boolean; bytes?: number }): Promise<void>;
  /** Whether a run that lasts until decided may stop: enough was measured since the baseline. */
  ready(): boolean;
  /** After a run that finished: the end snapshot and what grew. Null when not watching. */
  finish(o: TraceOptions): Promise<HeapResults | null>;
  /** After a run that ended early: what was measured so far, saying why it stops there. */
  partial(why: string): HeapResults | null;
  /** What the run says while finish works. */
  readonly finishing: string;
}

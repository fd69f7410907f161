// The order in which the load's calls are made. With one call it is that call; with several, each block of
// the run deals them in proportions that change from block to block (each call's weight 0.25 or 1.75 as a
// seeded coin falls), so that growth can be told apart by call (judge/attribute.ts):
// dealt in strict turn, every call's count would grow in step with the others'. Dealing costs an array
// read per request; the proportions are worked out once per block.
import type { Call } from './build.js';
import { Varied, DEFAULT_MIX } from '../clients/mix.js';

/** Calls dealt per round: fine enough for 25 calls with weights from 0.25 to 1.75. */
const ROUND = 256;

export class Deck {
  /** Requests made of each call so far. */
  readonly counts: number[];
  private order: number[];
  private at = 0;
  private readonly random = new Varied(DEFAULT_MIX, 0x64656b);

  constructor(readonly calls: Call[]) {
    this.counts = calls.map(() => 0);
    this.order = calls.map((_, i) => i);
  }

  /** The next call; counted. */
  next(): Call {
    const i = this.order[this.at++ % this.order.length];
    this.counts[i]++;
    return this.calls[i];
  }

  /** New proportions for the next block (nothing to vary with one call). */
  vary(): void {
    if (this.calls.length < 2) return;
    const weights = this.calls.map(() => (this.random.random() < 0.5 ? 0.25 : 1.75));
    const total = weights.reduce((a, b) => a + b, 0);
    const order: number[] = [];
    weights.forEach((w, i) => {
      for (let k = Math.max(1, Math.round((w / total) * ROUND)); k > 0; k--) order.push(i);
    });
    // Shuffled, so that a block cut short still has each call in its proportion.
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(this.random.random() * (k + 1));
      [order[k], order[j]] = [order[j], order[k]];
    }
    this.order = order;
    this.at = 0;
  }
}

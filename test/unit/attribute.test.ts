// Attribution on known values: growth made of known costs per event, with blocks that load in varying
// proportions, comes back out as those costs; a clean factor is cleared; nothing is made up from noise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { attribute, nonNegative, type FactorInput } from '../../src/judge/attribute.js';
import { Varied, DEFAULT_MIX } from '../../src/clients/mix.js';

test('nonNegative: an exact system comes back exactly; a cost that would be negative is held at 0', () => {
  const rows = [[1, 0], [0, 1], [1, 1], [2, 1]];
  const { cost } = nonNegative(rows, rows.map(([a, b]) => 3 * a + 5 * b));
  assert.deepEqual(cost.map((c) => Math.round(c * 1e6) / 1e6), [3, 5]);
  // y = 3a - 2b fitted with non-negative costs: b's cost is 0, a's the best fit without it.
  const held = nonNegative(rows, rows.map(([a, b]) => 3 * a - 2 * b)).cost;
  assert.equal(held[1], 0);
  assert.ok(held[0] > 0);
});

/** A synthetic run: per block, counts drawn around their base rates; growth = cost x count + noise. */
function synthetic(costs: Record<string, number>, noise: number, blocks = 60) {
  const random = new Varied(DEFAULT_MIX, 7);
  const names = Object.keys(costs);
  const totals = names.map(() => 0);
  const counts: number[][] = names.map(() => [0]);
  const floors = [{ requests: 0, bytes: 50e6 }];
  for (let k = 1; k <= blocks; k++) {
    let grew = (random.random() - 0.5) * 2 * noise;
    names.forEach((name, j) => {
      const events = Math.round(100 * (0.25 + 1.5 * random.random()));
      totals[j] += events;
      counts[j].push(totals[j]);
      grew += events * costs[name];
    });
    floors.push({ requests: k * 1000, bytes: floors.at(-1)!.bytes + grew });
  }
  const inputs: FactorInput[] = names.map((name, j) => ({ name, kind: 'behaviour', unit: name, counts: counts[j] }));
  return { floors, inputs };
}

test('attribute: 4 KB per abandoned session is named and costed; the calls and other behaviours are cleared', () => {
  const { floors, inputs } = synthetic({ abandoned: 4096, deleted: 0, cancelled: 0, echo: 0 }, 50_000);
  const a = attribute(floors, inputs, 0, 1024 * 1024)!;
  assert.ok(a);
  const [first, ...rest] = a.factors;
  assert.equal(first.name, 'abandoned');
  assert.ok(first.established);
  assert.ok(Math.abs(first.bytesPerEvent - 4096) < 400, `${first.bytesPerEvent} B per abandoned session`);
  for (const f of rest) assert.equal(f.established, false, `${f.name}: ${f.bytesPerEvent} ± ${f.stderr}`);
  assert.ok(a.explained > 0.9);
});

test('attribute: two leaks at once are both named, each with its own cost', () => {
  const { floors, inputs } = synthetic({ cancelled: 16_384, hungUp: 2048, echo: 0 }, 20_000);
  const a = attribute(floors, inputs, 0, 1024 * 1024)!;
  const byName = Object.fromEntries(a.factors.map((f) => [f.name, f]));
  assert.ok(byName.cancelled.established && Math.abs(byName.cancelled.bytesPerEvent - 16_384) < 1000);
  assert.ok(byName.hungUp.established && Math.abs(byName.hungUp.bytesPerEvent - 2048) < 500);
  assert.equal(byName.echo.established, false);
});

test('attribute: noise alone establishes nothing; too few blocks give no attribution', () => {
  const { floors, inputs } = synthetic({ abandoned: 0, deleted: 0, cancelled: 0 }, 200_000);
  const a = attribute(floors, inputs, 0, 2 * 1024 * 1024)!;
  assert.ok(a.factors.every((f) => !f.established), JSON.stringify(a.factors));
  assert.equal(attribute(floors.slice(0, 6), inputs, 0, 1024 * 1024), null);
});

// The layout holds: imports in src/ point one way (no cycle, type imports included), few files directly in
// src/, none too long to read. Read from the sources, so that the next change cannot quietly undo it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = fileURLToPath(new URL('../../../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import and re-export of a file, type-only ones included, as source paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+['"](\.[^'"]+)['"]/gms)) {
    found.push(resolve(dirname(file), m[1].replace(/\.js$/, '.ts')));
  }
  return found;
}

/** A cycle in the import graph, as the files on it, or null. */
export function findCycle(graph: Map<string, string[]>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): string[] | null => {
    if (state.get(file) === 'done') return null;
    if (state.get(file) === 'open') return [...path.slice(path.indexOf(file)), file];
    state.set(file, 'open');
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(file, 'done');
    return null;
  };
  for (const file of graph.keys()) {
    const cycle = visit(file);
    if (cycle) return cycle;
  }
  return null;
}

test('layout: no import cycle in src/, type imports included', () => {
  const files = sources(SRC);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));
  assert.ok(files.length > 20 && [...graph.values()].some((i) => i.length > 3), 'the sources and their imports were found');
  const cycle = findCycle(graph);
  assert.equal(cycle, null, `import cycle: ${cycle?.map((f) => relative(SRC, f)).join(' -> ')}`);
});

test('layout: the cycle finder finds a cycle', () => {
  assert.deepEqual(findCycle(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']]])), ['a', 'b', 'c', 'a']);
  assert.equal(findCycle(new Map([['a', ['b', 'c']], ['b', ['c']], ['c', []]])), null);
});

test('layout: at most 8 files directly in src/, none over 330 lines (about 300)', () => {
  const top = readdirSync(SRC).filter((name) => name.endsWith('.ts'));
  assert.ok(top.length <= 8, `files directly in src/: ${top.join(', ')}`);
  for (const file of sources(SRC)) {
    const lines = readFileSync(file, 'utf8').split('\n').length;
    assert.ok(lines <= 330, `${relative(SRC, file)} has ${lines} lines`);
  }
});

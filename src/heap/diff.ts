// What grew in a heap: the objects of the end snapshot that are new since the baseline snapshot, grouped by
// kind, with the bytes they keep alive and where they were allocated. Pure: a parsed snapshot in, plain
// data out.
//
// How objects are counted, in plain words: V8 numbers heap objects in the order it first sees them, so the
// objects with an id above the baseline's highest are the ones that appeared since. Each new object is
// charged to the outermost new object that keeps it alive alone (the dominator tree), so that an array
// added per call is counted once with the strings in it, not once as an array and again as strings. V8's
// internal arrays (backing stores, hash tables, contexts) are looked through: the array that holds the
// new objects grows its backing store too, and that store is not what the user added. New entries of a
// Map or a Set are counted as that collection's growth, entry by entry: a cache keyed per request shows as
// the Map it is.
import type { Snapshot } from './snapshot.js';
import { dominatorTree, retainerPath, type Graph } from './graph.js';
import type { Growth } from '../results.js';

/** The highest id of a JavaScript object in the snapshot (native and synthetic ids are numbered apart). */
export function highestObjectId(s: Snapshot): number {
  let max = 0;
  const { nodes, nodeFieldCount: nf, field } = s;
  const native = s.nodeTypes.indexOf('native');
  const synthetic = s.nodeTypes.indexOf('synthetic');
  for (let i = 0; i < s.nodeCount; i++) {
    const t = nodes[i * nf + field.type];
    if (t === native || t === synthetic) continue;
    const id = nodes[i * nf + field.id];
    if (id > max) max = id;
  }
  return max;
}

/** Total self size of the snapshot's nodes, in bytes. */
export function totalSize(s: Snapshot): number {
  let sum = 0;
  for (let i = 0; i < s.nodeCount; i++) sum += s.nodes[i * s.nodeFieldCount + s.field.selfSize];
  return sum;
}

const COLLECTIONS: Record<string, number> = { Map: 2, Set: 1 };

/**
 * What appeared since the object id `sinceId` and is still alive, by kind, largest first. Groups smaller
 * than `minBytes` are left out. Allocation stacks are read only from objects numbered above
 * `trackedSince`: those allocated while allocations were tracked.
 */
export function heapGrowth(s: Snapshot, sinceId: number,
  o: { trackedSince?: number; minBytes?: number; top?: number; cwd?: string } = {}): Growth[] {
  const g = dominatorTree(s);
  const { nodes, nodeFieldCount: nf, field } = s;
  const typeOf = (v: number) => s.nodeTypes[nodes[v * nf + field.type]];
  const nameOf = (v: number) => s.strings[nodes[v * nf + field.name]];
  const native = s.nodeTypes.indexOf('native');
  const synthetic = s.nodeTypes.indexOf('synthetic');
  const isNew = (v: number) => {
    const t = nodes[v * nf + field.type];
    return t !== native && t !== synthetic && nodes[v * nf + field.id] > sinceId;
  };
  const kind = (v: number) => kindOf(typeOf(v), nameOf(v));

  // The first object a user would recognise above each node in the dominator tree (-1: none, the root).
  const holder = new Int32Array(s.nodeCount).fill(-1);
  for (let i = g.postOrder.length - 2; i >= 0; i--) {
    const v = g.postOrder[i];
    const d = g.idom[v];
    holder[v] = kind(d) ? d : holder[d];
  }

  interface Group { name: string; bytes: number; members: number[]; collection?: number }
  const groups = new Map<string, Group>();
  for (let i = 0; i < g.postOrder.length - 1; i++) {
    const v = g.postOrder[i];
    const name = kind(v);
    if (!name || !isNew(v)) continue;
    const h = holder[v];
    if (h >= 0 && isNew(h)) continue;
    const hName = h >= 0 ? kind(h) : null;
    const collection = hName && COLLECTIONS[hName] ? h : undefined;
    const key = collection !== undefined ? `#${collection}` : name;
    let group = groups.get(key);
    if (!group) groups.set(key, group = { name: collection !== undefined ? hName! : name, bytes: 0, members: [], collection });
    group.bytes += g.retained[v];
    group.members.push(v);
  }

  const traces = traceFrames(s);
  const ranked = [...groups.values()].sort((a, b) => b.bytes - a.bytes)
    .filter((gr) => gr.bytes >= (o.minBytes ?? 0)).slice(0, o.top ?? 5);
  return ranked.map((gr, rank) => {
    const out: Growth = {
      name: gr.name,
      bytes: Math.round(gr.bytes),
      count: gr.collection !== undefined ? entryCount(s, g, gr.collection, new Set(gr.members)) : gr.members.length,
    };
    const traced = gr.members.filter((v) => nodes[v * nf + field.id] > (o.trackedSince ?? 0));
    const site = allocationSite(s, traces, traced, g.retained, o.cwd);
    if (site) {
      out.location = site.location;
      out.function = site.function;
    }
    // The largest of those allocated where the line says (else of all): a stray object of the same kind,
    // made by something else since the baseline, would show a path that explains nothing.
    const largest = (site?.members.length ? site.members : gr.members).reduce((a, b) => (g.retained[b] > g.retained[a] ? b : a));
    if (gr.name === 'Closure') {
      const at = closureLocation(s, largest, o.cwd);
      if (at) out.definedAt = at;
    }
    if (rank === 0) out.retainedBy = retainerPath(s, g, gr.collection ?? largest);
    return out;
  });
}

/** The kind shown to the user, or null for V8's internal objects (looked through). */
export function kindOf(type: string, name: string): string | null {
  switch (type) {
    case 'object':
      if (name.startsWith('system /') || name === '') return null;
      return name === 'FastBuffer' ? 'Buffer' : name;
    case 'closure': return 'Closure';
    case 'string': case 'concatenated string': case 'sliced string': return 'String';
    case 'regexp': return 'RegExp';
    case 'number': return 'Number';
    case 'symbol': return 'Symbol';
    case 'bigint': return 'BigInt';
    default: return null;
  }
}

/**
 * New entries of a Map or Set: the edges from its hash table to the new objects, where a key and its
 * value sit in neighbouring slots (the slot after a value holds a number, never an object).
 */
function entryCount(s: Snapshot, g: Graph, collection: number, members: Set<number>): number {
  const { edges, edgeFieldCount: ef, edgeField, nodeFieldCount: nf } = s;
  let table = -1;
  for (let e = g.firstEdge[collection]; e < g.firstEdge[collection + 1]; e++) {
    if (s.strings[edges[e * ef + edgeField.nameOrIndex]] === 'table') table = edges[e * ef + edgeField.toNode] / nf;
  }
  if (table < 0) return members.size;
  const slots = new Set<number>();
  for (let e = g.firstEdge[table]; e < g.firstEdge[table + 1]; e++) {
    if (!members.has(edges[e * ef + edgeField.toNode] / nf)) continue;
    const slot = Number(s.strings[edges[e * ef + edgeField.nameOrIndex]]);
    if (Number.isInteger(slot)) slots.add(slot);
  }
  if (slots.size === 0) return members.size;
  let pairs = 0;
  for (const slot of slots) if (slots.has(slot + 1)) pairs++;
  return slots.size - pairs;
}

interface Frame { name: string; script: string; line: number; column: number }

/** The allocation stack (innermost first) of each trace node id, when allocations were tracked. */
function traceFrames(s: Snapshot): Map<number, Frame[]> {
  const infos = s.traceFunctionInfos;
  const frame = (i: number): Frame => ({
    name: s.strings[infos[i * 6 + 1]] ?? '', script: s.strings[infos[i * 6 + 2]] ?? '', line: infos[i * 6 + 4], column: infos[i * 6 + 5],
  });
  const out = new Map<number, Frame[]>();
  const walk = (rows: unknown[], stack: Frame[]) => {
    for (let i = 0; i + 4 < rows.length; i += 5) {
      const here = [frame(rows[i + 1] as number), ...stack];
      out.set(rows[i] as number, here);
      walk(rows[i + 4] as unknown[], here);
    }
  };
  walk(s.traceTree, []);
  return out;
}

/** Node's own code and V8's builtins: an allocation there is charged to the user code that called it. */
const internal = (f: Frame) => !f.script || f.script.startsWith('node:');

/** The allocating function that holds the most bytes of these objects, outside Node's internals, and its objects. */
function allocationSite(s: Snapshot, traces: Map<number, Frame[]>, members: number[], retained: Float64Array, cwd?: string)
  : { location: string; function: string; members: number[] } | null {
  const bytes = new Map<string, { bytes: number; frame: Frame; members: number[] }>();
  for (const v of members) {
    const stack = traces.get(s.nodes[v * s.nodeFieldCount + s.field.traceNodeId]);
    if (!stack?.length) continue;
    const frame = stack.find((f) => !internal(f)) ?? stack[0];
    if (frame.name === '(root)') continue;
    const key = `${frame.script}:${frame.line}:${frame.name}`;
    const entry = bytes.get(key) ?? { bytes: 0, frame, members: [] };
    entry.bytes += retained[v];
    entry.members.push(v);
    bytes.set(key, entry);
  }
  let best: { bytes: number; frame: Frame; members: number[] } | undefined;
  for (const e of bytes.values()) if (!best || e.bytes > best.bytes) best = e;
  if (!best) return null;
  return { location: place(best.frame.script, best.frame.line, cwd), function: best.frame.name || '(anonymous)', members: best.members };
}

/** Where a closure's function is written, from the snapshot's locations and the scripts the traces name. */
function closureLocation(s: Snapshot, v: number, cwd?: string): string | undefined {
  const scripts = new Map<number, string>();
  const infos = s.traceFunctionInfos;
  for (let i = 0; i + 5 < infos.length; i += 6) if (infos[i + 2]) scripts.set(infos[i + 3], s.strings[infos[i + 2]]);
  const loc = s.locations;
  for (let i = 0; i + 3 < loc.length; i += 4) {
    if (loc[i] !== v * s.nodeFieldCount) continue;
    const script = scripts.get(loc[i + 1]);
    // Locations are 0-based, traces 1-based.
    return script ? place(script, loc[i + 2] + 1, cwd) : undefined;
  }
  return undefined;
}

/** A file path (from a file: URL) and line, relative to cwd when it is inside it. */
export function place(script: string, line: number, cwd?: string): string {
  let path = script;
  if (path.startsWith('file://')) {
    try {
      path = decodeURIComponent(new URL(path).pathname);
    } catch {
      // keep it as it is
    }
  }
  if (cwd && path.startsWith(cwd.endsWith('/') ? cwd : cwd + '/')) path = path.slice(cwd.length).replace(/^\//, '');
  return `${path}:${line}`;
}

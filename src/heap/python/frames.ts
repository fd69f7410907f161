// What grew in a Python server, from its tracemalloc snapshot: the blocks still allocated since tracing
// began, grouped by the line of the server's own code that allocated them. Pure: the snapshot's answer
// in, plain data out.
//
// A traceback is read from the innermost frame out, and the line named is the first of the server's own
// code: frames of the standard library, of site-packages and of the SDK's packages are skipped. Failing
// that, the first frame in some other installed package (a server installed with uvx lives in
// site-packages), then the SDK's own line (memory the SDK keeps by itself). The frames that start the
// program (the script's `server.run()`, a console script) are on every complete traceback: they name where
// the event loop was entered, not what allocated, so they count only when nothing else is there.
import type { Growth } from '../../results.js';
import { place } from '../diff.js';

/** The snapshot as the sitecustomize sends it (frames innermost first, as [file index, line] pairs). */
export interface PySnapshot {
  paths: { stdlib: string[]; site: string[]; sdk: string[] };
  files: string[];
  /** types: the objects found in the traceback's blocks, by type: [count, bytes]. */
  stats: { size: number; count: number; depth: number; frames: number[]; types: Record<string, [number, number]> }[];
  /** "file index:line" -> the function around that line, for frames outside the standard library and the SDK. */
  functions: Record<string, string>;
  omitted: { stats: number; size: number };
  /** Bytes still traced, and tracemalloc's own memory. */
  traced: number;
  overhead: number;
  seconds: { snapshot: number; types: number };
}

export type FrameKind = 'user' | 'site' | 'sdk' | 'stdlib';

/** The name for blocks with no Python object of their own at their start: most often a list's or dict's table. */
export const UNTYPED = '(storage)';

const under = (file: string, dirs: string[]) => dirs.some((d) => file === d || file.startsWith(d.endsWith('/') ? d : `${d}/`));

/** Whose code a frame's file is. Checked in this order: site-packages may lie inside the standard library's folder. */
export function frameKind(file: string, paths: PySnapshot['paths']): FrameKind {
  if (file.startsWith('<')) return 'stdlib'; // <frozen importlib._bootstrap>, <string>, <unknown>
  if (under(file, paths.sdk)) return 'sdk';
  if (under(file, paths.site)) return 'site';
  if (under(file, paths.stdlib)) return 'stdlib';
  return 'user';
}

/**
 * The frame a traceback is charged to (index, innermost first). `depth` is the traceback's length before
 * tracemalloc cut it to the frames it keeps: only a complete one shows where the program started.
 */
export function chargedFrame(kinds: FrameKind[], depth: number): number {
  let end = kinds.length;
  if (depth <= kinds.length) {
    let k = kinds.length;
    while (k > 0 && (kinds[k - 1] === 'user' || kinds[k - 1] === 'site')) k--;
    if (k > 0) end = k;
  }
  for (const want of ['user', 'site', 'sdk'] as const) {
    const i = kinds.slice(0, end).indexOf(want);
    if (i >= 0) return i;
  }
  const outside = kinds.findIndex((k) => k !== 'stdlib');
  return Math.max(0, outside);
}

/** A growth entry before it is scaled per request; `stat` is the index of its largest traceback. */
export interface PyGrowth extends Growth { stat: number }

/** The blocks by the line charged, largest first; groups under minBytes left out, at most `top`. */
export function pythonGrowth(s: PySnapshot, o: { minBytes?: number; top?: number; cwd?: string } = {}): PyGrowth[] {
  const kindOf = new Map<number, FrameKind>();
  const kind = (f: number) => {
    let k = kindOf.get(f);
    if (!k) kindOf.set(f, k = frameKind(s.files[f], s.paths));
    return k;
  };
  interface Group { file: number; line: number; bytes: number; count: number; types: Map<string, number>; stat: number; largest: number }
  const groups = new Map<string, Group>();
  s.stats.forEach((st, i) => {
    if (st.frames.length < 2) return;
    const files = st.frames.filter((_, j) => j % 2 === 0);
    const at = chargedFrame(files.map(kind), st.depth);
    const file = files[at];
    const line = st.frames[at * 2 + 1];
    const key = `${file}:${line}`;
    let g = groups.get(key);
    if (!g) groups.set(key, g = { file, line, bytes: 0, count: 0, types: new Map(), stat: i, largest: 0 });
    g.bytes += st.size;
    g.count += st.count;
    for (const [name, [, bytes]] of Object.entries(st.types)) g.types.set(name, (g.types.get(name) ?? 0) + bytes);
    if (st.size > g.largest) {
      g.largest = st.size;
      g.stat = i;
    }
  });
  return [...groups.values()].sort((a, b) => b.bytes - a.bytes)
    .filter((g) => g.bytes >= (o.minBytes ?? 0)).slice(0, o.top ?? 5)
    .map((g) => ({
      name: dominant(g.types) ?? UNTYPED,
      bytes: g.bytes,
      count: g.count,
      location: place(s.files[g.file], g.line, o.cwd),
      ...(s.functions[`${g.file}:${g.line}`] ? { function: s.functions[`${g.file}:${g.line}`] } : {}),
      trace: traceOf(s, g.stat, o.cwd),
      stat: g.stat,
    }));
}

/** The type that holds the most bytes of the objects found in the group's blocks. */
function dominant(types: Map<string, number>): string | undefined {
  let best: [string, number] | undefined;
  for (const e of types) if (!best || e[1] > best[1]) best = e;
  return best?.[0];
}

/** A traceback as file:line, innermost first. */
function traceOf(s: PySnapshot, stat: number, cwd?: string): string[] {
  const f = s.stats[stat].frames;
  const out: string[] = [];
  for (let i = 0; i + 1 < f.length; i += 2) out.push(place(s.files[f[i]], f[i + 1], cwd));
  return out;
}

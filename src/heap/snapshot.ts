// Reads a V8 heap snapshot as it streams in from the inspector, chunk by chunk, into typed arrays.
// A snapshot of a large heap is hundreds of MB of JSON: more than one JavaScript string can hold, and many
// times its size again as parsed JSON arrays. Its numbers go straight into typed arrays instead, and only
// the small sections (the header, the allocation trace tree) are parsed as JSON.

export interface Snapshot {
  /** Numbers per node and the position of each field we use. */
  nodeFieldCount: number;
  edgeFieldCount: number;
  field: { type: number; name: number; id: number; selfSize: number; edgeCount: number; traceNodeId: number };
  edgeField: { type: number; nameOrIndex: number; toNode: number };
  nodeTypes: string[];
  edgeTypes: string[];
  nodeCount: number;
  nodes: Float64Array;
  edges: Uint32Array;
  strings: string[];
  /** Rows of [function_id, name, script_name, script_id, line, column]: the functions of allocation traces. */
  traceFunctionInfos: number[];
  /** Nested [id, function_info_index, count, size, children] rows, when allocations were tracked. */
  traceTree: unknown[];
  /** Rows of [node index (field offset), script_id, line, column]: where closures were defined. */
  locations: number[];
}

type Section = 'header' | 'numbers' | 'between' | 'tree' | 'strings' | 'done';

/** Longest string kept: names and edge names are short; string contents are not shown. */
const MAX_STRING = 1024;

export interface SnapshotParser {
  write(chunk: string): void;
  end(): Snapshot;
}

export function snapshotParser(): SnapshotParser {
  let section: Section = 'header';
  let pending = '';
  let header: any;
  let name = '';
  // The numeric section being read: into a typed array when its length is known, else a plain array.
  let typed: Float64Array | Uint32Array | null = null;
  let plain: number[] = [];
  let count = 0;
  let value = 0;
  let digits = false;
  let negative = false;
  const lists: Record<string, number[]> = {};
  let nodes = new Float64Array(0);
  let edges = new Uint32Array(0);
  let tree: unknown[] = [];
  let depth = 0;
  const strings: string[] = [];
  const stringsFrom = stringReader(strings);

  const startSection = (key: string) => {
    name = key;
    count = 0;
    value = 0;
    digits = false;
    negative = false;
    if (key === 'strings') {
      section = 'strings';
      return;
    }
    if (key === 'trace_tree') {
      section = 'tree';
      depth = 1;
      pending = '[';
      return;
    }
    section = 'numbers';
    typed = null;
    plain = [];
    if (key === 'nodes') typed = nodes = new Float64Array(header.node_count * header.meta.node_fields.length);
    if (key === 'edges') typed = edges = new Uint32Array(header.edge_count * header.meta.edge_fields.length);
  };

  const push = () => {
    const v = negative ? -value : value;
    if (typed) {
      if (count < typed.length) typed[count] = v;
    } else plain.push(v);
    count++;
    value = 0;
    digits = false;
    negative = false;
  };

  /** Reads numbers from text[from..]; returns where the section ended, or -1 if it goes on. */
  const numbers = (text: string, from: number): number => {
    for (let i = from; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 48 && c <= 57) {
        value = value * 10 + (c - 48);
        digits = true;
      } else if (c === 45) {
        negative = true;
      } else {
        if (digits) push();
        if (c === 93) {
          if (!typed) lists[name] = plain;
          return i + 1;
        }
      }
    }
    return -1;
  };

  const SECTION_START = /"(\w+)":\s*\[/;
  const NODES_START = /"(nodes)":\s*\[/;

  const write = (chunk: string) => {
    let text = chunk;
    let at = 0;
    while (at < text.length || (section !== 'numbers' && section !== 'strings' && pending)) {
      if (section === 'header' || section === 'between') {
        pending += text.slice(at);
        text = '';
        at = 0;
        // The header's own arrays (node_fields, ...) come before "nodes", which is the first section.
        const m = (section === 'header' ? NODES_START : SECTION_START).exec(pending);
        if (!m) return;
        if (section === 'header') {
          const head = pending.slice(0, m.index).replace(/^\s*\{\s*"snapshot"\s*:/, '').replace(/,\s*$/, '');
          header = JSON.parse(head);
        }
        text = pending.slice(m.index + m[0].length);
        pending = '';
        startSection(m[1]);
      } else if (section === 'numbers') {
        const end = numbers(text, at);
        if (end < 0) return;
        section = 'between';
        at = end;
      } else if (section === 'strings') {
        const end = stringsFrom(text, at);
        if (end < 0) return;
        section = 'done';
        return;
      } else if (section === 'tree') {
        let i = at;
        for (; i < text.length && depth > 0; i++) {
          const c = text.charCodeAt(i);
          if (c === 91) depth++;
          else if (c === 93) depth--;
        }
        pending += text.slice(at, i);
        if (depth > 0) return;
        tree = JSON.parse(pending);
        pending = '';
        section = 'between';
        at = i;
      } else {
        return;
      }
    }
  };

  return {
    write,
    end: () => assemble(header, nodes, edges, strings, lists, tree),
  };
}

/**
 * The strings section: JSON strings in, each kept (cut to MAX_STRING) as it completes, across chunks.
 * Returns the reader: it reads text[from..] and returns where the section ended, or -1 if it goes on.
 */
function stringReader(strings: string[]): (text: string, from: number) => number {
  let inString = false;
  let escaped = false;
  let hasEscape = false;
  let piece = '';
  return (text, from) => {
    let start = inString ? from : -1;
    for (let i = from; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (c === 92) {
          escaped = true;
          hasEscape = true;
        } else if (c === 34) {
          const raw = piece + text.slice(start, i);
          piece = '';
          inString = false;
          const s = hasEscape ? JSON.parse(`"${raw}"`) as string : raw;
          strings.push(s.length > MAX_STRING ? s.slice(0, MAX_STRING) : s);
        }
      } else if (c === 34) {
        inString = true;
        hasEscape = false;
        start = i + 1;
      } else if (c === 93) {
        return i + 1;
      }
    }
    if (inString) {
      // Keep at most what will be stored, plus room for the escapes in it.
      if (piece.length < 4 * MAX_STRING) piece += text.slice(start);
    }
    return -1;
  };
}

/** The parsed sections as a Snapshot, the field positions read from its header. */
function assemble(header: any, nodes: Float64Array, edges: Uint32Array, strings: string[], lists: Record<string, number[]>, tree: unknown[]): Snapshot {
  if (!header) throw new Error('the heap snapshot had no header');
  const meta = header.meta;
  const nf: string[] = meta.node_fields;
  const ef: string[] = meta.edge_fields;
  return {
    nodeFieldCount: nf.length,
    edgeFieldCount: ef.length,
    field: {
      type: nf.indexOf('type'), name: nf.indexOf('name'), id: nf.indexOf('id'), selfSize: nf.indexOf('self_size'),
      edgeCount: nf.indexOf('edge_count'), traceNodeId: nf.indexOf('trace_node_id'),
    },
    edgeField: { type: ef.indexOf('type'), nameOrIndex: ef.indexOf('name_or_index'), toNode: ef.indexOf('to_node') },
    nodeTypes: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    nodeCount: header.node_count,
    nodes,
    edges,
    strings,
    traceFunctionInfos: lists.trace_function_infos ?? [],
    traceTree: tree,
    locations: lists.locations ?? [],
  };
}

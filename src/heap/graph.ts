// The shape of a heap snapshot as a graph: who keeps whom alive (the dominator tree, retained sizes) and
// how an object is reached from the roots. Typed arrays throughout: a snapshot has millions of nodes.
import type { Snapshot } from './snapshot.js';

export interface Graph {
  /** First edge (as an edge number) of each node; firstEdge[nodeCount] is the edge count. */
  firstEdge: Uint32Array;
  /** Immediate dominator of each node (node number), the root's own number for the root, -1 if unreachable. */
  idom: Int32Array;
  retained: Float64Array;
  /** Reachable nodes in post-order of a depth-first walk from the root: every node comes before its dominator. */
  postOrder: Uint32Array;
}

/**
 * Dominator tree and retained sizes, by the iterative algorithm of Cooper, Harvey and Kennedy ("A Simple,
 * Fast Dominance Algorithm"), over the edges DevTools counts as retaining: weak edges do not retain, and
 * shortcut edges only from the root.
 */
export function dominatorTree(s: Snapshot): Graph {
  const { nodes, edges, nodeFieldCount: nf, edgeFieldCount: ef, field, edgeField } = s;
  const n = s.nodeCount;
  const weak = s.edgeTypes.indexOf('weak');
  const shortcut = s.edgeTypes.indexOf('shortcut');
  const firstEdge = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) firstEdge[i + 1] = firstEdge[i] + nodes[i * nf + field.edgeCount];
  // Each edge's target (as a node number), or -1 where the edge does not retain.
  const m = firstEdge[n];
  const to = new Int32Array(m);
  for (let v = 0; v < n; v++) {
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e++) {
      const t = edges[e * ef + edgeField.type];
      to[e] = t !== weak && (t !== shortcut || v === 0) ? edges[e * ef + edgeField.toNode] / nf : -1;
    }
  }

  // Depth-first post-order from the root (node 0), without recursion.
  const order = new Int32Array(n).fill(-1);
  const postOrder = new Uint32Array(n);
  const visited = new Uint8Array(n);
  const stack = new Uint32Array(n);
  const nextEdge = new Uint32Array(n);
  let top = 0;
  let count = 0;
  stack[0] = 0;
  visited[0] = 1;
  nextEdge[0] = firstEdge[0];
  while (top >= 0) {
    const v = stack[top];
    let pushed = false;
    while (nextEdge[v] < firstEdge[v + 1]) {
      const w = to[nextEdge[v]++];
      if (w < 0) continue;
      if (visited[w]) continue;
      visited[w] = 1;
      nextEdge[w] = firstEdge[w];
      stack[++top] = w;
      pushed = true;
      break;
    }
    if (!pushed) {
      order[v] = count;
      postOrder[count++] = v;
      top--;
    }
  }

  // Predecessors of each reachable node, by post-order number.
  const predCount = new Uint32Array(count + 1);
  for (let v = 0; v < n; v++) {
    if (order[v] < 0) continue;
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e++) if (to[e] >= 0) predCount[order[to[e]] + 1]++;
  }
  for (let i = 0; i < count; i++) predCount[i + 1] += predCount[i];
  const preds = new Uint32Array(predCount[count]);
  const fill = predCount.slice(0, count);
  for (let v = 0; v < n; v++) {
    if (order[v] < 0) continue;
    for (let e = firstEdge[v]; e < firstEdge[v + 1]; e++) if (to[e] >= 0) preds[fill[order[to[e]]]++] = order[v];
  }

  const root = count - 1;
  const doms = new Int32Array(count).fill(-1);
  doms[root] = root;
  const intersect = (a: number, b: number) => {
    while (a !== b) {
      while (a < b) a = doms[a];
      while (b < a) b = doms[b];
    }
    return a;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (let b = root - 1; b >= 0; b--) {
      let d = -1;
      for (let p = predCount[b]; p < predCount[b + 1]; p++) {
        const q = preds[p];
        if (doms[q] < 0) continue;
        d = d < 0 ? q : intersect(q, d);
      }
      if (d >= 0 && doms[b] !== d) {
        doms[b] = d;
        changed = true;
      }
    }
  }

  const idom = new Int32Array(n).fill(-1);
  const retained = new Float64Array(n);
  for (let i = 0; i < count; i++) {
    const v = postOrder[i];
    idom[v] = postOrder[doms[i]];
    retained[v] = nodes[v * nf + field.selfSize];
  }
  // Post-order puts every node before its dominator: sizes flow up in one pass.
  for (let i = 0; i < root; i++) {
    const v = postOrder[i];
    retained[idom[v]] += retained[v];
  }
  return { firstEdge, idom, retained, postOrder: postOrder.subarray(0, count) };
}

/**
 * The shortest chain of references from the roots to a node, as the last few names on it: variables,
 * properties and [indices], e.g. "cache" or "kept[4711]".
 */
export function retainerPath(s: Snapshot, g: Graph, to: number): string | undefined {
  const { edges, edgeFieldCount: ef, edgeField, nodeFieldCount: nf } = s;
  const weak = s.edgeTypes.indexOf('weak');
  const shortcut = s.edgeTypes.indexOf('shortcut');
  const n = s.nodeCount;
  const via = new Int32Array(n).fill(-1);
  const from = new Int32Array(n).fill(-1);
  const queue = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  from[0] = 0;
  while (head < tail && from[to] < 0) {
    const v = queue[head++];
    for (let e = g.firstEdge[v]; e < g.firstEdge[v + 1]; e++) {
      const t = edges[e * ef + edgeField.type];
      if (t === weak || (t === shortcut && v !== 0)) continue;
      const w = edges[e * ef + edgeField.toNode] / nf;
      if (from[w] >= 0) continue;
      from[w] = v;
      via[w] = e;
      queue[tail++] = w;
    }
  }
  if (from[to] < 0) return undefined;
  const steps: { label: string; type: string }[] = [];
  for (let v = to; v !== 0; v = from[v]) {
    const e = via[v];
    const type = s.edgeTypes[edges[e * ef + edgeField.type]];
    const raw = edges[e * ef + edgeField.nameOrIndex];
    // Internal and hidden edges are V8's bookkeeping; they name nothing in the user's code.
    if (type === 'element') steps.push({ label: `[${raw}]`, type });
    else if (type === 'context' || type === 'property') steps.push({ label: s.strings[raw], type });
  }
  steps.reverse();
  // From the variable that holds it when there is one (module or closure scope), else the last few steps.
  let first = Math.max(0, steps.length - 4);
  for (let i = steps.length - 1; i >= 0; i--) {
    if (steps[i].type === 'context') {
      first = i;
      break;
    }
  }
  const parts = steps.slice(first).map((st) => st.label);
  if (!parts.length) return undefined;
  return parts.map((p, i) => (i === 0 || p.startsWith('[') ? p : `.${p}`)).join('');
}

import type { HeapSnapshot } from './heap-snapshot.js';

/**
 * What the analysis derives from one snapshot's object graph (node indices, 0 = the synthetic root):
 * the dominator tree, retained sizes, and a shortest retainer tree for paths to a GC root.
 */
export interface HeapGraph {
  snapshot: HeapSnapshot;
  /** Immediate dominator of each node; the root's is itself; unreachable nodes: 0xffffffff. */
  idom: Uint32Array;
  /** Self size of the node plus everything it dominates, bytes (Float64: sums exceed 4 GB on big heaps). */
  retained: Float64Array;
  /** Parent node on a shortest path from the root (0xffffffff when unreachable). */
  parent: Uint32Array;
  /** Offset into `edges` of the edge from `parent[i]` to `i`. */
  parentEdge: Uint32Array;
}

const NONE = 0xffffffff;

/** Node `i`'s type name (`object`, `closure`, `array`, `hidden`, …). */
export function nodeType(s: HeapSnapshot, i: number): string {
  return s.nodeTypes[s.nodes[i * s.nodeFieldCount + s.field.type]!] ?? 'unknown';
}

/** Node `i`'s name (constructor name for objects, function name for closures). */
export function nodeName(s: HeapSnapshot, i: number): string {
  return s.strings[s.nodes[i * s.nodeFieldCount + s.field.name]!] ?? '';
}

/** Node `i`'s V8 object id: stable across snapshots of one process, new objects get higher ids. */
export function nodeId(s: HeapSnapshot, i: number): number {
  return s.nodes[i * s.nodeFieldCount + s.field.id]!;
}

/** Node `i`'s own size in bytes. */
export function selfSize(s: HeapSnapshot, i: number): number {
  return s.nodes[i * s.nodeFieldCount + s.field.selfSize]!;
}

/** An edge's type name (`property`, `element`, `context`, `internal`, `hidden`, `shortcut`, `weak`). */
export function edgeType(s: HeapSnapshot, e: number): string {
  return s.edgeTypes[s.edges[e + s.field.edgeType]!] ?? 'unknown';
}

/** An edge's name: the property or variable name, or the element index as a string. */
export function edgeName(s: HeapSnapshot, e: number): string {
  const t = edgeType(s, e);
  const v = s.edges[e + s.field.edgeName]!;
  return t === 'element' || t === 'hidden' ? String(v) : (s.strings[v] ?? '');
}

/** Target node index of an edge. */
export function edgeTarget(s: HeapSnapshot, e: number): number {
  return s.edges[e + s.field.edgeTo]! / s.nodeFieldCount;
}

/**
 * Builds the dominator tree with the iterative algorithm of Cooper, Harvey and Kennedy ("A Simple,
 * Fast Dominance Algorithm", 2001) over the strong edges (weak edges retain nothing), retained sizes
 * by summing self sizes up the tree, and a breadth-first retainer tree that does not pass through
 * V8 code objects (feedback cells, bytecode: they explain nothing to a user).
 */
export function analyzeHeap(s: HeapSnapshot): HeapGraph {
  const n = s.nodeCount;
  const weak = s.edgeTypes.indexOf('weak');
  const ef = s.edgeFieldCount;
  // Depth-first postorder from the root, iteratively.
  const post = new Uint32Array(n).fill(NONE); // node → postorder number
  const order = new Uint32Array(n); // postorder number → node
  const stackNode = new Uint32Array(n);
  const stackEdge = new Uint32Array(n);
  const visited = new Uint8Array(n);
  let sp = 0;
  let count = 0;
  stackNode[0] = 0;
  stackEdge[0] = s.firstEdge[0]!;
  visited[0] = 1;
  sp = 1;
  while (sp > 0) {
    const v = stackNode[sp - 1]!;
    let e = stackEdge[sp - 1]!;
    const end = s.firstEdge[v + 1]!;
    let pushed = false;
    while (e < end) {
      const type = s.edges[e + s.field.edgeType]!;
      const to = s.edges[e + s.field.edgeTo]! / s.nodeFieldCount;
      e += ef;
      if (type === weak || visited[to]) continue;
      visited[to] = 1;
      stackEdge[sp - 1] = e;
      stackNode[sp] = to;
      stackEdge[sp] = s.firstEdge[to]!;
      sp++;
      pushed = true;
      break;
    }
    if (!pushed) {
      post[v] = count;
      order[count++] = v;
      sp--;
    }
  }
  // Predecessors (reachable, strong) in compressed rows.
  const predCount = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) {
    if (post[v] === NONE) continue;
    for (let e = s.firstEdge[v]!; e < s.firstEdge[v + 1]!; e += ef) {
      if (s.edges[e + s.field.edgeType]! === weak) continue;
      predCount[s.edges[e + s.field.edgeTo]! / s.nodeFieldCount + 1]!++;
    }
  }
  for (let v = 0; v < n; v++) predCount[v + 1]! += predCount[v]!;
  const preds = new Uint32Array(predCount[n]!);
  const fill = predCount.slice(0, n);
  for (let v = 0; v < n; v++) {
    if (post[v] === NONE) continue;
    for (let e = s.firstEdge[v]!; e < s.firstEdge[v + 1]!; e += ef) {
      if (s.edges[e + s.field.edgeType]! === weak) continue;
      const to = s.edges[e + s.field.edgeTo]! / s.nodeFieldCount;
      preds[fill[to]!++] = v;
    }
  }
  // Dominators on postorder numbers: the root has the highest.
  const doms = new Uint32Array(count).fill(NONE);
  const rootPo = count - 1;
  doms[rootPo] = rootPo;
  let changed = true;
  while (changed) {
    changed = false;
    for (let po = rootPo - 1; po >= 0; po--) {
      const v = order[po]!;
      let idom = NONE;
      for (let k = predCount[v]!; k < predCount[v + 1]!; k++) {
        const p = post[preds[k]!]!;
        if (doms[p] === NONE) continue;
        if (idom === NONE) {
          idom = p;
          continue;
        }
        let a = p;
        let b = idom;
        while (a !== b) {
          while (a < b) a = doms[a]!;
          while (b < a) b = doms[b]!;
        }
        idom = a;
      }
      if (idom !== NONE && doms[po] !== idom) {
        doms[po] = idom;
        changed = true;
      }
    }
  }
  const idom = new Uint32Array(n).fill(NONE);
  const retained = new Float64Array(n);
  for (let po = 0; po < count; po++) {
    const v = order[po]!;
    idom[v] = order[doms[po]!]!;
    retained[v] = retained[v]! + selfSize(s, v);
    if (po !== rootPo) retained[idom[v]!] = retained[idom[v]!]! + retained[v]!;
  }
  const { parent, parentEdge } = retainerTree(s, weak);
  return { snapshot: s, idom, retained, parent, parentEdge };
}

function retainerTree(s: HeapSnapshot, weak: number): { parent: Uint32Array; parentEdge: Uint32Array } {
  const n = s.nodeCount;
  const ef = s.edgeFieldCount;
  const parent = new Uint32Array(n).fill(NONE);
  const parentEdge = new Uint32Array(n).fill(NONE);
  const codeType = s.nodeTypes.indexOf('code');
  const queue = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  queue[tail++] = 0;
  parent[0] = 0;
  while (head < tail) {
    const v = queue[head++]!;
    // Code objects are reached but never passed through: the path then goes over a user-visible object.
    if (v !== 0 && s.nodes[v * s.nodeFieldCount + s.field.type] === codeType) continue;
    for (let e = s.firstEdge[v]!; e < s.firstEdge[v + 1]!; e += ef) {
      if (s.edges[e + s.field.edgeType]! === weak) continue;
      const to = s.edges[e + s.field.edgeTo]! / s.nodeFieldCount;
      if (parent[to] !== NONE) continue;
      parent[to] = v;
      parentEdge[to] = e;
      queue[tail++] = to;
    }
  }
  return { parent, parentEdge };
}

/** True when node `i` is reachable from the root over strong edges. */
export function reachable(g: HeapGraph, i: number): boolean {
  return g.idom[i] !== NONE;
}

/** The retainer chain of `i` up to the root: `[{ node, edge }]` where `edge` leads from `node` to the previous entry. */
export function retainerChain(g: HeapGraph, i: number, maxLength = 40): { node: number; edge: number }[] {
  const out: { node: number; edge: number }[] = [];
  let v = i;
  while (v !== 0 && g.parent[v] !== NONE && out.length < maxLength) {
    out.push({ node: g.parent[v]!, edge: g.parentEdge[v]! });
    v = g.parent[v]!;
  }
  return out;
}

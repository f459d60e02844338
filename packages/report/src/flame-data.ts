import type { CodeArea } from '@redline/core';
import type { DiffFlameNode, FlameNode, FrameKind } from '@redline/doctor';

/** Area codes in encoded flame data, in this order: app, dependency, node, v8. */
export const AREA_CODES: readonly CodeArea[] = ['app', 'dependency', 'node', 'v8'];
/** Kind codes in encoded flame data. */
export const KIND_CODES: readonly FrameKind[] = ['function', 'root', 'idle', 'program', 'gc'];

/** How tiny nodes are dropped before a tree goes into a page. */
export interface FlamePruneOptions {
  /** Nodes below this share of the root (0–1) are dropped. Default 0.0001 (0.01 %). */
  minShare?: number;
  /** At most this many nodes are kept; the smallest go first. Default 25 000. */
  maxNodes?: number;
}

/**
 * A call tree flattened for the page: nodes in pre-order, `stride` numbers each
 * (`name, file, line, area, kind, a, b, childCount` where a/b are self/total samples for a profile,
 * or base/candidate inclusive shares ×1e6 for a diff, followed in a diff by base/candidate self shares ×1e6).
 */
export interface EncodedFlame {
  mode: 'profile' | 'diff';
  strings: string[];
  stride: number;
  nodes: number[];
  /** Samples of the root (profile) or 1e6 (diff, shares are in millionths). */
  totalSamples: number;
  /** Mean time one sample stands for, in ms; null when unknown. */
  sampleMs: number | null;
  /** What pruning removed: node count, and their samples (profile) or share ×1e6 (diff). */
  pruned: { nodes: number; samples: number; minShare: number };
}

const DEFAULT_MIN_SHARE = 0.0001;
const DEFAULT_MAX_NODES = 25_000;

function checkPrune(opts: FlamePruneOptions): { minShare: number; maxNodes: number } {
  const minShare = opts.minShare ?? DEFAULT_MIN_SHARE;
  const maxNodes = opts.maxNodes ?? DEFAULT_MAX_NODES;
  if (!(minShare >= 0 && minShare < 1)) throw new RangeError(`flame minShare must be in [0, 1), got ${minShare}`);
  if (!Number.isInteger(maxNodes) || maxNodes < 1) throw new RangeError(`flame maxNodes must be a positive integer, got ${maxNodes}`);
  return { minShare, maxNodes };
}

class StringTable {
  readonly strings: string[] = [];
  readonly #index = new Map<string, number>();
  id(s: string): number {
    let i = this.#index.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.#index.set(s, i);
    }
    return i;
  }
}

/** The test a node's size must pass to stay, so that at most `maxNodes` nodes are kept. */
function keeper(sizes: number[], floor: number, maxNodes: number): (size: number) => boolean {
  const kept = sizes.filter((s) => s >= floor && s > 0);
  if (kept.length <= maxNodes) return (s) => s >= floor && s > 0;
  kept.sort((a, b) => b - a);
  // Strictly above the first dropped size: a parent is never smaller than its child, so ancestors stay.
  const limit = kept[maxNodes]!;
  return (s) => s > limit && s >= floor;
}

/**
 * Flattens a CPU-profile call tree for the page, dropping nodes below `minShare` of the root and,
 * if still too many, the smallest until `maxNodes` remain. `sampleMs` is the mean sampling interval.
 */
export function encodeFlameTree(root: FlameNode, sampleMs: number | null, opts: FlamePruneOptions = {}): EncodedFlame {
  const { minShare, maxNodes } = checkPrune(opts);
  const total = root.totalSamples;
  const sizes: number[] = [];
  const stack: FlameNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    sizes.push(n.totalSamples);
    for (const c of n.children) stack.push(c);
  }
  const keep = keeper(sizes, total * minShare, maxNodes);
  const table = new StringTable();
  const nodes: number[] = [];
  let prunedNodes = 0;
  let prunedSamples = 0;
  const countSubtree = (root: FlameNode): number => {
    let c = 0;
    const stack = [root];
    while (stack.length > 0) {
      const n = stack.pop()!;
      c++;
      for (const k of n.children) stack.push(k);
    }
    return c;
  };
  // Iterative pre-order walk: recursive code gives stacks thousands of frames deep.
  const todo: FlameNode[] = [root];
  while (todo.length > 0) {
    const n = todo.pop()!;
    const kids = n.children.filter((c) => keep(c.totalSamples));
    for (const c of n.children) {
      if (!keep(c.totalSamples)) {
        prunedNodes += countSubtree(c);
        prunedSamples += c.totalSamples;
      }
    }
    nodes.push(table.id(n.name), table.id(n.file), n.line, AREA_CODES.indexOf(n.area), Math.max(0, KIND_CODES.indexOf(n.kind)), n.selfSamples, n.totalSamples, kids.length);
    for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]!);
  }
  return { mode: 'profile', strings: table.strings, stride: 8, nodes, totalSamples: total, sampleMs, pruned: { nodes: prunedNodes, samples: prunedSamples, minShare } };
}

const MICRO = 1e6;

function countDiffSubtree(root: DiffFlameNode): number {
  let count = 0;
  const todo = [root];
  while (todo.length > 0) {
    const n = todo.pop()!;
    count++;
    for (const c of n.children) todo.push(c);
  }
  return count;
}

/**
 * Flattens a differential call tree (shares of each side) for the page, dropping paths whose larger
 * share is below `minShare` and, if still too many, the smallest.
 */
export function encodeDiffTree(root: DiffFlameNode, opts: FlamePruneOptions = {}): EncodedFlame {
  const { minShare, maxNodes } = checkPrune(opts);
  const size = (n: DiffFlameNode): number => Math.max(n.baseShare, n.candidateShare);
  const sizes: number[] = [];
  const stack: DiffFlameNode[] = [root];
  while (stack.length > 0) {
    const n = stack.pop()!;
    sizes.push(size(n));
    for (const c of n.children) stack.push(c);
  }
  const keep = keeper(sizes, minShare, maxNodes);
  const table = new StringTable();
  const nodes: number[] = [];
  let prunedNodes = 0;
  let prunedShare = 0;
  const todo: DiffFlameNode[] = [root];
  while (todo.length > 0) {
    const n = todo.pop()!;
    // Widest first, as in the profile view; the diff tree arrives ordered by change instead.
    const kids = n.children.filter((c) => keep(size(c))).sort((a, b) => b.baseShare + b.candidateShare - (a.baseShare + a.candidateShare));
    for (const c of n.children) {
      if (!keep(size(c))) {
        prunedNodes += countDiffSubtree(c);
        prunedShare += (c.baseShare + c.candidateShare) / 2;
      }
    }
    nodes.push(
      table.id(n.name),
      table.id(n.file),
      n.line,
      AREA_CODES.indexOf(n.area),
      Math.max(0, KIND_CODES.indexOf(n.kind)),
      Math.round(n.baseShare * MICRO),
      Math.round(n.candidateShare * MICRO),
      kids.length,
      Math.round(n.baseSelfShare * MICRO),
      Math.round(n.candidateSelfShare * MICRO),
    );
    for (let i = kids.length - 1; i >= 0; i--) todo.push(kids[i]!);
  }
  return { mode: 'diff', strings: table.strings, stride: 10, nodes, totalSamples: MICRO, sampleMs: null, pruned: { nodes: prunedNodes, samples: Math.round(prunedShare * MICRO), minShare } };
}

/** Adds call trees together by call path (function name and file at each level). */
export function mergeFlameTrees(trees: readonly FlameNode[]): FlameNode | null {
  if (trees.length === 0) return null;
  const clone = (n: FlameNode): FlameNode => ({ ...n, children: n.children.map(clone) });
  const key = (n: FlameNode): string => `${n.name}\u0000${n.file}`;
  const into = (a: FlameNode, b: FlameNode): void => {
    a.selfSamples += b.selfSamples;
    a.totalSamples += b.totalSamples;
    const byKey = new Map(a.children.map((c) => [key(c), c]));
    for (const c of b.children) {
      const existing = byKey.get(key(c));
      if (existing === undefined) {
        const copy = clone(c);
        a.children.push(copy);
        byKey.set(key(copy), copy);
      } else into(existing, c);
    }
  };
  const out = clone(trees[0]!);
  for (const t of trees.slice(1)) into(out, t);
  const sortTree = (n: FlameNode): void => {
    n.children.sort((x, y) => y.totalSamples - x.totalSamples);
    n.children.forEach(sortTree);
  };
  sortTree(out);
  return out;
}

/** One function's time in base and candidate profiles, as shares of each profile's samples (0–1). */
export interface FunctionMover {
  name: string;
  file: string;
  line: number;
  area: CodeArea;
  baseSelfShare: number;
  candidateSelfShare: number;
  baseTotalShare: number;
  candidateTotalShare: number;
  /** candidateSelfShare − baseSelfShare. */
  selfDelta: number;
  /** candidateTotalShare − baseTotalShare. */
  totalDelta: number;
}

interface Shares {
  name: string;
  file: string;
  line: number;
  area: CodeArea;
  self: number;
  total: number;
}

function functionShares(root: FlameNode): Map<string, Shares> {
  const out = new Map<string, Shares>();
  const total = root.totalSamples;
  if (total === 0) return out;
  // Inclusive time counts a function once per path, however often it recurses on it.
  const todo: { n: FlameNode; onPath: ReadonlySet<string> }[] = [{ n: root, onPath: new Set() }];
  while (todo.length > 0) {
    const { n, onPath } = todo.pop()!;
    const k = `${n.name}\u0000${n.file}`;
    let s = out.get(k);
    if (s === undefined) out.set(k, (s = { name: n.name, file: n.file, line: n.line, area: n.area, self: 0, total: 0 }));
    s.self += n.selfSamples / total;
    if (!onPath.has(k)) s.total += n.totalSamples / total;
    const next = onPath.has(k) ? onPath : new Set([...onPath, k]);
    for (const c of n.children) todo.push({ n: c, onPath: next });
  }
  return out;
}

/**
 * The functions whose share of CPU samples moved most between two profiles, by self-time change
 * (largest absolute change first). Synthetic frames `(root)`, `(idle)` and `(program)` are left out.
 */
export function topMovers(base: FlameNode, candidate: FlameNode, limit = 15): FunctionMover[] {
  const b = functionShares(base);
  const c = functionShares(candidate);
  const out: FunctionMover[] = [];
  for (const k of new Set([...b.keys(), ...c.keys()])) {
    const x = b.get(k);
    const y = c.get(k);
    const info = (y ?? x)!;
    if (info.name === '(root)' || info.name === '(idle)' || info.name === '(program)') continue;
    const m: FunctionMover = {
      name: info.name,
      file: info.file,
      line: info.line,
      area: info.area,
      baseSelfShare: x?.self ?? 0,
      candidateSelfShare: y?.self ?? 0,
      baseTotalShare: x?.total ?? 0,
      candidateTotalShare: y?.total ?? 0,
      selfDelta: (y?.self ?? 0) - (x?.self ?? 0),
      totalDelta: (y?.total ?? 0) - (x?.total ?? 0),
    };
    if (m.selfDelta === 0 && m.totalDelta === 0) continue;
    out.push(m);
  }
  out.sort((p, q) => Math.abs(q.selfDelta) - Math.abs(p.selfDelta) || Math.abs(q.totalDelta) - Math.abs(p.totalDelta));
  return out.slice(0, Math.max(0, limit));
}

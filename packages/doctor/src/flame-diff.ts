import type { FlameFrame, FlameNode } from './profile-model.js';

/**
 * A node of the difference between two call trees. Shares are of each tree's own root total, so
 * profiles with different sample counts compare fairly; `delta` = candidateShare − baseShare
 * (positive: the candidate spends more of its time under this path).
 */
export interface DiffFlameNode extends FlameFrame {
  /** Inclusive share of the base tree's samples, 0–1 (0 when the path is absent in base). */
  baseShare: number;
  /** Inclusive share of the candidate tree's samples, 0–1. */
  candidateShare: number;
  /** Self shares, 0–1. */
  baseSelfShare: number;
  candidateSelfShare: number;
  delta: number;
  children: DiffFlameNode[];
}

// Line numbers move between builds of the same code; name + file identify a function across runs.
const keyOf = (n: FlameNode): string => `${n.name}\u0000${n.file}`;

/**
 * Merges two call trees by call path (function name and file at each level) and reports, for every
 * path present in either, its share of each tree and the change. Children are ordered by the size of
 * the change, largest first. Empty trees give shares of 0.
 */
export function diffFlameTrees(base: FlameNode, candidate: FlameNode): DiffFlameNode {
  const baseTotal = base.totalSamples;
  const candTotal = candidate.totalSamples;
  const share = (v: number, total: number): number => (total > 0 ? v / total : 0);
  const walk = (b: FlameNode | undefined, c: FlameNode | undefined): DiffFlameNode => {
    const info = (c ?? b)!;
    const baseShare = share(b?.totalSamples ?? 0, baseTotal);
    const candidateShare = share(c?.totalSamples ?? 0, candTotal);
    const node: DiffFlameNode = {
      name: info.name,
      file: info.file,
      line: info.line,
      column: info.column,
      area: info.area,
      kind: info.kind,
      baseShare,
      candidateShare,
      baseSelfShare: share(b?.selfSamples ?? 0, baseTotal),
      candidateSelfShare: share(c?.selfSamples ?? 0, candTotal),
      delta: candidateShare - baseShare,
      children: [],
    };
    const pairs = new Map<string, { b?: FlameNode; c?: FlameNode }>();
    for (const child of b?.children ?? []) {
      const p = pairs.get(keyOf(child)) ?? {};
      // Two children of one parent can share a key when only the line differs: add them up.
      p.b = p.b === undefined ? child : mergeFlame(p.b, child);
      pairs.set(keyOf(child), p);
    }
    for (const child of c?.children ?? []) {
      const p = pairs.get(keyOf(child)) ?? {};
      p.c = p.c === undefined ? child : mergeFlame(p.c, child);
      pairs.set(keyOf(child), p);
    }
    for (const p of pairs.values()) node.children.push(walk(p.b, p.c));
    node.children.sort((x, y) => Math.abs(y.delta) - Math.abs(x.delta) || y.candidateShare - x.candidateShare);
    return node;
  };
  return walk(base, candidate);
}

function mergeFlame(a: FlameNode, b: FlameNode): FlameNode {
  return {
    ...a,
    selfSamples: a.selfSamples + b.selfSamples,
    totalSamples: a.totalSamples + b.totalSamples,
    children: [...a.children, ...b.children],
  };
}

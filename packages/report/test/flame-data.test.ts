import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FlameNode } from '@redline/doctor';
import { diffFlameTrees } from '@redline/doctor';
import { encodeDiffTree, encodeFlameTree, mergeFlameTrees, topMovers } from '../src/index.ts';
import { randomFlameTree, serviceFlameTree } from './helpers/synthetic-run.ts';

function countNodes(root: FlameNode): number {
  let n = 0;
  const todo = [root];
  while (todo.length > 0) {
    const x = todo.pop()!;
    n++;
    todo.push(...x.children);
  }
  return n;
}

describe('flame data for pages', () => {
  it('keeps every node of a small tree, in pre-order with child counts', () => {
    const tree = serviceFlameTree(1);
    const enc = encodeFlameTree(tree, 1);
    assert.equal(enc.nodes.length / enc.stride, countNodes(tree));
    assert.equal(enc.pruned.nodes, 0);
    assert.equal(enc.strings[enc.nodes[0]!], '(root)');
    assert.equal(enc.nodes[6], tree.totalSamples);
    assert.equal(enc.nodes[7], tree.children.length);
  });

  it('prunes nodes under minShare, and the smallest beyond maxNodes, keeping every kept node\'s ancestors', () => {
    const tree = randomFlameTree(20_000, 3);
    const total = countNodes(tree);
    const enc = encodeFlameTree(tree, null, { minShare: 0.001, maxNodes: 500 });
    const kept = enc.nodes.length / enc.stride;
    assert.ok(kept <= 500, `kept ${kept}`);
    assert.equal(kept + enc.pruned.nodes, total);
    // Re-reading the pre-order with child counts must consume the array exactly (the tree is whole).
    let i = 0;
    const read = (): void => {
      const children = enc.nodes[i * enc.stride + 7]!;
      const totalSamples = enc.nodes[i * enc.stride + 6]!;
      assert.ok(totalSamples >= tree.totalSamples * 0.001);
      i++;
      for (let k = 0; k < children; k++) read();
    };
    read();
    assert.equal(i, kept);
    assert.throws(() => encodeFlameTree(tree, null, { minShare: 1.5 }), /minShare must be in \[0, 1\), got 1\.5/);
    assert.throws(() => encodeFlameTree(tree, null, { maxNodes: 0 }), /maxNodes must be a positive integer, got 0/);
  });

  it('merges trees by call path and finds the function whose share moved', () => {
    const a = serviceFlameTree(1);
    const merged = mergeFlameTrees([a, serviceFlameTree(1)])!;
    assert.equal(merged.totalSamples, 2 * a.totalSamples);
    assert.equal(countNodes(merged), countNodes(a));
    const b = serviceFlameTree(1);
    const find = (n: FlameNode, name: string): FlameNode | undefined => (n.name === name ? n : n.children.map((c) => find(c, name)).find(Boolean));
    find(b, 'formatPrice')!.selfSamples += 1000;
    const fix = (n: FlameNode): number => (n.totalSamples = n.selfSamples + n.children.reduce((s, c) => s + fix(c), 0));
    fix(b);
    const movers = topMovers(a, b, 5);
    assert.equal(movers[0]!.name, 'formatPrice');
    assert.ok(movers[0]!.selfDelta > 0);
    assert.ok(movers.slice(1).every((m) => m.selfDelta <= 0));
    const diff = encodeDiffTree(diffFlameTrees(a, b));
    assert.equal(diff.mode, 'diff');
    assert.equal(diff.nodes[5], 1e6);
    assert.equal(diff.nodes[6], 1e6);
  });
});

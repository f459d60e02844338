import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { measuredKnee } from '../src/index.ts';

const pts = (pairs: Array<[number, number]>): Array<{ concurrency: number; throughput: number }> =>
  pairs.map(([concurrency, throughput]) => ({ concurrency, throughput }));

describe('measuredKnee', () => {
  it('finds the corner of a linear-then-flat curve', () => {
    const knee = measuredKnee(pts([[1, 50], [2, 100], [4, 200], [8, 400], [12, 400], [20, 400], [40, 400]]));
    assert.deepEqual(knee, { concurrency: 8, throughput: 400 });
  });

  it('finds the bend before a retrograde fall, not after it', () => {
    const knee = measuredKnee(pts([[1, 100], [5, 480], [10, 900], [20, 1200], [40, 1250], [80, 1000], [160, 600]]));
    assert.ok(knee && knee.concurrency <= 40 && knee.concurrency >= 20, JSON.stringify(knee));
  });

  it('returns the only candidates for tiny inputs', () => {
    assert.equal(measuredKnee(pts([[1, 10]])), null);
    assert.deepEqual(measuredKnee(pts([[1, 10], [2, 20]])), { concurrency: 2, throughput: 20 });
  });
});

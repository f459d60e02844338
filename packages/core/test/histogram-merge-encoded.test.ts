import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LatencyHistogram } from '@redline/core';

/** A histogram of `n` pseudo-random latencies from 1 µs to hours, including huge counts. */
function sample(seed: number, n: number): LatencyHistogram {
  const h = new LatencyHistogram();
  let s = seed;
  const next = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < n; i++) h.recordUs(Math.exp(next() * 22));
  h.recordUs(5000, 1_000_000_000);
  return h;
}

describe('LatencyHistogram.mergeEncoded', () => {
  it('adds exactly what decode + merge adds: same counts, percentiles, min and max', () => {
    const parts = [sample(1, 5000), sample(2, 1), sample(3, 20000), new LatencyHistogram()];
    const slow = new LatencyHistogram();
    const fast = new LatencyHistogram();
    for (const p of parts) {
      const e = p.encode();
      slow.merge(LatencyHistogram.decode(e));
      fast.mergeEncoded(e);
    }
    assert.equal(fast.count, slow.count);
    assert.deepEqual(fast.summary(), slow.summary());
    for (const p of [0, 1, 50, 90, 99, 99.9, 99.99, 100]) assert.equal(fast.percentileMs(p), slow.percentileMs(p), `p${p}`);
    // Same samples after a round trip (the encodings' headers may differ in the tracked range).
    assert.deepEqual(LatencyHistogram.decode(fast.encode()).summary(), slow.summary());
  });

  it('falls back to decode + merge for a histogram of another geometry, and refuses garbage', () => {
    const fast = new LatencyHistogram().mergeEncoded(sample(4, 100).encode());
    assert.equal(fast.count, 1_000_000_100);
    assert.throws(() => new LatencyHistogram().mergeEncoded('bm90IGEgaGlzdG9ncmFt'));
  });
});

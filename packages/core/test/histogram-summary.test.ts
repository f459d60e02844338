import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as hdr from 'hdr-histogram-js';
import { LatencyHistogram } from '@redline/core';

/** A histogram of `n` pseudo-random latencies: log-uniform up to e^`spread` µs, optional huge counts. */
function sample(seed: number, n: number, spread: number, heavy = false): LatencyHistogram {
  const h = new LatencyHistogram();
  let s = seed;
  const next = (): number => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let i = 0; i < n; i++) h.recordUs(Math.exp(next() * spread));
  if (heavy) h.recordUs(5000, 1_000_000_000);
  return h;
}

/** The summary as hdr-histogram-js computes it, one walk over the counts per statistic. */
function reference(h: LatencyHistogram): Record<string, number> {
  const r = h.raw;
  const at = (p: number): number => r.getValueAtPercentile(p) / 1000;
  return { count: r.totalCount, min: at(0), mean: r.mean / 1000, stdev: r.stdDeviation / 1000, p50: at(50), p75: at(75), p90: at(90), p95: at(95), p99: at(99), p999: at(99.9), max: at(100) };
}

describe('LatencyHistogram statistics in one pass', () => {
  const cases: Array<[string, LatencyHistogram]> = [
    ['one sample', sample(1, 1, 5)],
    ['tight (1–150 µs)', sample(2, 10_000, 5)],
    ['wide (1 µs to hours, resized)', sample(3, 20_000, 22)],
    ['a billion samples at one value', sample(4, 300, 12, true)],
    ['decoded from its encoding', LatencyHistogram.decode(sample(5, 5_000, 14).encode())],
    ['merged from encodings', new LatencyHistogram().mergeEncoded(sample(6, 2_000, 10).encode()).mergeEncoded(sample(7, 3_000, 16).encode())],
  ];

  it('summary() equals hdr-histogram-js exactly: percentiles, min, max, mean and stdev', () => {
    for (const [name, h] of cases) assert.deepEqual({ ...h.summary() }, reference(h), name);
  });

  it('percentilesMs() and meanMs equal percentileMs() of each and the hdr mean', () => {
    const ps = [0, 0.1, 1, 10, 25, 50, 90, 99, 99.9, 99.99, 99.999, 100];
    for (const [name, h] of cases) {
      assert.deepEqual(h.percentilesMs(ps), ps.map((p) => h.percentileMs(p)), name);
      assert.equal(h.meanMs, h.raw.mean / 1000, name);
    }
  });

  it('is all zeros for an empty histogram, and the spectrum ends at the maximum', () => {
    const empty = new LatencyHistogram();
    assert.deepEqual(empty.percentilesMs([0, 50, 100]), [0, 0, 0]);
    assert.equal(empty.summary().stdev, 0);
    assert.equal(empty.meanMs, 0);
    assert.deepEqual(empty.spectrum(), []);
    const h = cases[2]![1];
    const spectrum = h.spectrum();
    assert.deepEqual(spectrum.at(-1), { percentile: 100, valueMs: h.maxMs });
    for (const point of spectrum) assert.equal(point.valueMs, h.percentileMs(point.percentile), `p${point.percentile}`);
  });
});

describe('LatencyHistogram.encode', () => {
  it('writes the bytes hdr-histogram-js writes, and decodes to the same histogram', () => {
    const cases = [new LatencyHistogram(), sample(1, 1, 5), sample(2, 10_000, 5), sample(3, 20_000, 22), sample(4, 300, 12, true)];
    // Counts past 2^31 (the 32-bit buckets' range) take the longest words they can need.
    const huge = new LatencyHistogram();
    huge.recordUs(10, 2 ** 31 + 5);
    huge.recordUs(20, 4_000_000_000);
    huge.recordUs(3_000_000_000, 3);
    cases.push(huge);
    for (const h of cases) {
      const encoded = h.encode();
      assert.equal(encoded, hdr.encodeIntoCompressedBase64(h.raw));
      assert.deepEqual(LatencyHistogram.decode(encoded).summary(), h.summary());
    }
  });
});

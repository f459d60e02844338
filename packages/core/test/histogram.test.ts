import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyHistogram, seededRandom, bootstrapCI, mean } from '@redline/core';

test('merged histograms give exactly the percentiles of one histogram holding all samples', () => {
  const rand = seededRandom(42);
  const parts = [new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()];
  const whole = new LatencyHistogram();
  for (let i = 0; i < 30_000; i++) {
    // long-tailed latencies between 0.1 ms and ~2 s
    const us = 100 * Math.exp(rand() * 10);
    parts[i % 3]!.recordUs(us);
    whole.recordUs(us);
  }
  const merged = LatencyHistogram.mergeEncoded(parts.map((p) => p.encode()));
  assert.equal(merged.count, whole.count);
  for (const p of [0, 50, 90, 99, 99.9, 99.99, 100]) {
    assert.equal(merged.percentileMs(p), whole.percentileMs(p), `p${p}`);
  }
  assert.deepEqual(merged.summary(), whole.summary());
});

test('encode/decode round-trips and clamps out-of-range values', () => {
  const h = new LatencyHistogram();
  h.recordMs(0.0001);
  h.recordMs(5);
  h.recordMs(10_000_000); // beyond one hour: clamped
  const back = LatencyHistogram.decode(h.encode());
  assert.equal(back.count, 3);
  assert.ok(Math.abs(back.percentileMs(50) - 5) / 5 < 0.001);
  assert.ok(back.maxMs <= 3_600_000 * 1.001);
});

test('spectrum is monotonic and ends at the max', () => {
  const h = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) h.recordMs(i);
  const s = h.spectrum();
  for (let i = 1; i < s.length; i++) assert.ok(s[i]!.valueMs >= s[i - 1]!.valueMs);
  assert.equal(s.at(-1)!.percentile, 100);
  assert.ok(Math.abs(s.at(-1)!.valueMs - 1000) <= 1);
  const buckets = h.buckets();
  assert.equal(buckets.reduce((a, [, c]) => a + c, 0), 1000);
});

test('bootstrapCI brackets the mean of a known sample and is deterministic per seed', () => {
  const rand = seededRandom(7);
  const xs = Array.from({ length: 200 }, () => 100 + rand() * 10);
  const a = bootstrapCI(xs, mean, { seed: 3 });
  const b = bootstrapCI(xs, mean, { seed: 3 });
  assert.deepEqual(a, b);
  assert.ok(a.low < a.estimate && a.estimate < a.high);
  assert.ok(a.low > 104 && a.high < 106);
});

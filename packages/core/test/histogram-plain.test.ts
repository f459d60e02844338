import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import { describe, it } from 'node:test';
import * as hdr from 'hdr-histogram-js';
import { LatencyHistogram } from '@redline/core';

/** A histogram of `n` pseudo-random latencies from 1 µs to hours, plus one huge count (a 5-byte LEB128 word). */
function sample(seed: number, n: number, huge = true): LatencyHistogram {
  const h = new LatencyHistogram();
  let s = seed;
  const next = (): number => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  for (let i = 0; i < n; i++) h.recordUs(Math.exp(next() * 22));
  if (huge) h.recordUs(5000, 1_000_000_000);
  return h;
}

/** The counts array as [index, count] pairs of non-empty buckets. */
function counts(h: LatencyHistogram): Array<[number, number]> {
  const raw = h.raw as unknown as { countsArrayLength: number; getCountAtIndex(i: number): number };
  const out: Array<[number, number]> = [];
  for (let i = 0; i < raw.countsArrayLength; i++) if (raw.getCountAtIndex(i) > 0) out.push([i, raw.getCountAtIndex(i)]);
  return out;
}

describe('LatencyHistogram.encodePlain (uncompressed HdrHistogram V2)', () => {
  const cases = [sample(1, 5000), sample(2, 1, false), sample(3, 20_000), new LatencyHistogram()];
  const single = new LatencyHistogram();
  single.recordMs(3);
  cases.push(single);

  it('round-trips exactly: same counts, min, max and percentiles as the histogram, through decode and mergeEncoded', () => {
    for (const h of cases) {
      const back = LatencyHistogram.decode(h.encodePlain());
      assert.equal(back.count, h.count);
      assert.deepEqual(back.summary(), h.summary());
      assert.deepEqual(counts(back), counts(h));
      const viaCompressed = new LatencyHistogram().mergeEncoded(h.encode());
      const viaPlain = new LatencyHistogram().mergeEncoded(h.encodePlain());
      assert.deepEqual(counts(viaPlain), counts(viaCompressed));
      assert.deepEqual(viaPlain.summary(), viaCompressed.summary());
    }
  });

  it('writes the payload HdrHistogram itself writes, and the reference decoder reads it', () => {
    for (const h of cases) {
      const plain = Buffer.from(h.encodePlain(), 'base64');
      // The compressed encoding wraps the uncompressed one: its payload (after the 40-byte header) must be ours byte for byte.
      const packed = Buffer.from(h.encode(), 'base64');
      const inner = inflateSync(packed.subarray(8, 8 + packed.readInt32BE(4)));
      assert.equal(plain.readInt32BE(0), inner.readInt32BE(0), 'cookie');
      assert.equal(plain.readInt32BE(4), inner.readInt32BE(4), 'payload length');
      assert.deepEqual(plain.subarray(40), inner.subarray(40, 40 + inner.readInt32BE(4)));
      // hdr-histogram-js decodes it into the same counts.
      const ref = (hdr.JsHistogram as unknown as { decode(data: Uint8Array, bits: number): hdr.Histogram }).decode(new Uint8Array(plain), 32);
      assert.equal(ref.totalCount, h.count);
      assert.deepEqual(counts(new LatencyHistogram(ref)), counts(h));
    }
  });

  it('adds into a histogram holding other samples exactly as merge does, and refuses truncated input', () => {
    const a = sample(4, 3000);
    const b = sample(5, 3000);
    const viaMerge = LatencyHistogram.decode(a.encode()).merge(b);
    const viaPlain = new LatencyHistogram().mergeEncoded(a.encodePlain()).mergeEncoded(b.encodePlain());
    assert.deepEqual(counts(viaPlain), counts(viaMerge));
    assert.deepEqual(viaPlain.summary(), viaMerge.summary());
    const plain = Buffer.from(a.encodePlain(), 'base64');
    assert.throws(() => new LatencyHistogram().mergeEncoded(plain.subarray(0, plain.length - 10).toString('base64')), /truncated HdrHistogram encoding/);
  });

  it('stays within three times the size of the deflated form', () => {
    const h = sample(6, 2000, false);
    const plain = h.encodePlain().length;
    const deflated = h.encode().length;
    // Deflate saves bytes on these sparse counts, but not an order of magnitude.
    assert.ok(plain > deflated && plain < deflated * 3, `plain ${plain} vs deflated ${deflated} base64 chars`);
  });
});

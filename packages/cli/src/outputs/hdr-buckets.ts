import type { LatencyHistogram } from '@redline/core';

/** The parts of hdr-histogram-js's JsHistogram that a direct walk of the counts needs. */
interface RawCounts {
  countsArrayLength: number;
  totalCount: number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  highestEquivalentValue(value: number): number;
}

/**
 * Non-empty buckets of a latency histogram as [ms, count] pairs (each bucket's highest equivalent
 * value, as `LatencyHistogram.buckets()` gives them). Walks the counts array directly and stops at
 * the last sample: the library's iterator allocates per step and cost ~4 ms for a busy second.
 */
export function hdrBuckets(h: LatencyHistogram): Array<[number, number]> {
  const raw = h.raw as unknown as RawCounts;
  const out: Array<[number, number]> = [];
  let left = raw.totalCount;
  for (let i = 0; i < raw.countsArrayLength && left > 0; i++) {
    const n = raw.getCountAtIndex(i);
    if (n <= 0) continue;
    out.push([raw.highestEquivalentValue(raw.valueFromIndex(i)) / 1000, n]);
    left -= n;
  }
  return out;
}

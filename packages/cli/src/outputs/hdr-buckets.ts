import { LatencyHistogram } from '@redline/core';

/** The parts of hdr-histogram-js's JsHistogram that a direct walk of the counts needs. */
interface RawCounts {
  countsArrayLength: number;
  totalCount: number;
  subBucketHalfCount: number;
  unitMagnitude: number;
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
  const w = walkHdr(h);
  const out: Array<[number, number]> = [];
  for (let k = 0; k < w.length; k++) out.push([w.us[k]! / 1000, w.count[k]!]);
  return out;
}

/**
 * One second's non-empty HDR buckets, walked once for every output: the counts-array index, the
 * bucket's value (its highest equivalent value, in µs) and its count, in index order (so in value
 * order).
 */
export interface HdrWalk {
  length: number;
  index: Int32Array;
  us: Float64Array;
  count: Float64Array;
}

const EMPTY: HdrWalk = { length: 0, index: new Int32Array(0), us: new Float64Array(0), count: new Float64Array(0) };

/** Bucket values by counts index (the same for every histogram of one layout), filled as met; NaN = not yet. */
let valueCache = new Float64Array(0);
let cacheLayout = '';

function valueAt(raw: RawCounts, i: number): number {
  if (i >= valueCache.length) {
    const next = new Float64Array(Math.max(raw.countsArrayLength, i + 1)).fill(Number.NaN);
    next.set(valueCache);
    valueCache = next;
  }
  let v = valueCache[i]!;
  if (Number.isNaN(v)) valueCache[i] = v = raw.highestEquivalentValue(raw.valueFromIndex(i));
  return v;
}

function useLayout(raw: RawCounts): void {
  const layout = `${raw.subBucketHalfCount}/${raw.unitMagnitude}`;
  if (layout !== cacheLayout) {
    cacheLayout = layout;
    valueCache = new Float64Array(0);
  }
}

/** Walks a histogram's counts array up to its last sample (bucket values cached per index). */
export function walkHdr(h: LatencyHistogram): HdrWalk {
  const raw = h.raw as unknown as RawCounts;
  if (raw.totalCount === 0) return EMPTY;
  useLayout(raw);
  let cap = 256;
  let index = new Int32Array(cap);
  let us = new Float64Array(cap);
  let count = new Float64Array(cap);
  let n = 0;
  let left = raw.totalCount;
  for (let i = 0; i < raw.countsArrayLength && left > 0; i++) {
    const c = raw.getCountAtIndex(i);
    if (c <= 0) continue;
    if (n === cap) {
      cap *= 2;
      const ni = new Int32Array(cap);
      ni.set(index);
      index = ni;
      const nu = new Float64Array(cap);
      nu.set(us);
      us = nu;
      const nc = new Float64Array(cap);
      nc.set(count);
      count = nc;
    }
    index[n] = i;
    us[n] = valueAt(raw, i);
    count[n] = c;
    n++;
    left -= c;
  }
  return { length: n, index, us, count };
}

/**
 * A function of a bucket's value (µs), cached by counts index: what bucket of another layout (a native
 * histogram's, a classic bound's) each HDR bucket falls in, computed once per run instead of once
 * per bucket and second.
 */
export class IndexLookup {
  readonly #fn: (us: number) => number;
  #cache = new Float64Array(0);
  #layout = '';

  constructor(fn: (us: number) => number) {
    this.#fn = fn;
  }

  at(index: number, us: number): number {
    if (this.#layout !== cacheLayout) {
      this.#layout = cacheLayout;
      this.#cache = new Float64Array(0);
    }
    if (index >= this.#cache.length) {
      const next = new Float64Array(Math.max(this.#cache.length * 2, index + 1, 1024)).fill(Number.NaN);
      next.set(this.#cache);
      this.#cache = next;
    }
    let v = this.#cache[index]!;
    if (Number.isNaN(v)) this.#cache[index] = v = this.#fn(us);
    return v;
  }
}

/**
 * Fills the bucket values and `lookups` for every counts index of a fresh histogram (values up to
 * its highest trackable value, 10 s), when an output opens: no second of the run pays for them
 * (a busy first second met thousands of new indices). Values beyond are looked up when met.
 */
export function prefillLookups(...lookups: IndexLookup[]): void {
  const raw = new LatencyHistogram().raw as unknown as RawCounts;
  useLayout(raw);
  for (let i = 0; i < raw.countsArrayLength; i++) {
    const us = valueAt(raw, i);
    for (const l of lookups) l.at(i, us);
  }
}

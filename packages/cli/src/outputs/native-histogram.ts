import type { LatencyHistogram } from '@redline/core';
import { IndexLookup, hdrBuckets, type HdrWalk } from './hdr-buckets.js';

/** Prometheus native-histogram schema used here: 2^3 buckets per power of two (about 9 % wide). */
export const NATIVE_SCHEMA = 3;

/** Values at or below this (seconds) go to the zero bucket. */
export const ZERO_THRESHOLD = 1e-9;

/** A span of consecutive buckets, as in prompb.BucketSpan. */
export interface BucketSpan {
  offset: number;
  length: number;
}

/**
 * A cumulative, sparse exponential histogram in seconds (Prometheus native histograms; OTLP
 * exponential histograms use the same buckets shifted by one index). HDR seconds are folded in as
 * they come, so the counts only grow, as a Prometheus counter-histogram must.
 */
export class NativeHistogram {
  readonly schema: number;
  readonly buckets = new Map<number, number>();
  count = 0;
  sum = 0;
  zeroCount = 0;

  constructor(schema = NATIVE_SCHEMA) {
    this.schema = schema;
  }

  /** Bucket index of a value v > 0: bucket i holds (base^(i−1), base^i], base = 2^(2^−schema). */
  index(v: number): number {
    // + 0 turns the -0 of ceil(-tiny) into 0.
    return Math.ceil(Math.log2(v) * 2 ** this.schema - 1e-9) + 0;
  }

  /** Upper bound of bucket i, in seconds. */
  upperBound(i: number): number {
    return 2 ** (i / 2 ** this.schema);
  }

  add(seconds: number, n: number): void {
    this.count += n;
    this.sum += seconds * n;
    if (seconds <= ZERO_THRESHOLD) {
      this.zeroCount += n;
      return;
    }
    const i = this.index(seconds);
    this.buckets.set(i, (this.buckets.get(i) ?? 0) + n);
  }

  /** Folds in one second's HDR histogram (milliseconds; bucket representatives). */
  addHdr(h: LatencyHistogram): void {
    if (h.count === 0) return;
    this.addBuckets(hdrBuckets(h));
  }

  /**
   * Folds in one second's walked HDR buckets (see `walkHdr`): the same sums and buckets as
   * `addBuckets` of those buckets, with each HDR bucket's native index looked up (computed once per
   * run) and one map update per native bucket instead of a logarithm and an update per HDR bucket.
   */
  addWalk(w: HdrWalk): void {
    const lookup = lookupFor(this);
    let cur = Number.NaN;
    let acc = 0;
    for (let k = 0; k < w.length; k++) {
      const n = w.count[k]!;
      if (n <= 0) continue;
      const us = w.us[k]!;
      const seconds = us / 1000 / 1000;
      this.count += n;
      this.sum += seconds * n;
      if (seconds <= ZERO_THRESHOLD) {
        this.zeroCount += n;
        continue;
      }
      const i = lookup.at(w.index[k]!, us);
      if (i === cur) acc += n;
      else {
        if (acc > 0) this.buckets.set(cur, (this.buckets.get(cur) ?? 0) + acc);
        cur = i;
        acc = n;
      }
    }
    if (acc > 0) this.buckets.set(cur, (this.buckets.get(cur) ?? 0) + acc);
  }

  /** Folds in [ms, count] buckets (see `hdrBuckets`). */
  addBuckets(buckets: ReadonlyArray<readonly [number, number]>): void {
    for (const [ms, n] of buckets) if (n > 0) this.add(ms / 1000, n);
  }

  /** Buckets in index order as spans (gaps of up to two empty buckets are filled) and absolute counts. */
  spans(): { spans: BucketSpan[]; counts: number[]; firstIndex: number | null } {
    const idx = [...this.buckets.keys()].sort((a, b) => a - b);
    const spans: BucketSpan[] = [];
    const counts: number[] = [];
    let prevEnd: number | null = null;
    for (const i of idx) {
      if (prevEnd !== null && i - prevEnd <= 2) {
        for (let g = prevEnd; g < i; g++) counts.push(0);
        spans[spans.length - 1]!.length += i - prevEnd + 1;
      } else {
        spans.push({ offset: prevEnd === null ? i : i - prevEnd, length: 1 });
      }
      counts.push(this.buckets.get(i)!);
      prevEnd = i + 1;
    }
    return { spans, counts, firstIndex: idx.length ? idx[0]! : null };
  }

  /** Dense counts from the first to the last non-empty bucket (OTLP's layout). */
  dense(): { firstIndex: number; counts: number[] } | null {
    const idx = [...this.buckets.keys()].sort((a, b) => a - b);
    if (idx.length === 0) return null;
    const first = idx[0]!;
    const last = idx[idx.length - 1]!;
    const counts: number[] = [];
    for (let i = first; i <= last; i++) counts.push(this.buckets.get(i) ?? 0);
    return { firstIndex: first, counts };
  }
}

/** Native bucket index of each HDR bucket, by schema (one table for the process). */
const lookups = new Map<number, IndexLookup>();
function lookupFor(h: NativeHistogram): IndexLookup {
  let l = lookups.get(h.schema);
  if (!l) lookups.set(h.schema, (l = new IndexLookup((us) => h.index(us / 1000 / 1000))));
  return l;
}

/** The lookup `addWalk` uses for a schema (to fill it before the run: `prefillLookups`). */
export function nativeLookup(schema = NATIVE_SCHEMA): IndexLookup {
  return lookupFor(new NativeHistogram(schema));
}

import { inflateSync } from 'node:zlib';
import * as hdr from 'hdr-histogram-js';
import type { z } from 'zod';
import type { LatencySummarySchema } from './result-schema.js';

/** The parts of hdr-histogram-js's JsHistogram that `mergeEncoded` adds counts through. */
interface FastAddHistogram {
  numberOfSignificantValueDigits: number;
  lowestDiscernibleValue: number;
  highestTrackableValue: number;
  countsArrayLength: number;
  addToCountAtIndex(index: number, count: number): void;
  addToTotalCount(count: number): void;
  updateMinAndMax(value: number): void;
  valueFromIndex(index: number): number;
  resize(highestValue: number): void;
}

/** HdrHistogram's V2 compressed-encoding cookie (the low nibble of the word-size byte masked off). */
const V2_COMPRESSED_COOKIE_BASE = 0x1c849304;
/** HdrHistogram's V2 (uncompressed) encoding cookie, masked the same way. */
const V2_COOKIE_BASE = 0x1c849303;
/** The cookie `encodePlain` writes: V2 with the word-size nibble HdrHistogram writes (0x10). */
const V2_COOKIE = V2_COOKIE_BASE | 0x10;

/** The extra parts of JsHistogram that `encodePlain` reads the counts through. */
interface PlainEncodable {
  maxValue: number;
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
}

/** Reused output buffer of `encodePlain` (one per thread; grown on demand). */
let plainScratch: Buffer = Buffer.allocUnsafe(16 * 1024);

function growScratch(buf: Buffer, used: number): Buffer {
  const next = Buffer.allocUnsafe(buf.length * 2);
  buf.copy(next, 0, 0, used);
  return next;
}

/** True when `encoded` starts with the uncompressed V2 cookie ("HISTEw" in base64 when the nibble is 0x10). */
function isPlain(encoded: string): boolean {
  if (encoded.length < 8) return false;
  const head = Buffer.from(encoded.slice(0, 8), 'base64');
  return head.length >= 4 && (head.readInt32BE(0) & ~0xf0) === V2_COOKIE_BASE;
}

/** Highest latency a histogram tracks: one hour, in microseconds. Larger values are clamped. */
export const HIGHEST_TRACKABLE_US = 3_600_000_000;
/** Histograms keep 3 significant digits: every value is within 0.1 % of what was recorded. */
export const SIGNIFICANT_DIGITS = 3;

/** Percentile summary of a latency histogram, all values in milliseconds. */
export type LatencySummary = z.infer<typeof LatencySummarySchema>;

/** One point of an HDR percentile spectrum: the value (ms) at a percentile. */
export interface SpectrumPoint {
  percentile: number;
  valueMs: number;
}

function newRaw(): hdr.Histogram {
  return hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 10_000_000,
    numberOfSignificantValueDigits: SIGNIFICANT_DIGITS,
    bitBucketSize: 32,
    autoResize: true,
    useWebAssembly: false,
  });
}

/**
 * A latency histogram recording microseconds with 3 significant digits (HdrHistogram).
 * Memory is bounded by the value range, never by the number of samples, so a soak run costs
 * the same as a short one. Merging is exact: merged percentiles equal those of one histogram
 * holding all samples.
 */
export class LatencyHistogram {
  readonly raw: hdr.Histogram;

  constructor(raw?: hdr.Histogram) {
    this.raw = raw ?? newRaw();
  }

  /** Records one latency in microseconds; values below 1 µs count as 1, above one hour as one hour. */
  recordUs(us: number, count = 1): void {
    const v = us < 1 ? 1 : us > HIGHEST_TRACKABLE_US ? HIGHEST_TRACKABLE_US : Math.round(us);
    if (count === 1) this.raw.recordValue(v);
    else this.raw.recordValueWithCount(v, count);
  }

  /** Records one latency given in milliseconds (fractional allowed). */
  recordMs(ms: number, count = 1): void {
    this.recordUs(ms * 1000, count);
  }

  /** Adds every sample of `other` into this histogram (lossless). */
  merge(other: LatencyHistogram): this {
    if (other.raw.totalCount > 0) this.raw.add(other.raw);
    return this;
  }

  /** Number of recorded samples. */
  get count(): number {
    return this.raw.totalCount;
  }

  /** Value at percentile `p` (0–100) in milliseconds; 0 when empty. */
  percentileMs(p: number): number {
    if (this.raw.totalCount === 0) return 0;
    return this.raw.getValueAtPercentile(p) / 1000;
  }

  /** Largest recorded value in milliseconds (within histogram precision). */
  get maxMs(): number {
    // The bucket's highest equivalent value, not the raw max, so a decoded or merged histogram agrees.
    return this.raw.totalCount === 0 ? 0 : this.raw.getValueAtPercentile(100) / 1000;
  }

  /** Mean in milliseconds. */
  get meanMs(): number {
    return this.raw.totalCount === 0 ? 0 : this.raw.mean / 1000;
  }

  /** Percentile summary in milliseconds. */
  summary(): LatencySummary {
    const h = this.raw;
    if (h.totalCount === 0) {
      return { count: 0, min: 0, mean: 0, stdev: 0, p50: 0, p75: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
    }
    const at = (p: number): number => h.getValueAtPercentile(p) / 1000;
    return {
      count: h.totalCount,
      min: at(0),
      mean: h.mean / 1000,
      stdev: h.stdDeviation / 1000,
      p50: at(50),
      p75: at(75),
      p90: at(90),
      p95: at(95),
      p99: at(99),
      p999: at(99.9),
      max: at(100),
    };
  }

  /**
   * The HDR percentile spectrum: values at percentiles spaced evenly on a log scale of
   * 1/(1-p), from p0 up to the max, `pointsPerDecade` points per "nine".
   */
  spectrum(pointsPerDecade = 10): SpectrumPoint[] {
    const points: SpectrumPoint[] = [];
    if (this.raw.totalCount === 0) return points;
    const nines = Math.max(1, Math.ceil(Math.log10(this.raw.totalCount)));
    for (let i = 0; i <= nines * pointsPerDecade; i++) {
      const percentile = 100 * (1 - 10 ** (-i / pointsPerDecade));
      points.push({ percentile, valueMs: this.raw.getValueAtPercentile(percentile) / 1000 });
    }
    points.push({ percentile: 100, valueMs: this.maxMs });
    return points;
  }

  /** Recorded values as [valueMs, count] pairs (bucket representatives), for resampling. */
  buckets(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const it = (this.raw as unknown as { recordedValuesIterator?: RecordedIterator }).recordedValuesIterator;
    if (!it) throw new Error('hdr-histogram-js: recordedValuesIterator not available');
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      out.push([v.valueIteratedTo / 1000, v.countAtValueIteratedTo]);
    }
    return out;
  }

  /** Clears all samples, keeping the allocated memory. */
  reset(): void {
    this.raw.reset();
  }

  /** Compact, portable encoding (HdrHistogram compressed V2, base64) for result files and messages. */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.raw);
  }

  /** Decodes what `encode()` or `encodePlain()` produced. */
  static decode(encoded: string): LatencyHistogram {
    if (isPlain(encoded)) {
      const packed = Buffer.from(encoded, 'base64');
      if (packed.readInt32BE(12) === SIGNIFICANT_DIGITS && Number(packed.readBigInt64BE(16)) === 1) return new LatencyHistogram().mergeEncoded(encoded);
      const other = (hdr.JsHistogram as unknown as { decode(data: Uint8Array, bitBucketSize: number): hdr.Histogram }).decode(new Uint8Array(packed), 32);
      other.autoResize = true;
      return new LatencyHistogram(other);
    }
    const raw = hdr.decodeFromCompressedBase64(encoded, 32, false);
    raw.autoResize = true;
    return new LatencyHistogram(raw);
  }

  /**
   * The same counts as `encode()`, without the deflate step: HdrHistogram's uncompressed V2 encoding
   * (ZigZag LEB128 counts, runs of empty buckets as one negative number), base64. For messages
   * between threads and machines, read back once per second by `mergeEncoded`: inflating costs the
   * reader more CPU than the ~40 % fewer bytes save. Result files keep `encode()`.
   */
  encodePlain(): string {
    const raw = this.raw as unknown as FastAddHistogram & PlainEncodable;
    // Up to the bucket of the largest value, as HdrHistogram writes it (one zero for an empty histogram).
    const limit = raw.countsArrayIndex(raw.maxValue) + 1;
    let buf = plainScratch;
    let pos = 40;
    for (let i = 0; i < limit; ) {
      // A LEB128 word is at most 8 bytes here (counts stay below 2^53); grow before a word can overflow.
      if (pos + 9 > buf.length) buf = plainScratch = growScratch(buf, pos);
      const count = raw.getCountAtIndex(i++);
      let v: number;
      if (count === 0) {
        let zeros = 1;
        while (i < limit && raw.getCountAtIndex(i) === 0) {
          zeros++;
          i++;
        }
        // ZigZag: n ≥ 0 → 2n, −n → 2n − 1. A single empty bucket is written as the count 0.
        v = zeros > 1 ? zeros * 2 - 1 : 0;
      } else v = count * 2;
      while (v >= 128) {
        buf[pos++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
      buf[pos++] = v;
    }
    buf.writeInt32BE(V2_COOKIE, 0);
    buf.writeInt32BE(pos - 40, 4);
    buf.writeInt32BE(0, 8); // normalizing index offset
    buf.writeInt32BE(raw.numberOfSignificantValueDigits, 12);
    buf.writeBigInt64BE(BigInt(raw.lowestDiscernibleValue), 16);
    buf.writeBigInt64BE(BigInt(raw.highestTrackableValue), 24);
    buf.writeDoubleBE(1, 32); // integer-to-double conversion ratio
    return buf.toString('base64', 0, pos);
  }

  /**
   * Adds the samples of an encoded histogram (what `encode()` or `encodePlain()` wrote) into this
   * one, exactly as `merge(decode(encoded))` would, but without building the intermediate histogram:
   * the counts are read from the encoding and only non-empty buckets are touched. A coordinator
   * merging thousands of per-second histograms spends most of its time here. Falls back to decode +
   * merge for histograms of another geometry (lowest value or significant digits).
   */
  mergeEncoded(encoded: string): this {
    const packed = Buffer.from(encoded, 'base64');
    const cookie = packed.length >= 8 ? packed.readInt32BE(0) & ~0xf0 : 0;
    let buf: Buffer<ArrayBufferLike>;
    if (cookie === V2_COOKIE_BASE && packed.length >= 40) buf = packed;
    else if (cookie === V2_COMPRESSED_COOKIE_BASE) buf = inflateSync(packed.subarray(8, 8 + packed.readInt32BE(4)));
    else return this.merge(LatencyHistogram.decode(encoded));
    const raw = this.raw as unknown as FastAddHistogram;
    // Header: cookie, payload length, normalizing offset, significant digits, lowest, highest, ratio (int64).
    const payloadLength = buf.readInt32BE(4);
    const digits = buf.readInt32BE(12);
    const lowest = Number(buf.readBigInt64BE(16));
    const highest = Number(buf.readBigInt64BE(24));
    if (typeof raw.addToCountAtIndex !== 'function' || digits !== raw.numberOfSignificantValueDigits || lowest !== raw.lowestDiscernibleValue) return this.merge(LatencyHistogram.decode(encoded));
    // Same geometry, so bucket i here is bucket i there: counts add index by index.
    if (highest > raw.highestTrackableValue) raw.resize(highest);
    let pos = 40;
    const end = pos + payloadLength;
    if (end > buf.length) throw new Error('truncated HdrHistogram encoding');
    let index = 0;
    let total = 0;
    let first = -1;
    let last = -1;
    while (pos < end) {
      // ZigZag LEB128, up to 9 bytes (the ninth carries 8 bits); arithmetic, not bit ops, past 2^31.
      let b = buf[pos++]!;
      let v = b & 0x7f;
      let scale = 128;
      for (let n = 1; b & 0x80 && n < 9; n++, scale *= 128) {
        b = buf[pos++]!;
        v += (n === 8 ? b : b & 0x7f) * scale;
      }
      const count = v % 2 === 0 ? v / 2 : -(v + 1) / 2;
      if (count < 0) index += -count;
      else {
        if (count > 0) {
          if (index >= raw.countsArrayLength) raw.resize(raw.valueFromIndex(index));
          raw.addToCountAtIndex(index, count);
          total += count;
          if (first < 0) first = index;
          last = index;
        }
        index++;
      }
    }
    if (total > 0) {
      raw.updateMinAndMax(raw.valueFromIndex(first));
      raw.updateMinAndMax(raw.valueFromIndex(last));
      raw.addToTotalCount(total);
    }
    return this;
  }

  /** Merges several encoded histograms into one. */
  static mergeEncoded(encoded: Iterable<string>): LatencyHistogram {
    const out = new LatencyHistogram();
    for (const e of encoded) out.merge(LatencyHistogram.decode(e));
    return out;
  }
}

interface RecordedIterator {
  reset(): void;
  hasNext(): boolean;
  next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
}

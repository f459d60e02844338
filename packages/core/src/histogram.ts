import { deflateSync, inflateSync } from 'node:zlib';
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

/** The parts of hdr-histogram-js's JsHistogram that one-pass statistics read. */
interface ScanHistogram {
  totalCount: number;
  countsArrayLength: number;
  maxValue: number;
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
  valueFromIndex(index: number): number;
  lowestEquivalentValue(value: number): number;
  highestEquivalentValue(value: number): number;
  medianEquivalentValue(value: number): number;
}

/** The percentiles of `summary()`, in the order it reports them (0 is the minimum, 100 the maximum). */
const SUMMARY_PERCENTILES = [0, 50, 75, 90, 95, 99, 99.9, 100] as const;

/** The parts of hdr-histogram-js's JsHistogram that `encode` reads. */
interface EncodeHistogram {
  numberOfSignificantValueDigits: number;
  lowestDiscernibleValue: number;
  highestTrackableValue: number;
  maxValue: number;
  countsArrayIndex(value: number): number;
  getCountAtIndex(index: number): number;
}

/** HdrHistogram's V2 encoding cookie with the word-size nibble of a V2 (ZigZag LEB128) payload. */
const V2_ENCODING_COOKIE = 0x1c849303 | 0x10;
const V2_COMPRESSED_ENCODING_COOKIE = 0x1c849304 | 0x10;
/** Scratch space for the uncompressed encoding, grown as needed (one thread, one encode at a time). */
let encodeScratch = Buffer.allocUnsafe(4096);

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
    return this.raw.totalCount === 0 ? 0 : scan(this.raw as unknown as ScanHistogram, [], [], true).mean / 1000;
  }

  /** Percentile summary in milliseconds. */
  summary(): LatencySummary {
    const h = this.raw;
    if (h.totalCount === 0) {
      return { count: 0, min: 0, mean: 0, stdev: 0, p50: 0, p75: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
    }
    const at = new Array<number>(SUMMARY_PERCENTILES.length);
    const { mean, stdev } = scan(h as unknown as ScanHistogram, SUMMARY_PERCENTILES, at, true);
    return {
      count: h.totalCount,
      min: at[0]! / 1000,
      mean: mean / 1000,
      stdev: stdev / 1000,
      p50: at[1]! / 1000,
      p75: at[2]! / 1000,
      p90: at[3]! / 1000,
      p95: at[4]! / 1000,
      p99: at[5]! / 1000,
      p999: at[6]! / 1000,
      max: at[7]! / 1000,
    };
  }

  /**
   * Values at several percentiles (0–100, ascending) in milliseconds, in one pass over the
   * counts; the same values as `percentileMs` of each. All 0 when empty.
   */
  percentilesMs(percentiles: readonly number[]): number[] {
    const out = new Array<number>(percentiles.length).fill(0);
    if (this.raw.totalCount === 0) return out;
    scan(this.raw as unknown as ScanHistogram, percentiles, out, false);
    for (let i = 0; i < out.length; i++) out[i] = out[i]! / 1000;
    return out;
  }

  /**
   * The HDR percentile spectrum: values at percentiles spaced evenly on a log scale of
   * 1/(1-p), from p0 up to the max, `pointsPerDecade` points per "nine".
   */
  spectrum(pointsPerDecade = 10): SpectrumPoint[] {
    if (this.raw.totalCount === 0) return [];
    const nines = Math.max(1, Math.ceil(Math.log10(this.raw.totalCount)));
    const percentiles: number[] = [];
    for (let i = 0; i <= nines * pointsPerDecade; i++) percentiles.push(100 * (1 - 10 ** (-i / pointsPerDecade)));
    percentiles.push(100);
    const values = this.percentilesMs(percentiles);
    return percentiles.map((percentile, i) => ({ percentile, valueMs: values[i]! }));
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

  /**
   * Compact, portable encoding (HdrHistogram compressed V2, base64) for result files and messages.
   * The same bytes as hdr-histogram-js's `encodeIntoCompressedBase64` (tested), written straight
   * into a Buffer: its encoder goes through a growing byte buffer, a ZigZag object per word and a
   * JavaScript base64, and every engine thread encodes its slices every second.
   */
  encode(): string {
    const h = this.raw as unknown as EncodeHistogram;
    const limit = h.countsArrayIndex(h.maxValue) + 1;
    // 40 bytes of header, at most 9 per count.
    if (encodeScratch.length < 40 + 9 * limit) encodeScratch = Buffer.allocUnsafe(40 + 9 * limit);
    const buf = encodeScratch;
    buf.writeInt32BE(V2_ENCODING_COOKIE, 0);
    buf.writeInt32BE(1, 8); // normalizing index offset, as hdr-histogram-js writes it
    buf.writeInt32BE(h.numberOfSignificantValueDigits, 12);
    writeInt64(buf, 16, h.lowestDiscernibleValue);
    writeInt64(buf, 24, h.highestTrackableValue);
    writeInt64(buf, 32, 1); // integer-to-double conversion ratio
    let pos = 40;
    let i = 0;
    while (i < limit) {
      const count = h.getCountAtIndex(i++);
      if (count !== 0) {
        pos = writeZigZag(buf, pos, count);
        continue;
      }
      // A run of zero counts is written as its negated length (a single zero as 0).
      let zeros = 1;
      while (i < limit && h.getCountAtIndex(i) === 0) {
        zeros++;
        i++;
      }
      pos = writeZigZag(buf, pos, zeros > 1 ? -zeros : 0);
    }
    buf.writeInt32BE(pos - 40, 4);
    const compressed = deflateSync(buf.subarray(0, pos));
    const out = Buffer.allocUnsafe(8 + compressed.length);
    out.writeInt32BE(V2_COMPRESSED_ENCODING_COOKIE, 0);
    out.writeInt32BE(compressed.length, 4);
    compressed.copy(out, 8);
    return out.toString('base64');
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

/** A 64-bit big-endian integer as hdr-histogram-js's ByteBuffer writes one (high word, then the low 32 bits). */
function writeInt64(buf: Buffer, at: number, value: number): void {
  buf.writeUInt32BE(Math.floor(value / 2 ** 32) >>> 0, at);
  buf.writeUInt32BE(value >>> 0, at + 4);
}

/** One ZigZag LEB128-64b9B word (HdrHistogram V2), byte for byte as hdr-histogram-js's ZigZagEncoding writes it. */
function writeZigZag(buf: Buffer, at: number, value: number): number {
  let v = value >= 0 ? value * 2 : -value * 2 - 1;
  if (v < 128) {
    buf[at] = v;
    return at + 1;
  }
  let pos = at;
  let scale = 1;
  for (let n = 0; n < 7; n++, scale *= 128) {
    const q = Math.floor(v / scale);
    if (v < scale * 128) {
      buf[pos++] = q;
      return pos;
    }
    buf[pos++] = (q % 128) | 0x80;
  }
  // 2^49 and above: the eighth byte ends the word below 2^56; past that a ninth carries eight bits.
  const q = Math.floor(v / 2 ** 49);
  if (v < 2 ** 56) {
    buf[pos++] = q;
    return pos;
  }
  buf[pos++] = (q + 0x80) & 0xff;
  v = Math.floor(v / 2 ** 56);
  buf[pos++] = v & 0xff;
  return pos;
}

/** hdr-histogram-js's `ulp`: the spacing of doubles at `x`. */
function ulp(x: number): number {
  return 2 ** (Math.floor(Math.log2(x)) - 52);
}

/**
 * One pass over the counts for several percentiles (and, with `moments`, the mean and standard
 * deviation): the same arithmetic, in the same order, as hdr-histogram-js's
 * `getValueAtPercentile`, `mean` and `stdDeviation`, which walk the counts once each (the last two
 * with an iterator object per step) and were most of the cost of a run's summary. Writes the
 * values (in recorded units, µs) into `out`; `percentiles` must be ascending. Not for an empty
 * histogram.
 */
function scan(h: ScanHistogram, percentiles: readonly number[], out: number[], moments: boolean): { mean: number; stdev: number } {
  const total = h.totalCount;
  // Nothing is counted past the highest recorded value (hdr-histogram-js's encoder stops there too).
  const limit = Math.min(h.countsArrayLength, h.countsArrayIndex(h.maxValue) + 1);
  let next = 0;
  let target = percentiles.length > 0 ? countAtPercentile(percentiles[0]!, total) : Infinity;
  let cumulative = 0;
  let sum = 0;
  for (let i = 0; i < limit; i++) {
    const c = h.getCountAtIndex(i);
    if (c === 0) continue;
    cumulative += c;
    if (moments) sum += h.medianEquivalentValue(h.valueFromIndex(i)) * c;
    while (next < percentiles.length && cumulative >= target) {
      const value = h.valueFromIndex(i);
      out[next] = percentiles[next] === 0 ? h.lowestEquivalentValue(value) : h.highestEquivalentValue(value);
      next++;
      if (next < percentiles.length) target = countAtPercentile(percentiles[next]!, total);
    }
    if (!moments && next === percentiles.length) break;
  }
  // Percentiles the counts never reached (only through float error at 100 %) are 0, as in hdr-histogram-js.
  for (; next < percentiles.length; next++) out[next] = 0;
  if (!moments) return { mean: 0, stdev: 0 };
  const mean = sum / total;
  let deviations = 0;
  for (let i = 0; i < limit; i++) {
    const c = h.getCountAtIndex(i);
    if (c === 0) continue;
    const d = h.medianEquivalentValue(h.valueFromIndex(i)) - mean;
    deviations += d * d * c;
  }
  return { mean, stdev: Math.sqrt(deviations / total) };
}

/** The count a percentile must reach, rounded as hdr-histogram-js's `getValueAtPercentile` rounds it. */
function countAtPercentile(percentile: number, total: number): number {
  const fp = (Math.min(percentile, 100) / 100) * total;
  return Math.max(Math.ceil(fp - ulp(fp)), 1);
}

interface RecordedIterator {
  reset(): void;
  hasNext(): boolean;
  next(): { valueIteratedTo: number; countAtValueIteratedTo: number };
}

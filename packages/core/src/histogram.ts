import * as hdr from 'hdr-histogram-js';
import type { z } from 'zod';
import type { LatencySummarySchema } from './result-schema.js';

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

  /** Decodes what `encode()` produced. */
  static decode(encoded: string): LatencyHistogram {
    const raw = hdr.decodeFromCompressedBase64(encoded, 32, false);
    raw.autoResize = true;
    return new LatencyHistogram(raw);
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

/**
 * A small log-bucketed histogram of millisecond durations for one stats interval: constant memory
 * (≈ 450 counters), about 2.5 % relative error, no dependencies. Values at or below 1 µs share the
 * first bucket; values above 10⁶ ms share the last.
 */
export class DurationHistogram {
  private static readonly ratio = 1.05;
  private static readonly minMs = 0.001;
  private static readonly logRatio = Math.log(DurationHistogram.ratio);
  private static readonly buckets = Math.ceil(Math.log(1e6 / DurationHistogram.minMs) / DurationHistogram.logRatio) + 1;
  private readonly counts = new Uint32Array(DurationHistogram.buckets);
  /** Number of recorded values. */
  count = 0;
  /** Sum of recorded values, in ms. */
  sumMs = 0;
  /** Largest recorded value, in ms (exact). */
  maxMs = 0;

  /** Records one duration in ms; negative and non-finite values are ignored. */
  record(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) return;
    const i = ms <= DurationHistogram.minMs ? 0 : Math.min(DurationHistogram.buckets - 1, Math.ceil(Math.log(ms / DurationHistogram.minMs) / DurationHistogram.logRatio));
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    this.count += 1;
    this.sumMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** The value at quantile `q` (0–1), in ms: the geometric middle of its bucket, capped at the max; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) {
        if (i === 0) return Math.min(this.maxMs, DurationHistogram.minMs);
        const upper = DurationHistogram.minMs * DurationHistogram.ratio ** i;
        return Math.min(this.maxMs, upper / Math.sqrt(DurationHistogram.ratio));
      }
    }
    return this.maxMs;
  }

  /** Mean in ms; 0 when empty. */
  mean(): number {
    return this.count === 0 ? 0 : this.sumMs / this.count;
  }

  /** Empties the histogram for the next interval. */
  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sumMs = 0;
    this.maxMs = 0;
  }
}

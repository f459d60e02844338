/**
 * What the limiter observed over one sampling window: the completions that ended in it.
 * Latencies are service times (admission → release), not queue time.
 */
export interface LatencyWindow {
  /** Mean latency of the window's samples, ms. */
  rttMs: number;
  /** Smallest latency in the window, ms. */
  minRttMs: number;
  /** Largest number of calls in flight seen during the window. */
  maxInFlight: number;
  /** True when any call of the window was a drop (overran its deadline or was marked by `isDrop`). */
  dropped: boolean;
  /** Number of samples in the window. */
  samples: number;
}

/**
 * A concurrency-limit algorithm: it sees one {@link LatencyWindow} at a time and returns the new
 * limit estimate (a real number; the limiter admits `floor(limit)` calls).
 */
export interface LimitAlgorithm {
  readonly name: string;
  /** The current estimate (real, within [min, max]). */
  readonly limit: number;
  /** Feeds one window and returns the new estimate. */
  update(window: LatencyWindow): number;
  /** Internal state worth publishing as metrics (e.g. `longRttMs`), all numbers. */
  gauges(): Record<string, number>;
}

/** Bounds every algorithm clamps its estimate to. */
export interface LimitBounds {
  min: number;
  max: number;
  initial: number;
}

/** `clamp(x, lo, hi)`. */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

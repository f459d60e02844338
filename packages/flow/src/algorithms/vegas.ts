import { fnOption, intOption, numberOption } from '../validate.js';
import { clamp, type LatencyWindow, type LimitAlgorithm, type LimitBounds } from './types.js';

/** Options of the Vegas algorithm (after TCP Vegas and Netflix concurrency-limits' VegasLimit). */
export interface VegasOptions {
  /** Grow while the estimated queue is below `alpha·log10(limit)`. Default 3. */
  alpha?: number;
  /** Shrink once the estimated queue is above `beta·log10(limit)`. Default 6. */
  beta?: number;
  /** Weight of the new estimate, in (0, 1]. Default 1. */
  smoothing?: number;
  /** Re-measure the no-load RTT every `probeMultiplier·limit` windows (times a jitter in [0.5, 1)). Default 30. */
  probeMultiplier?: number;
  /** Random source in [0, 1) for the probe jitter. Default `Math.random`. */
  random?: () => number;
}

/** `max(1, floor(log10(limit)))`: the step size that grows slowly with the limit. */
export function log10Step(limit: number): number {
  return Math.max(1, Math.floor(Math.log10(Math.max(1, limit))));
}

/**
 * Vegas: estimates how many calls are queued from the ratio of the no-load RTT (the smallest seen)
 * to the current window's mean RTT, and keeps that queue between `alpha` and `beta`.
 *
 * Each window, with `s = log10Step(limit) = max(1, floor(log10 limit))`:
 * ```
 * if window.minRtt < rttNoLoad (or none yet): rttNoLoad = window.minRtt; keep the limit
 * every probeMultiplier·limit·jitter windows: rttNoLoad = window.rtt (re-probe); keep the limit
 * queue = ceil(limit · (1 − rttNoLoad / rtt))
 * dropped                    → limit − s
 * maxInFlight·2 < limit      → keep (application-limited)
 * queue ≤ s                  → limit + beta·s      (no queueing: grow fast)
 * queue < alpha·s            → limit + s
 * queue > beta·s             → limit − s
 * otherwise                  → keep
 * limit = clamp((1 − smoothing)·limit + smoothing·next, min, max)
 * ```
 * Defaults: alpha 3, beta 6, smoothing 1, probeMultiplier 30.
 */
export class Vegas implements LimitAlgorithm {
  readonly name = 'vegas';
  #limit: number;
  #rttNoLoad = 0;
  #probeCount = 0;
  #jitter: number;
  #lastQueue = 0;
  readonly #bounds: LimitBounds;
  readonly #alpha: number;
  readonly #beta: number;
  readonly #smoothing: number;
  readonly #probeMultiplier: number;
  readonly #random: () => number;

  constructor(bounds: LimitBounds, options: VegasOptions = {}) {
    this.#bounds = bounds;
    this.#limit = bounds.initial;
    this.#alpha = numberOption('vegas.alpha', options.alpha, 3, 0, Infinity, true);
    this.#beta = numberOption('vegas.beta', options.beta, 6, this.#alpha);
    this.#smoothing = numberOption('vegas.smoothing', options.smoothing, 1, 0, 1, true);
    this.#probeMultiplier = intOption('vegas.probeMultiplier', options.probeMultiplier, 30, 1);
    this.#random = fnOption('vegas.random', options.random, Math.random);
    this.#jitter = this.#nextJitter();
  }

  #nextJitter(): number {
    return 0.5 + 0.5 * this.#random();
  }

  get limit(): number {
    return this.#limit;
  }

  update(w: LatencyWindow): number {
    this.#probeCount++;
    if (this.#jitter * this.#probeMultiplier * this.#limit <= this.#probeCount) {
      this.#jitter = this.#nextJitter();
      this.#probeCount = 0;
      this.#rttNoLoad = w.rttMs;
      return this.#limit;
    }
    if (this.#rttNoLoad === 0 || w.minRttMs < this.#rttNoLoad) {
      this.#rttNoLoad = w.minRttMs;
      return this.#limit;
    }
    const queue = w.rttMs > 0 ? Math.ceil(this.#limit * (1 - this.#rttNoLoad / w.rttMs)) : 0;
    this.#lastQueue = queue;
    const s = log10Step(this.#limit);
    let next: number;
    if (w.dropped) next = this.#limit - s;
    else if (w.maxInFlight * 2 < this.#limit) return this.#limit;
    else if (queue <= s) next = this.#limit + this.#beta * s;
    else if (queue < this.#alpha * s) next = this.#limit + s;
    else if (queue > this.#beta * s) next = this.#limit - s;
    else return this.#limit;
    next = clamp(next, this.#bounds.min, this.#bounds.max);
    this.#limit = clamp((1 - this.#smoothing) * this.#limit + this.#smoothing * next, this.#bounds.min, this.#bounds.max);
    return this.#limit;
  }

  gauges(): Record<string, number> {
    return { rttNoLoadMs: this.#rttNoLoad, estimatedQueue: this.#lastQueue };
  }
}

import { numberOption, rangeError } from '../validate.js';
import { clamp, type LatencyWindow, type LimitAlgorithm, type LimitBounds } from './types.js';

/** Options of the AIMD algorithm. */
export interface AimdOptions {
  /** Multiplicative decrease factor on a drop, in [0.5, 1). Default 0.9. */
  backoffRatio?: number;
  /** A window whose mean latency exceeds this (ms) counts as a drop. Default 5000. */
  timeoutMs?: number;
  /** Additive increase per window, calls. Default 1. */
  increase?: number;
}

/**
 * AIMD (additive increase, multiplicative decrease), loss-based like TCP Reno. Each window:
 * ```
 * dropped or rtt > timeoutMs → limit = max(min, min(limit − 1, floor(limit·backoffRatio)))
 * maxInFlight·2 ≥ limit      → limit = min(max, limit + increase)
 * otherwise                  → keep (application-limited)
 * ```
 * Defaults: backoffRatio 0.9, timeoutMs 5000, increase 1.
 */
export class Aimd implements LimitAlgorithm {
  readonly name = 'aimd';
  #limit: number;
  readonly #bounds: LimitBounds;
  readonly #backoff: number;
  readonly #timeoutMs: number;
  readonly #increase: number;

  constructor(bounds: LimitBounds, options: AimdOptions = {}) {
    this.#bounds = bounds;
    this.#limit = bounds.initial;
    this.#backoff = numberOption('aimd.backoffRatio', options.backoffRatio, 0.9, 0.5, 1);
    if (this.#backoff === 1) rangeError('aimd.backoffRatio', 'a finite number in [0.5, 1)', 1);
    this.#timeoutMs = numberOption('aimd.timeoutMs', options.timeoutMs, 5000, 0, Infinity, true);
    this.#increase = numberOption('aimd.increase', options.increase, 1, 0, Infinity, true);
  }

  get limit(): number {
    return this.#limit;
  }

  update(w: LatencyWindow): number {
    if (w.dropped || w.rttMs > this.#timeoutMs) {
      const cur = Math.floor(this.#limit);
      this.#limit = clamp(Math.min(cur - 1, Math.floor(cur * this.#backoff)), this.#bounds.min, this.#bounds.max);
    } else if (w.maxInFlight * 2 >= this.#limit) {
      this.#limit = clamp(this.#limit + this.#increase, this.#bounds.min, this.#bounds.max);
    }
    return this.#limit;
  }

  gauges(): Record<string, number> {
    return {};
  }
}

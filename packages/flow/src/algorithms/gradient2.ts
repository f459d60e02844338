import { fnOption, intOption, numberOption } from '../validate.js';
import { clamp, type LatencyWindow, type LimitAlgorithm, type LimitBounds } from './types.js';

/** Options of the Gradient2 algorithm (after Netflix concurrency-limits' Gradient2Limit). */
export interface Gradient2Options {
  /** Weight of the new estimate, in (0, 1]. Default 0.2. */
  smoothing?: number;
  /** Headroom added each window, as calls (or a function of the current limit). Default 4. */
  queueSize?: number | ((limit: number) => number);
  /** Windows of the long-term RTT average (EMA factor 2 / (longWindow + 1)). Default 600. */
  longWindow?: number;
  /** Windows averaged plainly before the EMA starts. Default 10. */
  warmupWindows?: number;
  /** Gradient floor: one window can shrink the limit by at most this factor. Default 0.5. */
  minGradient?: number;
}

/**
 * Gradient2: compares the window's mean latency (`shortRtt`) with a long-term exponential average
 * of it (`longRtt`) and shrinks the limit while latency is above its long-term level.
 *
 * Each window:
 * ```
 * longRtt  = mean of the first warmupWindows windows, then longRtt·(1−f) + shortRtt·f, f = 2/(longWindow+1)
 * if longRtt / shortRtt > 2: longRtt = 0.9·longRtt          (recover faster after a long overload)
 * if maxInFlight < limit / 2: keep the limit                 (application-limited: no evidence)
 * gradient = clamp(longRtt / shortRtt, minGradient, 1)
 * next     = limit·gradient + queueSize
 * limit    = clamp(limit·(1 − smoothing) + next·smoothing, min, max)
 * ```
 * Defaults: smoothing 0.2, queueSize 4, longWindow 600, warmupWindows 10, minGradient 0.5.
 * At equilibrium `gradient = 1 − queueSize/limit`: latency settles about `limit/(limit − queueSize)`
 * above its long-term level, which is the queueing it tolerates.
 */
export class Gradient2 implements LimitAlgorithm {
  readonly name = 'gradient2';
  #limit: number;
  #longRtt = 0;
  #shortRtt = 0;
  #windows = 0;
  #sum = 0;
  readonly #bounds: LimitBounds;
  readonly #smoothing: number;
  readonly #queueSize: (limit: number) => number;
  readonly #factor: number;
  readonly #warmup: number;
  readonly #minGradient: number;

  constructor(bounds: LimitBounds, options: Gradient2Options = {}) {
    this.#bounds = bounds;
    this.#limit = bounds.initial;
    this.#smoothing = numberOption('gradient2.smoothing', options.smoothing, 0.2, 0, 1, true);
    const q = options.queueSize;
    if (typeof q === 'function') this.#queueSize = fnOption('gradient2.queueSize', q, () => 4);
    else {
      const size = numberOption('gradient2.queueSize', q, 4, 0);
      this.#queueSize = () => size;
    }
    this.#factor = 2 / (intOption('gradient2.longWindow', options.longWindow, 600, 1) + 1);
    this.#warmup = intOption('gradient2.warmupWindows', options.warmupWindows, 10, 0);
    this.#minGradient = numberOption('gradient2.minGradient', options.minGradient, 0.5, 0, 1, true);
  }

  get limit(): number {
    return this.#limit;
  }

  update(w: LatencyWindow): number {
    const shortRtt = w.rttMs;
    this.#shortRtt = shortRtt;
    if (this.#windows < this.#warmup || this.#windows === 0) {
      this.#windows++;
      this.#sum += shortRtt;
      this.#longRtt = this.#sum / this.#windows;
    } else {
      this.#windows++;
      this.#longRtt = this.#longRtt * (1 - this.#factor) + shortRtt * this.#factor;
    }
    if (shortRtt > 0 && this.#longRtt / shortRtt > 2) this.#longRtt *= 0.9;
    if (w.maxInFlight < this.#limit / 2) return this.#limit;
    const gradient = shortRtt > 0 ? clamp(this.#longRtt / shortRtt, this.#minGradient, 1) : 1;
    const next = this.#limit * gradient + this.#queueSize(this.#limit);
    this.#limit = clamp(this.#limit * (1 - this.#smoothing) + next * this.#smoothing, this.#bounds.min, this.#bounds.max);
    return this.#limit;
  }

  gauges(): Record<string, number> {
    return { longRttMs: this.#longRtt, shortRttMs: this.#shortRtt };
  }
}

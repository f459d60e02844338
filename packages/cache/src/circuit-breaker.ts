import type { Clock } from '@redline/core';

/** `closed`: calls pass. `open`: calls are skipped. `half-open`: one probe call is let through. */
export type CircuitState = 'closed' | 'open' | 'half-open';

/** Options of {@link CircuitBreaker}; all times in ms. */
export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit (≥ 1). */
  failureThreshold: number;
  /** First open period; doubled after every failed probe up to `maxOpenMs`. */
  openMs: number;
  maxOpenMs: number;
}

/**
 * A consecutive-failure circuit breaker: after `failureThreshold` failures in a row it stops calls
 * for `openMs`, then lets a single probe through; the probe's outcome closes it or reopens it with
 * a doubled (capped) period, so a dead Redis is retried rarely instead of hammered.
 */
export class CircuitBreaker {
  #state: CircuitState = 'closed';
  #failures = 0;
  #openUntilMs = 0;
  #currentOpenMs: number;
  #probeInFlight = false;
  readonly #opts: CircuitBreakerOptions;
  readonly #clock: Clock;
  readonly #onChange: (state: CircuitState) => void;

  constructor(opts: CircuitBreakerOptions, clock: Clock, onChange: (state: CircuitState) => void) {
    this.#opts = opts;
    this.#clock = clock;
    this.#currentOpenMs = opts.openMs;
    this.#onChange = onChange;
  }

  /** Current state (an open circuit whose period has elapsed reports `half-open`). */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#clock.now() >= this.#openUntilMs) return 'half-open';
    return this.#state;
  }

  /** Whether a call may proceed now; a `true` in half-open state reserves the single probe. */
  allow(): boolean {
    if (this.#state === 'closed') return true;
    if (this.#state === 'open') {
      if (this.#clock.now() < this.#openUntilMs) return false;
      this.#set('half-open');
    }
    if (this.#probeInFlight) return false;
    this.#probeInFlight = true;
    return true;
  }

  /** Records a successful call. */
  success(): void {
    this.#failures = 0;
    this.#probeInFlight = false;
    if (this.#state !== 'closed') {
      this.#currentOpenMs = this.#opts.openMs;
      this.#set('closed');
    }
  }

  /** Records a failed call. */
  failure(): void {
    this.#failures++;
    if (this.#state === 'half-open') {
      this.#probeInFlight = false;
      this.#currentOpenMs = Math.min(this.#currentOpenMs * 2, this.#opts.maxOpenMs);
      this.#open();
    } else if (this.#state === 'closed' && this.#failures >= this.#opts.failureThreshold) {
      this.#open();
    }
  }

  #open(): void {
    this.#openUntilMs = this.#clock.now() + this.#currentOpenMs;
    this.#set('open');
  }

  #set(state: CircuitState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#onChange(state);
  }
}

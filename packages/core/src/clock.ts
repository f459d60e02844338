import { performance } from 'node:perf_hooks';

/** A source of time, injectable so schedules and TTLs are testable without sleeping. */
export interface Clock {
  /** Milliseconds, monotonic, with sub-millisecond resolution where available. */
  now(): number;
}

/** The process clock: `performance.now()` (monotonic, ms since process start). */
export const systemClock: Clock = { now: () => performance.now() };

/** Converts a `performance.now()` reading to Unix epoch milliseconds. */
export function toEpochMs(monotonicMs: number): number {
  return performance.timeOrigin + monotonicMs;
}

/** A clock moved by hand, for tests. */
export class ManualClock implements Clock {
  #nowMs: number;
  constructor(startMs = 0) {
    this.#nowMs = startMs;
  }
  now(): number {
    return this.#nowMs;
  }
  /** Moves time forward by `ms` (must be ≥ 0). */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance(ms) needs ms >= 0, got ${ms}`);
    this.#nowMs += ms;
  }
  /** Sets the absolute time; may not go backwards. */
  set(ms: number): void {
    if (ms < this.#nowMs) throw new RangeError(`ManualClock cannot go backwards (${ms} < ${this.#nowMs})`);
    this.#nowMs = ms;
  }
}

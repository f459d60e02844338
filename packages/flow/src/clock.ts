/** A source of time in milliseconds; inject a fake one to test without sleeping. */
export interface Clock {
  /** Current time in ms on a monotonic scale (only differences matter). */
  now(): number;
}

/** The default clock: `performance.now()`. */
export const monotonicClock: Clock = { now: () => performance.now() };

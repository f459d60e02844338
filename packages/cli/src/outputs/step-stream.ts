import type { LiveStatus } from '@redline/load';
import type { OutputSet } from './output-set.js';

/**
 * Streams the steps of a multi-run command (`redline capacity`) to the outputs as one run: the
 * seconds are numbered on across steps and the totals keep growing, so a dashboard draws the whole
 * staircase and a Prometheus counter never resets between steps. A step starts when a second's
 * index falls back (every step's run counts from 1).
 */
export class StepStream {
  readonly #set: OutputSet;
  readonly #plannedMs: number;
  #offsetT = 0;
  #offsetMs = 0;
  #baseRequests = 0;
  #baseErrors = 0;
  #last: LiveStatus | null = null;

  /** `plannedMs`: what the whole command may take (the dashboard's progress). */
  constructor(set: OutputSet, plannedMs: number) {
    this.#set = set;
    this.#plannedMs = plannedMs;
  }

  /** The `onSecond` of every step's run. */
  readonly onSecond = (s: LiveStatus): void => {
    const last = this.#last;
    if (last && s.point.t <= last.point.t) {
      this.#offsetT += last.point.t;
      this.#offsetMs += last.elapsedMs;
      this.#baseRequests += last.totalRequests;
      this.#baseErrors += last.totalErrors;
    }
    this.#last = s;
    this.#set.second({
      ...s,
      elapsedMs: this.#offsetMs + s.elapsedMs,
      plannedMs: this.#plannedMs,
      point: { ...s.point, t: this.#offsetT + s.point.t },
      totalRequests: this.#baseRequests + s.totalRequests,
      totalErrors: this.#baseErrors + s.totalErrors,
    });
  };
}

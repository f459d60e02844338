import type { Slice } from './recorder.js';
import type { ExecutionShare } from './segments.js';

/** A virtual user: runs one iteration at a time. */
export interface Vu {
  /** Global id, unique across workers, from 1. */
  readonly id: number;
  /**
   * Runs one iteration and calls `done` exactly once when it finishes (success or failure).
   * @param startDelayMs how late the iteration starts versus its intended time (open models; 0 for closed).
   */
  run(startDelayMs: number, done: () => void): void;
  /** Closes the VU's connections; an in-flight iteration is abandoned without calling `done`. */
  close(): void;
}

/** What every executor needs from the engine, for one scenario in one worker. */
export interface ExecutorEnv {
  /** Engine-clock ms when this scenario starts (run start + startTime). */
  readonly scenarioStartAt: number;
  /** This worker's position among `workerCount` workers. */
  readonly workerIndex: number;
  readonly workerCount: number;
  /** This instance's execution segment (`--execution-segment`): which global iterations and VUs are its own. */
  readonly share: ExecutionShare;
  /** Creates a new VU for this scenario. */
  newVu(): Vu;
  /** True once a stop was requested (Ctrl-C, abortOnFail): start no new iterations. */
  stopping(): boolean;
  /** Resolves at engine time `at`, or as soon as a stop is requested. */
  waitUntil(at: number): Promise<void>;
  /** Counts an iteration that could not start for lack of a free VU. */
  countDropped(): void;
  /**
   * Registers what to do when the scenario is abandoned (its graceful stop ran out) while the executor
   * still runs: an open model counts the iterations that were due and never started as dropped.
   */
  onAbandon(fn: () => void): void;
  /** Records the schedule lag (ms) of an open-model iteration and that one was intended. */
  recordLag(lagMs: number): void;
  /** Shared-memory counter for `shared-iterations` (one per scenario, shared by all workers). */
  readonly sharedCounter: Int32Array;
  /** Reports how many VUs this scenario currently holds in this worker. */
  setVus(active: number, allocated: number): void;
  /** Longest an open-model iteration may wait for a free VU before it counts as dropped (the request timeout). */
  readonly maxQueueWaitMs: number;
  /** Scenario slice for metrics. */
  readonly scenarioSlice: Slice;
}

/** Runs `vu` back to back while `keepGoing()` holds; resolves after the last iteration ends. */
export function loopVu(vu: Vu, keepGoing: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const next = (): void => {
      if (!keepGoing()) resolve();
      else vu.run(0, next);
    };
    next();
  });
}

import { Aimd, type AimdOptions } from './algorithms/aimd.js';
import { Fixed } from './algorithms/fixed.js';
import { Gradient2, type Gradient2Options } from './algorithms/gradient2.js';
import type { LatencyWindow, LimitAlgorithm } from './algorithms/types.js';
import { Vegas, type VegasOptions } from './algorithms/vegas.js';
import { monotonicClock, type Clock } from './clock.js';
import { PriorityDeque } from './deque.js';
import { FlowError, FlowErrorCodes, type FlowErrorCode } from './errors.js';
import { StatsPublisher } from './stats.js';
import { fnOption, intOption, numberOption, oneOf, rangeError, typeError } from './validate.js';

/** The built-in algorithms. */
export type AlgorithmName = 'gradient2' | 'vegas' | 'aimd' | 'fixed';

/** Options of {@link createLimiter}. Every option is validated up front (RangeError/TypeError naming it). */
export interface LimiterOptions {
  /** Names the limiter in metrics. Default `'default'`. */
  name?: string;
  /** How the limit adapts. Default `'gradient2'`. */
  algorithm?: AlgorithmName;
  /** Lowest limit, integer ≥ 1. Default 1. */
  min?: number;
  /** Highest limit, integer ≥ min. Default 1000. */
  max?: number;
  /** Starting limit, integer in [min, max]. Default clamp(20, min, max). */
  initial?: number;
  gradient2?: Gradient2Options;
  vegas?: VegasOptions;
  aimd?: AimdOptions;
  /** Calls that may wait for a slot, integer ≥ 0 (0: reject at once when full). Default 100. */
  maxQueue?: number;
  /**
   * Order of the queue within a priority: `false` FIFO; `true` LIFO; `'overload'` LIFO while more
   * calls wait than the limit admits (the newest requests are the ones still worth serving). Default false.
   */
  lifo?: boolean | 'overload';
  /** Shortest sampling window, ms. Default 100. */
  windowMinMs?: number;
  /** Longest sampling window, ms (a window lasts clamp(2 × its min latency, windowMinMs, windowMaxMs)). Default 1000. */
  windowMaxMs?: number;
  /** Samples a window needs before it updates the limit. Default 10. */
  windowMinSamples?: number;
  /** Which rejections of `fn` count as drops (a congestion signal); others are not sampled. Default: none. */
  isDrop?: (error: unknown) => boolean;
  /** Time source, ms. Default `performance.now()`. */
  clock?: Clock;
  /**
   * Cumulative time, ms, the process spent runnable but waiting for a CPU (on Linux
   * {@link runQueueClock} reads it from `/proc/thread-self/schedstat`). When given, each window's
   * latencies are scaled by `1 − stalled/elapsed` of that window before the algorithm sees them, so
   * a machine that starves the process is not read as queueing inside it. Default: none (wall time).
   */
  stallClock?: Clock;
  /** Period of the `redline:flow:stats` messages, ms; 0 disables them. Default 1000. */
  statsIntervalMs?: number;
}

/** Per-call options of {@link Limiter.run} and {@link Limiter.acquire}. */
export interface RunOptions {
  /** Absolute deadline on the limiter's clock (ms). Queue time counts against it. */
  deadline?: number;
  /** Relative deadline: `deadline = clock.now() + timeoutMs`. */
  timeoutMs?: number;
  /** Higher runs first when calls queue; default 0. When the queue is full, a higher priority evicts the lowest. */
  priority?: number;
}

/** A slot held by the caller; call `release` exactly once when the work ends (later calls are ignored). */
export interface Permit {
  /** `dropped`: the work timed out or failed in a way that signals overload (default: overran its deadline). */
  release(outcome?: { dropped?: boolean; ignore?: boolean }): void;
  /** Deadline the permit was acquired with, if any. */
  readonly deadline: number | undefined;
}

/** A snapshot of a limiter's state and its counters since creation. */
export interface LimiterSnapshot {
  limit: number;
  /** The algorithm's real-valued estimate. */
  estimate: number;
  inFlight: number;
  queued: number;
  admitted: number;
  completed: number;
  rejected: number;
  dropped: number;
  /** Exponential moving average of the service latency, ms (0 before the first sample). */
  latencyMs: number;
}

interface Waiter {
  deadline: number;
  enqueuedAt: number;
  admit(): void;
  reject(err: FlowError): void;
}

const NO_DEADLINE = Infinity;

/**
 * A concurrency limiter whose limit adapts to observed latency. Create it with {@link createLimiter}.
 */
export class Limiter {
  readonly name: string;
  readonly #algorithm: LimitAlgorithm;
  readonly #clock: Clock;
  readonly #stallClock: Clock | undefined;
  #winStall = 0;
  readonly #maxQueue: number;
  readonly #lifo: boolean | 'overload';
  readonly #windowMinMs: number;
  readonly #windowMaxMs: number;
  readonly #windowMinSamples: number;
  readonly #isDrop: (error: unknown) => boolean;
  readonly #queue = new PriorityDeque<Waiter>();
  readonly #stats: StatsPublisher;
  #limit: number;
  #inFlight = 0;
  #closed = false;
  #latencyEma = 0;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweepAt = Infinity;
  // current sampling window
  #winStart: number;
  #winLen: number;
  #winSum = 0;
  #winMin = Infinity;
  #winCount = 0;
  #winMaxInFlight = 0;
  #winDropped = false;
  // totals
  #admitted = 0;
  #completed = 0;
  #rejected = 0;
  #dropped = 0;
  /** Called after every window with the new limit (tests and charts follow the trajectory with it). */
  onLimit: ((limit: number, window: LatencyWindow) => void) | undefined;

  constructor(options: LimiterOptions = {}) {
    if (typeof options !== 'object' || options === null) typeError('options', 'an object', options);
    if (options.name !== undefined && typeof options.name !== 'string') typeError('name', 'a string', options.name);
    this.name = options.name ?? 'default';
    const algorithm = oneOf('algorithm', options.algorithm, ['gradient2', 'vegas', 'aimd', 'fixed'], 'gradient2');
    const min = intOption('min', options.min, 1, 1);
    const max = intOption('max', options.max, Math.max(1000, min), 1);
    if (max < min) rangeError('max', `an integer ≥ min (${min})`, max);
    const initial = intOption('initial', options.initial, Math.min(max, Math.max(min, 20)), min, max);
    const bounds = { min, max, initial };
    this.#algorithm =
      algorithm === 'gradient2'
        ? new Gradient2(bounds, options.gradient2)
        : algorithm === 'vegas'
          ? new Vegas(bounds, options.vegas)
          : algorithm === 'aimd'
            ? new Aimd(bounds, options.aimd)
            : new Fixed(bounds);
    this.#limit = initial;
    this.#maxQueue = intOption('maxQueue', options.maxQueue, 100, 0);
    if (options.lifo !== undefined && typeof options.lifo !== 'boolean' && options.lifo !== 'overload') {
      rangeError('lifo', "true, false or 'overload'", options.lifo);
    }
    this.#lifo = options.lifo ?? false;
    this.#windowMinMs = numberOption('windowMinMs', options.windowMinMs, 100, 0);
    this.#windowMaxMs = numberOption('windowMaxMs', options.windowMaxMs, Math.max(1000, this.#windowMinMs), this.#windowMinMs);
    this.#windowMinSamples = intOption('windowMinSamples', options.windowMinSamples, 10, 1);
    this.#isDrop = fnOption('isDrop', options.isDrop, () => false);
    const clock = options.clock ?? monotonicClock;
    if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') typeError('clock', 'an object with now()', clock);
    this.#clock = clock;
    const stall = options.stallClock;
    if (stall !== undefined && (typeof stall !== 'object' || stall === null || typeof stall.now !== 'function')) typeError('stallClock', 'an object with now()', stall);
    this.#stallClock = stall;
    if (stall) this.#winStall = stall.now();
    const statsIntervalMs = numberOption('statsIntervalMs', options.statsIntervalMs, 1000, 0);
    this.#winStart = clock.now();
    this.#winLen = this.#windowMinMs;
    this.#stats = new StatsPublisher(this.name, statsIntervalMs, () => this.#gauges());
  }

  /** Calls admitted at once (`floor` of the algorithm's estimate). */
  get limit(): number {
    return this.#limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get queued(): number {
    return this.#queue.size;
  }

  /**
   * Runs `fn` when a slot is free. Rejects at once, without calling `fn`, with a {@link FlowError}:
   * `REDLINE_ERR_FLOW_DEADLINE_PAST` when the deadline has passed, `..._QUEUE_FULL` when it would
   * have to wait and the queue is full, `..._DEADLINE_UNREACHABLE` when the estimated wait plus the
   * mean latency overruns the deadline; later with `..._DEADLINE_EXCEEDED` if the deadline passes
   * while it waits. `fn`'s own result or rejection passes through.
   */
  run<T>(fn: () => T | PromiseLike<T>, options?: RunOptions): Promise<T> {
    const deadline = options === undefined ? NO_DEADLINE : this.#deadlineOf(options);
    if (this.#inFlight < this.#limit && this.#queue.size === 0 && !this.#closed && deadline === NO_DEADLINE) {
      return this.#execute(fn, deadline);
    }
    return new Promise<T>((resolve, reject) => {
      this.#admitOrQueue(deadline, options?.priority ?? 0, () => {
        this.#execute(fn, deadline).then(resolve, reject);
      }, reject);
    });
  }

  /**
   * Waits for a slot and returns a {@link Permit} (for work that is not one function, such as an HTTP
   * response that ends on `'close'`). Rejects like {@link run}.
   */
  acquire(options?: RunOptions): Promise<Permit> {
    const deadline = options === undefined ? NO_DEADLINE : this.#deadlineOf(options);
    return new Promise<Permit>((resolve, reject) => {
      this.#admitOrQueue(deadline, options?.priority ?? 0, () => resolve(this.#permit(deadline)), reject);
    });
  }

  /** A snapshot of the state and totals. */
  snapshot(): LimiterSnapshot {
    return {
      limit: this.#limit,
      estimate: this.#algorithm.limit,
      inFlight: this.#inFlight,
      queued: this.#queue.size,
      admitted: this.#admitted,
      completed: this.#completed,
      rejected: this.#rejected,
      dropped: this.#dropped,
      latencyMs: this.#latencyEma,
    };
  }

  /** Rejects every queued call with `REDLINE_ERR_FLOW_CLOSED`, refuses new ones and stops the metrics timer. Calls in flight finish. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#stats.close();
    if (this.#sweepTimer) clearTimeout(this.#sweepTimer);
    for (let w = this.#queue.take(false); w; w = this.#queue.take(false)) {
      this.#reject(w.reject, FlowErrorCodes.CLOSED, `limiter ${this.name} was closed`);
    }
  }

  #deadlineOf(options: RunOptions): number {
    if (typeof options !== 'object' || options === null) typeError('options', 'an object', options);
    if (options.priority !== undefined && (typeof options.priority !== 'number' || !Number.isFinite(options.priority))) {
      rangeError('priority', 'a finite number', options.priority);
    }
    if (options.deadline !== undefined) {
      if (typeof options.deadline !== 'number' || Number.isNaN(options.deadline)) rangeError('deadline', 'a number (ms on the limiter clock)', options.deadline);
      return options.deadline;
    }
    if (options.timeoutMs !== undefined) {
      if (typeof options.timeoutMs !== 'number' || Number.isNaN(options.timeoutMs)) rangeError('timeoutMs', 'a number of ms', options.timeoutMs);
      return this.#clock.now() + options.timeoutMs;
    }
    return NO_DEADLINE;
  }

  #admitOrQueue(deadline: number, priority: number, admit: () => void, reject: (err: FlowError) => void): void {
    if (this.#closed) return this.#reject(reject, FlowErrorCodes.CLOSED, `limiter ${this.name} is closed`);
    const now = deadline === NO_DEADLINE ? 0 : this.#clock.now();
    if (deadline !== NO_DEADLINE && deadline <= now) {
      return this.#reject(reject, FlowErrorCodes.DEADLINE_PAST, `deadline passed ${fmtMs(now - deadline)} ago, before the call was made`);
    }
    if (this.#inFlight < this.#limit && this.#queue.size === 0) return admit();
    if (deadline !== NO_DEADLINE && this.#latencyEma > 0) {
      // Position k waits about k·latency/limit for a slot, then needs about one latency of service.
      const expected = ((this.#queue.size + 1) * this.#latencyEma) / this.#limit + this.#latencyEma;
      if (now + expected > deadline) {
        return this.#reject(
          reject,
          FlowErrorCodes.DEADLINE_UNREACHABLE,
          `deadline in ${fmtMs(deadline - now)} is unreachable: about ${fmtMs(expected)} of queue wait and service expected (limit ${this.#limit}, ${this.#queue.size} queued)`,
        );
      }
    }
    if (this.#queue.size >= this.#maxQueue) {
      const lowest = this.#queue.lowestPriority();
      if (lowest === undefined || lowest >= priority) {
        return this.#reject(reject, FlowErrorCodes.QUEUE_FULL, `queue full (${this.#maxQueue} waiting, limit ${this.#limit})`);
      }
      const evicted = this.#queue.evictLowest(this.#lifoNow());
      if (evicted) this.#reject(evicted.reject, FlowErrorCodes.QUEUE_FULL, `evicted from a full queue by a call of higher priority ${priority}`);
    }
    const waiter: Waiter = { deadline, enqueuedAt: this.#clock.now(), admit, reject };
    this.#queue.push(priority, waiter);
    if (deadline !== NO_DEADLINE) this.#armSweep(deadline);
  }

  #lifoNow(): boolean {
    return this.#lifo === true || (this.#lifo === 'overload' && this.#queue.size > this.#limit);
  }

  #reject(reject: (err: FlowError) => void, code: FlowErrorCode, message: string): void {
    this.#rejected++;
    this.#stats.count(code);
    reject(new FlowError(code, `${this.name}: ${message}`, { retryAfterMs: Math.max(1, this.#latencyEma) }));
  }

  #execute<T>(fn: () => T | PromiseLike<T>, deadline: number): Promise<T> {
    const start = this.#enter();
    let result: T | PromiseLike<T>;
    try {
      result = fn();
    } catch (err) {
      this.#leave(start, deadline, this.#isDrop(err), false);
      return Promise.reject(err);
    }
    return Promise.resolve(result).then(
      (value) => {
        this.#leave(start, deadline, false, false);
        return value;
      },
      (err: unknown) => {
        const drop = this.#isDrop(err);
        this.#leave(start, deadline, drop, !drop);
        throw err;
      },
    );
  }

  #permit(deadline: number): Permit {
    const start = this.#enter();
    let released = false;
    return {
      deadline: deadline === NO_DEADLINE ? undefined : deadline,
      release: (outcome) => {
        if (released) return;
        released = true;
        this.#leave(start, deadline, outcome?.dropped === true, outcome?.ignore === true);
      },
    };
  }

  #enter(): number {
    this.#inFlight++;
    this.#admitted++;
    this.#stats.count('admitted');
    if (this.#inFlight > this.#winMaxInFlight) this.#winMaxInFlight = this.#inFlight;
    return this.#clock.now();
  }

  #leave(start: number, deadline: number, dropped: boolean, ignore: boolean): void {
    this.#inFlight--;
    this.#completed++;
    const now = this.#clock.now();
    const rtt = now - start;
    const overran = now > deadline;
    if (!ignore) this.#sample(now, rtt, dropped || overran);
    this.#drain();
  }

  #sample(now: number, rttMs: number, dropped: boolean): void {
    if (dropped) {
      this.#dropped++;
      this.#stats.count('dropped');
    }
    this.#stats.latency(rttMs);
    this.#latencyEma = this.#latencyEma === 0 ? rttMs : this.#latencyEma * 0.9 + rttMs * 0.1;
    this.#winSum += rttMs;
    this.#winCount++;
    if (rttMs < this.#winMin) this.#winMin = rttMs;
    if (dropped) this.#winDropped = true;
    if (now - this.#winStart >= this.#winLen && this.#winCount >= this.#windowMinSamples) this.#closeWindow(now);
  }

  #closeWindow(now: number): void {
    const scale = this.#runningShare(now);
    const window: LatencyWindow = {
      rttMs: (this.#winSum / this.#winCount) * scale,
      minRttMs: this.#winMin * scale,
      maxInFlight: this.#winMaxInFlight,
      dropped: this.#winDropped,
      samples: this.#winCount,
    };
    const estimate = this.#algorithm.update(window);
    this.#limit = Math.max(1, Math.floor(estimate));
    this.#winLen = Math.min(this.#windowMaxMs, Math.max(this.#windowMinMs, 2 * window.minRttMs));
    this.#winStart = now;
    this.#winSum = 0;
    this.#winCount = 0;
    this.#winMin = Infinity;
    this.#winMaxInFlight = this.#inFlight;
    this.#winDropped = false;
    this.onLimit?.(this.#limit, window);
  }

  /** Share of the window the process was not waiting for a CPU (1 without a stall clock). */
  #runningShare(now: number): number {
    if (!this.#stallClock) return 1;
    const stall = this.#stallClock.now();
    const elapsed = now - this.#winStart;
    const stalled = stall - this.#winStall;
    this.#winStall = stall;
    if (!(elapsed > 0) || !(stalled > 0)) return 1;
    // A floor, so a window spent almost wholly off-CPU cannot shrink its latencies to nothing.
    return Math.max(0.05, 1 - stalled / elapsed);
  }

  #drain(): void {
    while (this.#inFlight < this.#limit && this.#queue.size > 0) {
      const waiter = this.#queue.take(this.#lifoNow())!;
      const now = this.#clock.now();
      if (waiter.deadline <= now) {
        this.#reject(waiter.reject, FlowErrorCodes.DEADLINE_EXCEEDED, `deadline passed after ${fmtMs(now - waiter.enqueuedAt)} in the queue`);
        continue;
      }
      this.#stats.queueWait(now - waiter.enqueuedAt);
      waiter.admit();
    }
  }

  #armSweep(deadline: number): void {
    if (deadline >= this.#sweepAt) return;
    if (this.#sweepTimer) clearTimeout(this.#sweepTimer);
    this.#sweepAt = deadline;
    // Kept referenced: a caller awaits a promise this timer settles by its deadline.
    this.#sweepTimer = setTimeout(() => this.#sweep(), Math.max(0, deadline - this.#clock.now()) + 1);
  }

  /** Rejects queued calls whose deadline has passed, then re-arms for the earliest remaining one. */
  #sweep(): void {
    this.#sweepTimer = undefined;
    this.#sweepAt = Infinity;
    const now = this.#clock.now();
    const expired = this.#queue.removeWhere((w) => w.deadline <= now);
    for (const w of expired) {
      this.#reject(w.reject, FlowErrorCodes.DEADLINE_EXCEEDED, `deadline passed after ${fmtMs(now - w.enqueuedAt)} in the queue`);
    }
    let next = Infinity;
    for (const w of this.#queue) if (w.deadline < next) next = w.deadline;
    if (next !== Infinity && !this.#closed) this.#armSweep(next);
  }

  #gauges(): Record<string, number> {
    return { limit: this.#limit, estimate: this.#algorithm.limit, inFlight: this.#inFlight, queued: this.#queue.size, ...this.#algorithm.gauges() };
  }
}

function fmtMs(ms: number): string {
  return `${ms < 10 ? ms.toFixed(2) : Math.round(ms)} ms`;
}

/**
 * Creates a {@link Limiter}. Throws a RangeError (or TypeError) naming the option for any invalid
 * option, with `code` `REDLINE_ERR_FLOW_INVALID_OPTION`.
 *
 * ```ts
 * const limiter = createLimiter({ algorithm: 'gradient2', min: 4, max: 200, maxQueue: 50 });
 * const rows = await limiter.run(() => db.query(sql), { timeoutMs: 250 });
 * ```
 */
export function createLimiter(options: LimiterOptions = {}): Limiter {
  return new Limiter(options);
}

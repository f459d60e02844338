import { monotonicClock, type Clock } from './clock.js';
import { FlowError, FlowErrorCodes } from './errors.js';
import { StatsPublisher } from './stats.js';
import { fnOption, intOption, numberOption, rangeError, typeError } from './validate.js';

/** Why a batch was handed to the handler. */
export type FlushReason = 'size' | 'time' | 'deadline' | 'manual';

/** Options of {@link createBatcher}. Validated up front (RangeError/TypeError naming the option). */
export interface BatcherOptions<T, R> {
  /**
   * Processes one batch. Return one result per item, in order (or nothing: every item resolves
   * `undefined`). A throw or rejection rejects every item of that batch with
   * `REDLINE_ERR_FLOW_BATCH_FAILED` (its `cause` is the error); later batches go on.
   */
  handler: (items: T[]) => Promise<R[] | void> | R[] | void;
  /** Largest batch, integer ≥ 1. Default 100. */
  maxBatch?: number;
  /** Longest time the first item of a batch waits for the batch to fill, ms ≥ 0. Default 10. */
  maxWaitMs?: number;
  /**
   * Handler latency target, ms. When set, the batch size adapts by AIMD (as Clipper does): after
   * each full batch within the target it grows by `additiveIncrease`; after any batch over the
   * target it shrinks to `floor(size · backoffRatio)`, within [minBatch, maxBatch]. Unset: the
   * batch size is `maxBatch`.
   */
  targetLatencyMs?: number;
  /** Smallest adaptive batch, integer in [1, maxBatch]. Default 1. */
  minBatch?: number;
  /** Starting adaptive batch size. Default minBatch. */
  initialBatch?: number;
  /** Adaptive growth per full batch within the target. Default max(1, round(maxBatch / 32)). */
  additiveIncrease?: number;
  /** Adaptive shrink factor in [0.1, 1). Default 0.9. */
  backoffRatio?: number;
  /**
   * Adaptive only: a full batch within the target that processes fewer items per ms than this share
   * of the best rate seen shrinks the size by `additiveIncrease` instead of growing it (0 turns the
   * guard off, giving Clipper's plain AIMD). In [0, 1]. Default 0.8.
   */
  throughputGuard?: number;
  /** Batches handled at once, integer ≥ 1. Default 1. */
  concurrency?: number;
  /** Items that may wait (not yet in a running batch), integer ≥ 1; past it `add` rejects with QUEUE_FULL. Default 10 × maxBatch. */
  maxPending?: number;
  /** Names the batcher in metrics (`batcher:<name>`). Default `'default'`. */
  name?: string;
  clock?: Clock;
  /** Period of the `redline:flow:stats` messages, ms; 0 disables them. Default 1000. */
  statsIntervalMs?: number;
}

/** Per-item options of {@link Batcher.add}. */
export interface AddOptions {
  /** Absolute deadline on the batcher's clock (ms): the batch is flushed early enough to meet it. */
  deadline?: number;
  /** Relative deadline, ms from now. */
  timeoutMs?: number;
}

/** Counters of a batcher since creation. */
export interface BatcherSnapshot {
  batchSize: number;
  pending: number;
  runningBatches: number;
  batches: number;
  failedBatches: number;
  items: number;
  flushes: Record<FlushReason, number>;
  /** Mean of (batch length / batch size at flush). */
  fillRatio: number;
  /** EMA of the handler's latency per batch, ms. */
  batchLatencyMs: number;
}

interface Entry<T, R> {
  item: T;
  at: number;
  deadline: number;
  resolve(value: R): void;
  reject(err: unknown): void;
}

/** Collects items into batches for a handler; create it with {@link createBatcher}. */
export class Batcher<T, R = unknown> {
  readonly name: string;
  readonly #handler: (items: T[]) => Promise<R[] | void> | R[] | void;
  readonly #maxBatch: number;
  readonly #minBatch: number;
  readonly #maxWaitMs: number;
  readonly #target: number | undefined;
  readonly #increase: number;
  readonly #backoff: number;
  readonly #concurrency: number;
  readonly #maxPending: number;
  readonly #clock: Clock;
  readonly #stats: StatsPublisher;
  #size: number;
  #pending: Entry<T, R>[] = [];
  #running = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  readonly #guard: number;
  /** Best items-per-ms rate of a full batch, slowly forgotten (for the throughput guard). */
  #bestRate = 0;
  #bestRateSize = 0;
  /** Earliest deadline among the pending items (Infinity when none has one). */
  #minDeadline = Infinity;
  #latencyEma = 0;
  #closed = false;
  #idle: (() => void)[] = [];
  #batches = 0;
  #failed = 0;
  #items = 0;
  #fillSum = 0;
  readonly #flushes: Record<FlushReason, number> = { size: 0, time: 0, deadline: 0, manual: 0 };
  /** Called after each batch with its length, latency and the next batch size (for charts and tests). */
  onBatch: ((info: { length: number; latencyMs: number; reason: FlushReason; nextSize: number; failed: boolean }) => void) | undefined;

  constructor(options: BatcherOptions<T, R>) {
    if (typeof options !== 'object' || options === null) typeError('options', 'an object', options);
    if (typeof options.handler !== 'function') typeError('handler', 'a function', options.handler);
    this.#handler = fnOption('handler', options.handler, options.handler);
    if (options.name !== undefined && typeof options.name !== 'string') typeError('name', 'a string', options.name);
    this.name = options.name ?? 'default';
    this.#maxBatch = intOption('maxBatch', options.maxBatch, 100, 1);
    this.#maxWaitMs = numberOption('maxWaitMs', options.maxWaitMs, 10, 0);
    this.#target = options.targetLatencyMs === undefined ? undefined : numberOption('targetLatencyMs', options.targetLatencyMs, 0, 0, Infinity, true);
    this.#minBatch = intOption('minBatch', options.minBatch, 1, 1, this.#maxBatch);
    const initial = intOption('initialBatch', options.initialBatch, this.#minBatch, this.#minBatch, this.#maxBatch);
    this.#increase = numberOption('additiveIncrease', options.additiveIncrease, Math.max(1, Math.round(this.#maxBatch / 32)), 0, Infinity, true);
    this.#backoff = numberOption('backoffRatio', options.backoffRatio, 0.9, 0.1, 1);
    if (this.#backoff === 1) rangeError('backoffRatio', 'a finite number in [0.1, 1)', 1);
    this.#guard = numberOption('throughputGuard', options.throughputGuard, 0.8, 0, 1);
    this.#concurrency = intOption('concurrency', options.concurrency, 1, 1);
    this.#maxPending = intOption('maxPending', options.maxPending, 10 * this.#maxBatch, 1);
    const clock = options.clock ?? monotonicClock;
    if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') typeError('clock', 'an object with now()', clock);
    this.#clock = clock;
    this.#size = this.#target === undefined ? this.#maxBatch : initial;
    const statsIntervalMs = numberOption('statsIntervalMs', options.statsIntervalMs, 1000, 0);
    this.#stats = new StatsPublisher(`batcher:${this.name}`, statsIntervalMs, () => ({
      batchSize: this.#size,
      pending: this.#pending.length,
      runningBatches: this.#running,
    }));
  }

  /** Current batch size (adaptive when `targetLatencyMs` is set). */
  get batchSize(): number {
    return this.#size;
  }

  /**
   * Adds one item; resolves with its result once its batch is handled. Rejects at once with
   * `REDLINE_ERR_FLOW_DEADLINE_PAST` for a past deadline, `..._QUEUE_FULL` past `maxPending`,
   * `..._CLOSED` after `close()`.
   */
  add(item: T, options?: AddOptions): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      const now = this.#clock.now();
      let deadline = Infinity;
      if (options?.deadline !== undefined) deadline = options.deadline;
      else if (options?.timeoutMs !== undefined) deadline = now + options.timeoutMs;
      if (Number.isNaN(deadline)) rangeError('deadline', 'a number (ms on the batcher clock)', deadline);
      if (this.#closed) return reject(new FlowError(FlowErrorCodes.CLOSED, `batcher ${this.name} is closed`));
      if (deadline <= now) return reject(new FlowError(FlowErrorCodes.DEADLINE_PAST, `batcher ${this.name}: deadline passed ${Math.round(now - deadline)} ms ago`));
      if (this.#pending.length >= this.#maxPending) {
        this.#stats.count(FlowErrorCodes.QUEUE_FULL);
        return reject(new FlowError(FlowErrorCodes.QUEUE_FULL, `batcher ${this.name}: ${this.#maxPending} items already pending`, { retryAfterMs: Math.max(1, this.#latencyEma) }));
      }
      this.#pending.push({ item, at: now, deadline, resolve, reject });
      if (deadline < this.#minDeadline) this.#minDeadline = deadline;
      // Only a full batch, a new earliest deadline or an unarmed timer can change what is due.
      if (this.#pending.length >= this.#size || deadline === this.#minDeadline || this.#timer === undefined) this.#schedule(now);
    });
  }

  /** Hands every pending item to the handler now (in batches of at most the batch size) and waits for them. */
  async flush(): Promise<void> {
    while (this.#pending.length > 0) {
      if (this.#running >= this.#concurrency) await new Promise<void>((r) => this.#idle.push(r));
      else this.#dispatch('manual');
    }
    while (this.#running > 0) await new Promise<void>((r) => this.#idle.push(r));
  }

  /** Stops taking items, flushes the pending ones and waits for every batch; stops the metrics timer. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    if (this.#timer) clearTimeout(this.#timer);
    this.#stats.close();
  }

  snapshot(): BatcherSnapshot {
    return {
      batchSize: this.#size,
      pending: this.#pending.length,
      runningBatches: this.#running,
      batches: this.#batches,
      failedBatches: this.#failed,
      items: this.#items,
      flushes: { ...this.#flushes },
      fillRatio: this.#batches > 0 ? this.#fillSum / this.#batches : 0,
      batchLatencyMs: this.#latencyEma,
    };
  }

  /** Dispatches full batches while slots are free; otherwise arms the timer for time/deadline flushes. */
  #schedule(now: number): void {
    while (this.#running < this.#concurrency && this.#pending.length >= this.#size) this.#dispatch('size');
    if (this.#pending.length === 0 || this.#running >= this.#concurrency) return;
    const { at, reason } = this.#due();
    if (at <= now) {
      this.#dispatch(reason);
      return this.#schedule(now);
    }
    if (at < this.#timerAt) {
      if (this.#timer) clearTimeout(this.#timer);
      this.#timerAt = at;
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#timerAt = Infinity;
        this.#schedule(this.#clock.now());
      }, Math.max(0, at - now));
    }
  }

  /** When the pending items must go: maxWaitMs after the oldest, or early enough for the nearest deadline. */
  #due(): { at: number; reason: FlushReason } {
    const byTime = this.#pending[0]!.at + this.#maxWaitMs;
    const byDeadline = this.#minDeadline - this.#latencyEma;
    return byDeadline < byTime ? { at: byDeadline, reason: 'deadline' } : { at: byTime, reason: 'time' };
  }

  #dispatch(reason: FlushReason): void {
    const size = this.#size;
    const batch = this.#pending.splice(0, size);
    if (batch.length === 0) return;
    if (this.#minDeadline !== Infinity) {
      this.#minDeadline = Infinity;
      for (const e of this.#pending) if (e.deadline < this.#minDeadline) this.#minDeadline = e.deadline;
    }
    if (this.#timer && this.#pending.length === 0) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#timerAt = Infinity;
    }
    this.#running++;
    this.#flushes[reason]++;
    this.#stats.count(`flush${reason[0]!.toUpperCase()}${reason.slice(1)}`);
    this.#stats.observe('fillRatio', batch.length / size);
    this.#fillSum += batch.length / size;
    const start = this.#clock.now();
    let out: Promise<R[] | void>;
    try {
      out = Promise.resolve(this.#handler(batch.map((e) => e.item)));
    } catch (err) {
      out = Promise.reject(err);
    }
    out.then(
      (results) => {
        if (results !== undefined && (!Array.isArray(results) || results.length !== batch.length)) {
          const got = Array.isArray(results) ? `${results.length} results` : typeof results;
          throw new RangeError(`handler must return one result per item (${batch.length}), got ${got}`);
        }
        this.#finish(batch, start, reason, size, false);
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve((results ? results[i] : undefined) as R);
      },
    ).catch((cause: unknown) => {
      this.#finish(batch, start, reason, size, true);
      const message = `batcher ${this.name}: the handler failed for a batch of ${batch.length}: ${cause instanceof Error ? cause.message : String(cause)}`;
      for (const e of batch) e.reject(new FlowError(FlowErrorCodes.BATCH_FAILED, message, { cause }));
    }).finally(() => {
      this.#running--;
      for (const r of this.#idle.splice(0)) r();
      this.#schedule(this.#clock.now());
    });
  }

  /**
   * Clipper's AIMD on the latency target, with one guard for throughput: growing stops paying once
   * a full batch processes fewer items per ms than `throughputGuard` × the best rate seen (a slowly
   * forgotten maximum), so the size steps back instead of growing to `maxBatch` past the peak.
   */
  #adapt(length: number, size: number, latency: number): void {
    if (latency > this.#target!) {
      this.#size = Math.max(this.#minBatch, Math.floor(this.#size * this.#backoff));
      return;
    }
    if (length < size) return;
    const rate = length / Math.max(latency, 1e-3);
    this.#bestRate *= 0.99;
    if (rate >= this.#bestRate) {
      this.#bestRate = rate;
      this.#bestRateSize = length;
    }
    // Only past the size of the best rate: below it, smaller batches are slower per item, so grow.
    if (this.#guard > 0 && length > this.#bestRateSize && rate < this.#guard * this.#bestRate) {
      this.#size = Math.max(this.#minBatch, Math.round(this.#size - this.#increase));
      return;
    }
    this.#size = Math.min(this.#maxBatch, Math.round(this.#size + this.#increase));
  }

  #finish(batch: Entry<T, R>[], start: number, reason: FlushReason, size: number, failed: boolean): void {
    const now = this.#clock.now();
    const latency = now - start;
    this.#batches++;
    this.#items += batch.length;
    if (failed) {
      this.#failed++;
      this.#stats.count('failedBatches');
    }
    this.#stats.count('items', batch.length);
    this.#stats.observe('batchLatencyMs', latency);
    for (const e of batch) this.#stats.observe('itemLatencyMs', now - e.at);
    this.#latencyEma = this.#latencyEma === 0 ? latency : this.#latencyEma * 0.8 + latency * 0.2;
    if (this.#target !== undefined && !failed) this.#adapt(batch.length, size, latency);
    this.onBatch?.({ length: batch.length, latencyMs: latency, reason, nextSize: this.#size, failed });
  }
}

/**
 * Creates a {@link Batcher}: `add(item)` returns one promise per item; items are handed to
 * `handler` in batches flushed when full (`size`), when the oldest has waited `maxWaitMs`
 * (`time`), or early enough for an item's deadline (`deadline`). Flush reasons, fill ratio and
 * latencies are published on `redline:flow:stats` as `batcher:<name>`.
 *
 * ```ts
 * const inserts = createBatcher({ handler: (rows) => insertMany(rows), maxBatch: 500, maxWaitMs: 5, targetLatencyMs: 50 });
 * await inserts.add(row);
 * ```
 */
export function createBatcher<T, R = unknown>(options: BatcherOptions<T, R>): Batcher<T, R> {
  return new Batcher<T, R>(options);
}

import diagnosticsChannel from 'node:diagnostics_channel';
import { FlowErrorCodes } from './errors.js';

/**
 * Channel of the per-interval statistics of every limiter and batcher. Each message is a
 * {@link FlowStatsMessage}; nothing is published while the channel has no subscribers.
 */
export const FLOW_STATS_CHANNEL = 'redline:flow:stats';

/** `redline:flow:stats` message: one limiter's or batcher's numbers over the last interval. */
export interface FlowStatsMessage {
  /** Limiter or batcher name (batchers are prefixed `batcher:`). */
  name: string;
  /** Wall-clock time of the message, `Date.now()` ms. */
  at: number;
  /**
   * Limiter: `limit`, `estimate`, `inFlight`, `queued` (gauges); `admitted`, `rejected`,
   * `rejectedQueueFull`, `rejectedDeadline`, `dropped` (counts in the interval); `latencyMs`,
   * `latencyMaxMs`, `queueWaitMs` (mean/max in the interval), plus the algorithm's own gauges.
   * Batcher: see `createBatcher`.
   */
  values: Record<string, number>;
}

/** The channel object, for `subscribe`. */
export const flowStatsChannel = diagnosticsChannel.channel(FLOW_STATS_CHANNEL);

const REJECT_KEYS: Record<string, string> = {
  [FlowErrorCodes.QUEUE_FULL]: 'rejectedQueueFull',
  [FlowErrorCodes.DEADLINE_PAST]: 'rejectedDeadline',
  [FlowErrorCodes.DEADLINE_UNREACHABLE]: 'rejectedDeadline',
  [FlowErrorCodes.DEADLINE_EXCEEDED]: 'rejectedDeadline',
  [FlowErrorCodes.CLOSED]: 'rejectedClosed',
};

/** Per-interval counters and means, published every `intervalMs` on {@link FLOW_STATS_CHANNEL}. */
export class StatsPublisher {
  #counts: Record<string, number> = {};
  #sums: Record<string, { sum: number; n: number; max: number }> = {};
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(
    readonly name: string,
    intervalMs: number,
    private readonly gauges: () => Record<string, number>,
  ) {
    if (intervalMs > 0) {
      this.#timer = setInterval(() => this.publish(), intervalMs);
      this.#timer.unref();
    }
  }

  /** Counts one event; rejection codes map to `rejected` plus their own key. */
  count(key: string, n = 1): void {
    const rejectKey = REJECT_KEYS[key];
    if (rejectKey !== undefined) {
      this.#counts.rejected = (this.#counts.rejected ?? 0) + n;
      key = rejectKey;
    }
    this.#counts[key] = (this.#counts[key] ?? 0) + n;
  }

  /** Records a value whose interval mean (`key`) and max (`key` with `Max` before `Ms`) are published. */
  observe(key: string, value: number): void {
    const s = (this.#sums[key] ??= { sum: 0, n: 0, max: 0 });
    s.sum += value;
    s.n++;
    if (value > s.max) s.max = value;
  }

  latency(ms: number): void {
    this.observe('latencyMs', ms);
  }

  queueWait(ms: number): void {
    this.observe('queueWaitMs', ms);
  }

  /** The interval's message, and starts a new interval. */
  take(): FlowStatsMessage {
    const values: Record<string, number> = { admitted: 0, rejected: 0, ...this.gauges(), ...this.#counts };
    for (const [key, s] of Object.entries(this.#sums)) {
      values[key] = s.n > 0 ? s.sum / s.n : 0;
      values[key.replace(/Ms$/, 'MaxMs')] = s.max;
    }
    this.#counts = {};
    this.#sums = {};
    return { name: this.name, at: Date.now(), values };
  }

  publish(): void {
    const message = this.take();
    if (flowStatsChannel.hasSubscribers) flowStatsChannel.publish(message);
  }

  close(): void {
    if (this.#timer) clearInterval(this.#timer);
  }
}

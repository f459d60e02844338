import diagnosticsChannel from 'node:diagnostics_channel';
import { POOL_LEAK_CHANNEL, POOL_STATS_CHANNEL, type PoolLeakMessage, type PoolMeta, type PoolStatsMessage } from './channels.js';
import { DurationHistogram } from './histogram.js';

/** An injectable clock: epoch milliseconds, sub-millisecond resolution allowed. */
export interface Clock {
  now(): number;
}

/** The default clock: `performance.timeOrigin + performance.now()` (epoch ms, monotonic within the process). */
export const systemClock: Clock = { now: () => performance.timeOrigin + performance.now() };

/** What the driver itself says about its pool right now. */
export interface DriverGauges {
  /** Clients open or opening. */
  size: number;
  /** Clients open and not handed out. */
  idle: number;
}

/** One acquisition in progress, from the request to the client being handed out. */
export interface AcquireToken {
  readonly id: number;
  readonly startedAt: number;
  /** Holds the captured stack (formatted lazily by V8) when leak detection is on. */
  readonly stackHolder: { stack?: string } | undefined;
}

interface Held {
  id: number;
  acquiredAt: number;
  stackHolder: { stack?: string } | undefined;
  leaked: boolean;
  /** Queries in flight on this client, and when the current busy stretch began. */
  activeQueries: number;
  busySince: number;
  queries: number;
  queryMs: number;
}

/** Options of {@link PoolMonitor}. */
export interface MonitorOptions {
  /** Report a client held longer than this, in ms; 0 turns leak detection (and stack capture) off. */
  leakMs: number;
  /** Stats interval, in ms. */
  intervalMs: number;
  clock: Clock;
  /** The adapter reports query start and end (pg, mysql2): stats then carry queries per hold. */
  timesQueries?: boolean;
}

const statsChannel = diagnosticsChannel.channel(POOL_STATS_CHANNEL);
const leakChannel = diagnosticsChannel.channel(POOL_LEAK_CHANNEL);

/**
 * Driver-independent accounting for one pool: adapters report acquire requests, hand-outs, failures,
 * releases and (for pg) query start and end; the monitor keeps per-interval histograms and
 * time-weighted gauges and publishes them on `redline:pool:stats`, plus leak events on
 * `redline:pool:leak`. All state is bounded by the number of clients held at once.
 */
export class PoolMonitor {
  private nextId = 1;
  private readonly held = new Map<object, Held>();
  private pending = 0;
  private readonly wait = new DurationHistogram();
  private readonly hold = new DurationHistogram();
  private acquireRequests = 0;
  private acquires = 0;
  private acquireErrors = 0;
  private releases = 0;
  private queriesReleased = 0;
  private queryMsReleased = 0;
  private intervalStart: number;
  private lastChange: number;
  private inUseArea = 0;
  private waitingArea = 0;
  private inUseMax = 0;
  private waitingMax = 0;
  private statsTimer: ReturnType<typeof setInterval> | undefined;
  private leakTimer: ReturnType<typeof setInterval> | undefined;
  private stopped = false;
  /** The last message published, if any. */
  last: PoolStatsMessage | undefined;

  constructor(
    readonly name: string,
    readonly meta: PoolMeta,
    private readonly gauges: () => DriverGauges,
    private readonly opts: MonitorOptions,
  ) {
    this.intervalStart = opts.clock.now();
    this.lastChange = this.intervalStart;
  }

  /** Starts the stats timer (and the leak scan when `leakMs` > 0); both are unref'd. */
  start(): void {
    this.statsTimer = setInterval(() => this.safely(() => this.flush()), this.opts.intervalMs);
    this.statsTimer.unref();
    if (this.opts.leakMs > 0) {
      // Scan often enough that a leak is reported within ~25 % of the threshold, at most 10 times a second.
      const scanMs = Math.min(this.opts.intervalMs, Math.max(100, this.opts.leakMs / 4));
      this.leakTimer = setInterval(() => this.safely(() => this.scanLeaks()), scanMs);
      this.leakTimer.unref();
    }
  }

  /** Stops the timers; later events are ignored. */
  stop(): void {
    this.stopped = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    if (this.leakTimer) clearInterval(this.leakTimer);
  }

  /** Number of clients handed out and not yet released. */
  get inUse(): number {
    return this.held.size;
  }

  /** A caller asked for a client. `skipFrames` is the function whose frames and callers' above it are left out. */
  beginAcquire(skipFrames?: (...args: never[]) => unknown): AcquireToken {
    const now = this.opts.clock.now();
    this.advance(now);
    this.pending += 1;
    this.acquireRequests += 1;
    if (this.pending > this.waitingMax) this.waitingMax = this.pending;
    let stackHolder: { stack?: string } | undefined;
    if (this.opts.leakMs > 0) {
      stackHolder = {};
      Error.captureStackTrace(stackHolder, skipFrames);
    }
    return { id: this.nextId++, startedAt: now, stackHolder };
  }

  /** The client asked for by `token` was handed out. */
  acquired(token: AcquireToken, client: object): void {
    if (this.stopped) return;
    const now = this.opts.clock.now();
    this.advance(now);
    this.pending = Math.max(0, this.pending - 1);
    this.acquires += 1;
    this.wait.record(now - token.startedAt);
    this.held.set(client, { id: token.id, acquiredAt: now, stackHolder: token.stackHolder, leaked: false, activeQueries: 0, busySince: 0, queries: 0, queryMs: 0 });
    if (this.held.size > this.inUseMax) this.inUseMax = this.held.size;
  }

  /** The acquisition for `token` failed (timeout, connection error, pool closed). */
  acquireFailed(_token: AcquireToken): void {
    if (this.stopped) return;
    this.advance(this.opts.clock.now());
    this.pending = Math.max(0, this.pending - 1);
    this.acquireErrors += 1;
  }

  /** `client` went back to the pool (or was destroyed). Unknown clients are ignored. */
  released(client: object): void {
    const h = this.held.get(client);
    if (h === undefined || this.stopped) return;
    const now = this.opts.clock.now();
    this.advance(now);
    this.held.delete(client);
    if (h.activeQueries > 0) h.queryMs += now - h.busySince;
    this.releases += 1;
    this.hold.record(now - h.acquiredAt);
    this.queriesReleased += h.queries;
    this.queryMsReleased += h.queryMs;
    if (h.leaked) this.publishLeak(h, 'returned', now);
  }

  /** A query started on a held client (pg and mysql2). */
  queryStarted(client: object): void {
    const h = this.held.get(client);
    if (h === undefined) return;
    h.queries += 1;
    if (h.activeQueries++ === 0) h.busySince = this.opts.clock.now();
  }

  /** A query ended on a held client. */
  queryEnded(client: object): void {
    const h = this.held.get(client);
    if (h === undefined || h.activeQueries === 0) return;
    if (--h.activeQueries === 0) h.queryMs += this.opts.clock.now() - h.busySince;
  }

  /** Closes the current interval now, publishes its stats message and returns it. */
  flush(): PoolStatsMessage {
    const now = this.opts.clock.now();
    this.advance(now);
    const elapsed = Math.max(1e-6, now - this.intervalStart);
    const driver = this.gauges();
    let leaked = 0;
    for (const h of this.held.values()) if (h.leaked) leaked += 1;
    const values: Record<string, number> = {
      size: driver.size,
      max: this.meta.max,
      inUse: this.held.size,
      idle: driver.idle,
      waiting: this.pending,
      inUseMax: this.inUseMax,
      waitingMax: this.waitingMax,
      inUseMean: this.inUseArea / elapsed,
      waitingMean: this.waitingArea / elapsed,
      acquireRequests: this.acquireRequests,
      acquires: this.acquires,
      acquireErrors: this.acquireErrors,
      releases: this.releases,
      waitP50Ms: this.wait.quantile(0.5),
      waitP90Ms: this.wait.quantile(0.9),
      waitP99Ms: this.wait.quantile(0.99),
      waitMaxMs: this.wait.maxMs,
      waitMeanMs: this.wait.mean(),
      holdP50Ms: this.hold.quantile(0.5),
      holdP90Ms: this.hold.quantile(0.9),
      holdP99Ms: this.hold.quantile(0.99),
      holdMaxMs: this.hold.maxMs,
      holdMeanMs: this.hold.mean(),
      leaked,
    };
    if (this.opts.timesQueries === true && this.releases > 0) {
      values.queriesPerHold = this.queriesReleased / this.releases;
      values.queryMsPerHold = this.queryMsReleased / this.releases;
    }
    const message: PoolStatsMessage = { name: this.name, at: now, intervalMs: elapsed, meta: this.meta, values };
    this.resetInterval(now);
    this.last = message;
    if (statsChannel.hasSubscribers) statsChannel.publish(message);
    return message;
  }

  /** Reports every held client that passed `leakMs` and was not reported yet. */
  scanLeaks(): void {
    if (this.opts.leakMs <= 0) return;
    const now = this.opts.clock.now();
    for (const h of this.held.values()) {
      if (!h.leaked && now - h.acquiredAt > this.opts.leakMs) {
        h.leaked = true;
        this.publishLeak(h, 'held', now);
      }
    }
  }

  private publishLeak(h: Held, phase: 'held' | 'returned', now: number): void {
    const message: PoolLeakMessage = {
      name: this.name,
      at: now,
      meta: this.meta,
      phase,
      id: h.id,
      acquiredAt: h.acquiredAt,
      heldMs: now - h.acquiredAt,
      stack: cleanStack(h.stackHolder?.stack),
    };
    if (leakChannel.hasSubscribers) leakChannel.publish(message);
  }

  /** Accumulates the time-weighted areas up to `now`. */
  private advance(now: number): void {
    const dt = now - this.lastChange;
    if (dt > 0) {
      this.inUseArea += this.held.size * dt;
      this.waitingArea += this.pending * dt;
      this.lastChange = now;
    }
  }

  private resetInterval(now: number): void {
    this.intervalStart = now;
    this.lastChange = now;
    this.inUseArea = 0;
    this.waitingArea = 0;
    this.inUseMax = this.held.size;
    this.waitingMax = this.pending;
    this.acquireRequests = 0;
    this.acquires = 0;
    this.acquireErrors = 0;
    this.releases = 0;
    this.queriesReleased = 0;
    this.queryMsReleased = 0;
    this.wait.reset();
    this.hold.reset();
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch {
      // A subscriber's bug must not crash the service the pool runs in.
    }
  }
}

/** Drops the `Error` header line of a captured stack, leaving the `    at …` frames. */
function cleanStack(stack: string | undefined): string {
  if (stack === undefined) return '';
  const lines = stack.split('\n');
  return (lines[0]?.startsWith('    at ') ? lines : lines.slice(1)).join('\n');
}

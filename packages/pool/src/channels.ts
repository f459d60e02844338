/** Channel of per-second pool gauges: one {@link PoolStatsMessage} per watched pool per interval. */
export const POOL_STATS_CHANNEL = 'redline:pool:stats';
/** Channel of leak events: one {@link PoolLeakMessage} when a client passes `leakMs`, one when it comes back. */
export const POOL_LEAK_CHANNEL = 'redline:pool:leak';

/** The pool libraries `watchPool` understands. */
export type PoolDriver = 'pg' | 'mysql2' | 'tarn' | 'generic-pool';

/** What a pool is: its driver, the database it connects to (when the pool knows) and its limits. */
export interface PoolMeta {
  driver: PoolDriver;
  /** Database server host, when the pool's config names it. */
  host?: string;
  port?: number;
  /** Database name, when known. */
  database?: string;
  /** Most clients the pool opens. */
  max: number;
  min?: number;
}

/** The stats message shape shared by `redline:pool:stats` and `redline:flow:stats`. */
export interface StatsMessage {
  /** The watched object's name, unique per process. */
  name: string;
  /** End of the interval, epoch ms (`Date.now()`). */
  at: number;
  /** Gauges and interval counters; units are in the names (`…Ms`), counts are per interval. */
  values: Record<string, number>;
}

/**
 * Per-interval pool gauges. `values` holds:
 * `size`, `max`, `inUse`, `idle`, `waiting` (now); `inUseMax`, `waitingMax`, `inUseMean`, `waitingMean`
 * (over the interval); `acquireRequests`, `acquires`, `acquireErrors`, `releases` (counts in the interval);
 * `waitP50Ms` … `waitMaxMs`, `waitMeanMs` (acquire wait of the acquisitions completed in the interval);
 * `holdP50Ms` … `holdMaxMs`, `holdMeanMs` (of the releases in the interval); `leaked` (clients held past
 * `leakMs` now); for pg and mysql2 also `queriesPerHold` and `queryMsPerHold` (time a held client spends running
 * queries, so `holdMeanMs − queryMsPerHold` is time held while doing something else).
 */
export interface PoolStatsMessage extends StatsMessage {
  meta: PoolMeta;
  /** Length of the interval in ms. */
  intervalMs: number;
}

/** A client held longer than `leakMs` (`phase: 'held'`), or such a client coming back (`'returned'`). */
export interface PoolLeakMessage {
  name: string;
  /** Epoch ms of the event. */
  at: number;
  meta: PoolMeta;
  phase: 'held' | 'returned';
  /** Per-pool sequence number of the acquisition, to pair `held` with `returned`. */
  id: number;
  /** Epoch ms at which the client was handed out. */
  acquiredAt: number;
  /** How long it has been (or was) held, in ms. */
  heldMs: number;
  /** The stack that asked for the client (V8 format, file:line:column frames). */
  stack: string;
}

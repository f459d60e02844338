import type { PoolMeta, PoolStatsMessage } from './channels.js';
import { PoolMonitor, systemClock, type Clock } from './monitor.js';
import type { PoolAdapter } from './adapters/adapter.js';
import { pgAdapter } from './adapters/pg.js';
import { mysql2Adapter } from './adapters/mysql2.js';
import { tarnAdapter } from './adapters/tarn.js';
import { genericPoolAdapter } from './adapters/generic-pool.js';

/** Options of {@link watchPool}. */
export interface WatchPoolOptions {
  /**
   * Report a client held longer than this many ms on `redline:pool:leak`, with the stack that acquired
   * it (like HikariCP's `leakDetectionThreshold`). 0 or absent: no leak detection and no stack capture.
   */
  leakMs?: number;
  /** Name in the stats messages; default `<driver> <host>:<port>/<database>` (or `<driver>`), made unique. */
  name?: string;
  /** Stats interval in ms, 100–60 000 (default 1000). */
  intervalMs?: number;
  /** Clock for tests; default epoch ms from `performance`. */
  clock?: Clock;
}

/** A watched pool. */
export interface PoolWatch {
  readonly name: string;
  readonly meta: PoolMeta;
  /** Closes the current interval now, publishes it and returns it (the timer keeps running). */
  flush(): PoolStatsMessage;
  /** Unhooks the pool and stops publishing. Idempotent. */
  stop(): void;
}

/** Error thrown for a pool or an option `watchPool` cannot use; match on `code`. */
export class PoolWatchError extends TypeError {
  constructor(
    readonly code: 'REDLINE_ERR_POOL_UNSUPPORTED' | 'REDLINE_ERR_POOL_OPTION',
    message: string,
  ) {
    super(message);
    this.name = 'PoolWatchError';
  }
}

const adapters: readonly PoolAdapter[] = [pgAdapter, mysql2Adapter, tarnAdapter, genericPoolAdapter];
const watches = new WeakMap<object, PoolWatch>();
const usedNames = new Map<string, number>();

function defaultName(meta: PoolMeta): string {
  if (meta.host === undefined) return meta.driver;
  const where = meta.port === undefined ? meta.host : `${meta.host}:${meta.port}`;
  return `${meta.driver} ${where}${meta.database === undefined ? '' : `/${meta.database}`}`;
}

function uniqueName(base: string): string {
  const n = (usedNames.get(base) ?? 0) + 1;
  usedNames.set(base, n);
  return n === 1 ? base : `${base} #${n}`;
}

function checkOptions(opts: WatchPoolOptions): { leakMs: number; intervalMs: number } {
  const leakMs = opts.leakMs ?? 0;
  if (typeof leakMs !== 'number' || !Number.isFinite(leakMs) || leakMs < 0) {
    throw new PoolWatchError('REDLINE_ERR_POOL_OPTION', `leakMs must be a number of ms >= 0 (0 turns leak detection off), got ${String(opts.leakMs)}`);
  }
  const intervalMs = opts.intervalMs ?? 1000;
  if (typeof intervalMs !== 'number' || !Number.isFinite(intervalMs) || intervalMs < 100 || intervalMs > 60_000) {
    throw new PoolWatchError('REDLINE_ERR_POOL_OPTION', `intervalMs must be a number of ms in 100..60000, got ${String(opts.intervalMs)}`);
  }
  if (opts.name !== undefined && (typeof opts.name !== 'string' || opts.name.trim() === '')) {
    throw new PoolWatchError('REDLINE_ERR_POOL_OPTION', 'name must be a non-empty string');
  }
  return { leakMs, intervalMs };
}

/**
 * Watches a connection pool: publishes per-interval gauges (size, in use, idle, waiting, acquire-wait
 * and hold-time percentiles) on `redline:pool:stats` and, with `leakMs`, leak events with the acquiring
 * stack on `redline:pool:leak`. Understands `pg.Pool`, mysql2 pools (callback or promise), tarn pools,
 * knex instances (their tarn pool) and generic-pool. Watching the same pool twice returns the first
 * watch. Throws {@link PoolWatchError} (`REDLINE_ERR_POOL_UNSUPPORTED`) for anything else.
 */
export function watchPool(pool: unknown, opts: WatchPoolOptions = {}): PoolWatch {
  const { leakMs, intervalMs } = checkOptions(opts);
  const adapter = adapters.find((a) => a.matches(pool));
  if (adapter === undefined) {
    throw new PoolWatchError('REDLINE_ERR_POOL_UNSUPPORTED', 'watchPool understands pg.Pool, mysql2 pools, tarn pools (and knex instances) and generic-pool pools; this object is none of them');
  }
  const target = adapter.unwrap(pool);
  const existing = watches.get(target);
  if (existing !== undefined) return existing;
  const meta = adapter.meta(target);
  const name = uniqueName(opts.name ?? defaultName(meta));
  const monitor = new PoolMonitor(name, meta, () => adapter.gauges(target), { leakMs, intervalMs, clock: opts.clock ?? systemClock, timesQueries: adapter.timesQueries === true });
  const detach = adapter.attach(target, monitor);
  monitor.start();
  let stopped = false;
  const watch: PoolWatch = {
    name,
    meta,
    flush: () => monitor.flush(),
    stop() {
      if (stopped) return;
      stopped = true;
      monitor.stop();
      detach();
      watches.delete(target);
    },
  };
  watches.set(target, watch);
  return watch;
}

import type { PoolMeta } from '../channels.js';
import { lengthOf, loose, num, patchMethod, str, type PoolAdapter } from './adapter.js';
import { timeQueries } from './query-timing.js';

type Callback = (err: unknown, connection?: unknown) => unknown;

function isCorePool(pool: unknown): boolean {
  const p = loose(pool);
  return typeof p.getConnection === 'function' && typeof p.releaseConnection === 'function' && typeof loose(p.config).connectionLimit === 'number';
}

/** mysql2 pools: `mysql.createPool()` and its promise wrapper (`mysql2/promise`, whose `.pool` is the core pool). */
export const mysql2Adapter: PoolAdapter = {
  driver: 'mysql2',
  timesQueries: true,
  matches: (pool) => isCorePool(pool) || isCorePool(loose(pool).pool),
  unwrap: (pool) => (isCorePool(pool) ? (pool as object) : (loose(pool).pool as object)),
  meta(pool) {
    const config = loose(loose(pool).config);
    const conn = loose(config.connectionConfig);
    const limit = num(config.connectionLimit) ?? 10;
    const meta: PoolMeta = { driver: 'mysql2', max: limit === 0 ? Number.POSITIVE_INFINITY : limit };
    const socketPath = str(conn.socketPath);
    if (socketPath !== undefined) meta.host = socketPath;
    else {
      meta.host = str(conn.host) ?? 'localhost';
      meta.port = num(conn.port) ?? 3306;
    }
    const database = str(conn.database);
    if (database !== undefined) meta.database = database;
    return meta;
  },
  gauges(pool) {
    const p = loose(pool);
    return { size: lengthOf(p._allConnections), idle: lengthOf(p._freeConnections) };
  },
  attach(pool, monitor) {
    // pool.query() and pool.execute() call this.getConnection(); a connection goes back through
    // releaseConnection() whether it returns to the free list or straight to a waiter.
    const timed = new WeakSet<object>();
    const undoGet = patchMethod(pool, 'getConnection', (original) =>
      function getConnection(this: unknown, cb?: unknown): unknown {
        const token = monitor.beginAcquire(getConnection);
        if (typeof cb !== 'function') return original.call(this, cb);
        return original.call(this, (err: unknown, connection: unknown) => {
          if (err || typeof connection !== 'object' || connection === null) monitor.acquireFailed(token);
          else {
            monitor.acquired(token, connection);
            timeQueries(connection, ['query', 'execute'], monitor, timed);
          }
          return (cb as Callback)(err, connection);
        });
      },
    );
    const undoRelease = patchMethod(pool, 'releaseConnection', (original) =>
      function releaseConnection(this: unknown, connection?: unknown): unknown {
        if (typeof connection === 'object' && connection !== null) monitor.released(connection);
        return original.call(this, connection);
      },
    );
    return () => {
      undoGet();
      undoRelease();
    };
  },
};

import type { PoolMeta } from '../channels.js';
import type { AcquireToken } from '../monitor.js';
import { loose, num, patchMethod, str, type PoolAdapter } from './adapter.js';
import { timeQueries } from './query-timing.js';

type Callback = (err: unknown, client?: unknown, done?: unknown) => unknown;

/** Where a pg pool connects: its options, then a connection string, then libpq's environment and defaults. */
function pgMeta(pool: object): PoolMeta {
  const options = loose(loose(pool).options);
  let host = str(options.host);
  let port = num(options.port);
  let database = str(options.database);
  const connectionString = str(options.connectionString);
  if (connectionString !== undefined) {
    try {
      const url = new URL(connectionString);
      host ??= str(decodeURIComponent(url.hostname));
      port ??= num(url.port);
      database ??= str(decodeURIComponent(url.pathname.replace(/^\//, '')));
    } catch {
      // not a URL (e.g. a keyword/value string): leave the fields to the defaults
    }
  }
  host ??= str(process.env.PGHOST) ?? 'localhost';
  port ??= num(process.env.PGPORT) ?? 5432;
  database ??= str(process.env.PGDATABASE) ?? str(options.user) ?? str(process.env.PGUSER);
  const meta: PoolMeta = { driver: 'pg', host, port, max: num(options.max) ?? 10 };
  if (database !== undefined) meta.database = database;
  const min = num(options.min);
  if (min !== undefined) meta.min = min;
  return meta;
}

/** node-postgres `pg.Pool` (pg-pool 2 and 3). */
export const pgAdapter: PoolAdapter = {
  driver: 'pg',
  timesQueries: true,
  matches(pool) {
    const p = loose(pool);
    return typeof p.connect === 'function' && 'totalCount' in p && 'idleCount' in p && 'waitingCount' in p && typeof p.on === 'function';
  },
  unwrap: (pool) => pool as object,
  meta: pgMeta,
  gauges(pool) {
    const p = loose(pool);
    return { size: num(p.totalCount) ?? 0, idle: num(p.idleCount) ?? 0 };
  },
  attach(pool, monitor) {
    const wrappedClients = new WeakSet<object>();
    const onAcquired = (token: AcquireToken, err: unknown, client: unknown): void => {
      if (err || typeof client !== 'object' || client === null) monitor.acquireFailed(token);
      else {
        monitor.acquired(token, client);
        timeQueries(client, ['query'], monitor, wrappedClients);
      }
    };
    // pool.query() goes through this.connect(), so wrapping the instance method sees every acquisition.
    const undoConnect = patchMethod(pool, 'connect', (original) =>
      function connect(this: unknown, cb?: unknown): unknown {
        const token = monitor.beginAcquire(connect);
        if (typeof cb === 'function') {
          return original.call(this, (err: unknown, client: unknown, done: unknown) => {
            onAcquired(token, err, client);
            return (cb as Callback)(err, client, done);
          });
        }
        const result = original.call(this) as Promise<unknown>;
        // Registered before the caller's own continuation, so the hold starts before the caller runs.
        result.then(
          (client) => onAcquired(token, undefined, client),
          (err: unknown) => onAcquired(token, err ?? new Error('rejected'), undefined),
        );
        return result;
      },
    );
    const onRelease = (_err: unknown, client: unknown): void => {
      if (typeof client === 'object' && client !== null) monitor.released(client);
    };
    const emitter = pool as { on(e: string, f: (...a: never[]) => void): void; removeListener(e: string, f: (...a: never[]) => void): void };
    emitter.on('release', onRelease);
    return () => {
      undoConnect();
      emitter.removeListener('release', onRelease);
    };
  },
};

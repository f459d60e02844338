import type { PoolMeta } from '../channels.js';
import type { AcquireToken } from '../monitor.js';
import { loose, num, str, type PoolAdapter } from './adapter.js';

type Emitter = { on(e: string, f: (...a: never[]) => void): void; removeListener(e: string, f: (...a: never[]) => void): void };

function isTarn(pool: unknown): boolean {
  const p = loose(pool);
  return typeof p.acquire === 'function' && typeof p.numUsed === 'function' && typeof p.numPendingAcquires === 'function' && typeof p.on === 'function';
}

/** A knex instance: a function with `.client.pool` (tarn) and `.client.config`. */
function knexPool(pool: unknown): unknown {
  return loose(loose(loose(pool).client).pool);
}

/** tarn pools, directly or through a knex instance (whose `client.pool` is tarn, with the connection config beside it). */
export const tarnAdapter: PoolAdapter = {
  driver: 'tarn',
  matches: (pool) => isTarn(pool) || isTarn(knexPool(pool)),
  unwrap(pool) {
    if (isTarn(pool)) return pool as object;
    const inner = knexPool(pool) as object;
    knexConfigs.set(inner, loose(loose(loose(pool).client).config));
    return inner;
  },
  meta(pool) {
    const p = loose(pool);
    const meta: PoolMeta = { driver: 'tarn', max: num(p.max) ?? 0 };
    const min = num(p.min);
    if (min !== undefined) meta.min = min;
    const config = knexConfigs.get(pool);
    const conn = connectionOf(config?.connection);
    const host = str(conn.host) ?? str(conn.socketPath);
    if (host !== undefined) meta.host = host;
    const port = num(conn.port);
    if (port !== undefined) meta.port = port;
    const database = str(conn.database);
    if (database !== undefined) meta.database = database;
    return meta;
  },
  gauges(pool) {
    const p = pool as { numUsed(): number; numFree(): number; numPendingCreates(): number };
    return { size: p.numUsed() + p.numFree() + p.numPendingCreates(), idle: p.numFree() };
  },
  attach(pool, monitor) {
    // tarn emits events with an id per acquisition, so nothing needs wrapping.
    const tokens = new Map<number, AcquireToken>();
    const acquire = loose(pool).acquire as (...a: never[]) => unknown;
    const onRequest = (eventId: number): void => {
      tokens.set(eventId, monitor.beginAcquire(acquire));
    };
    const onSuccess = (eventId: number, resource: unknown): void => {
      const token = tokens.get(eventId);
      tokens.delete(eventId);
      if (token !== undefined && typeof resource === 'object' && resource !== null) monitor.acquired(token, resource);
    };
    const onFail = (eventId: number): void => {
      const token = tokens.get(eventId);
      tokens.delete(eventId);
      if (token !== undefined) monitor.acquireFailed(token);
    };
    const onRelease = (resource: unknown): void => {
      if (typeof resource === 'object' && resource !== null) monitor.released(resource);
    };
    const emitter = pool as Emitter;
    emitter.on('acquireRequest', onRequest);
    emitter.on('acquireSuccess', onSuccess);
    emitter.on('acquireFail', onFail);
    emitter.on('release', onRelease);
    return () => {
      emitter.removeListener('acquireRequest', onRequest);
      emitter.removeListener('acquireSuccess', onSuccess);
      emitter.removeListener('acquireFail', onFail);
      emitter.removeListener('release', onRelease);
    };
  },
};

const knexConfigs = new WeakMap<object, Record<string, unknown>>();

/** knex's `connection`: an object, or a connection string (`postgres://user@host:5432/db`). */
function connectionOf(connection: unknown): Record<string, unknown> {
  if (typeof connection !== 'string') return loose(connection);
  try {
    const url = new URL(connection);
    const out: Record<string, unknown> = {};
    if (url.hostname !== '') out.host = decodeURIComponent(url.hostname);
    if (url.port !== '') out.port = Number(url.port);
    const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
    if (database !== '') out.database = database;
    return out;
  } catch {
    return {}; // not a URL (a keyword/value string): the pool stays unnamed
  }
}

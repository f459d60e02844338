import type { PoolMeta } from '../channels.js';
import { loose, num, patchMethod, type PoolAdapter } from './adapter.js';

/** generic-pool 3 (`createPool(factory, opts)`): promise `acquire()`, `release()` and `destroy()`. */
export const genericPoolAdapter: PoolAdapter = {
  driver: 'generic-pool',
  matches(pool) {
    const p = loose(pool);
    return typeof p.acquire === 'function' && typeof p.release === 'function' && typeof p.destroy === 'function' && 'borrowed' in p && 'pending' in p && 'spareResourceCapacity' in p;
  },
  unwrap: (pool) => pool as object,
  meta(pool) {
    const p = loose(pool);
    const meta: PoolMeta = { driver: 'generic-pool', max: num(p.max) ?? 0 };
    const min = num(p.min);
    if (min !== undefined) meta.min = min;
    return meta;
  },
  gauges(pool) {
    const p = loose(pool);
    return { size: num(p.size) ?? 0, idle: num(p.available) ?? 0 };
  },
  attach(pool, monitor) {
    const undoAcquire = patchMethod(pool, 'acquire', (original) =>
      function acquire(this: unknown, ...args: unknown[]): unknown {
        const token = monitor.beginAcquire(acquire);
        const result = original.apply(this, args) as Promise<unknown>;
        result.then(
          (resource) => {
            if (typeof resource === 'object' && resource !== null) monitor.acquired(token, resource);
            else monitor.acquireFailed(token);
          },
          () => monitor.acquireFailed(token),
        );
        return result;
      },
    );
    const returned = (original: (...args: unknown[]) => unknown) =>
      function (this: unknown, resource?: unknown, ...rest: unknown[]): unknown {
        if (typeof resource === 'object' && resource !== null) monitor.released(resource);
        return original.call(this, resource, ...rest);
      };
    const undoRelease = patchMethod(pool, 'release', returned);
    const undoDestroy = patchMethod(pool, 'destroy', returned);
    return () => {
      undoAcquire();
      undoRelease();
      undoDestroy();
    };
  },
};

import type { PoolMonitor } from '../monitor.js';
import { loose, patchMethod } from './adapter.js';

/**
 * Times the queries run on a held client, so the monitor can tell time spent querying from time the
 * client sits held while the code does something else. Handles the promise, callback and submittable
 * (cursor, stream, mysql2's command emitter) forms of each method in `methods`; the value returned to
 * the caller is untouched. `wrapped` (one per watch) keeps a client from being wrapped twice.
 */
export function timeQueries(client: object, methods: readonly string[], monitor: PoolMonitor, wrapped: WeakSet<object>): void {
  if (wrapped.has(client)) return;
  wrapped.add(client);
  for (const method of methods) if (typeof loose(client)[method] === 'function') timeMethod(client, method, monitor);
}

function timeMethod(client: object, method: string, monitor: PoolMonitor): void {
  patchMethod(client, method, (original) =>
    function timed(this: unknown, ...args: unknown[]): unknown {
      monitor.queryStarted(client);
      let ended = false;
      const end = (): void => {
        if (!ended) {
          ended = true;
          monitor.queryEnded(client);
        }
      };
      const last = args.length - 1;
      const cb = args[last];
      if (typeof cb === 'function') {
        args[last] = function (this: unknown, ...cbArgs: unknown[]) {
          end();
          return (cb as (...a: unknown[]) => unknown).apply(this, cbArgs);
        };
      }
      let result: unknown;
      try {
        result = original.apply(this, args);
      } catch (err) {
        end();
        throw err;
      }
      // The callback ends the timing when there is one. Otherwise an emitter ('end') before a thenable:
      // mysql2's command objects have a then() that throws, to catch code awaiting the callback API.
      if (typeof cb === 'function') return result;
      const r = loose(result);
      if (typeof r.once === 'function') {
        const emitter = result as { once(event: string, fn: () => void): void };
        emitter.once('end', end);
        emitter.once('error', end);
      } else if (typeof r.then === 'function') {
        (result as Promise<unknown>).then(end, end);
      }
      return result;
    },
  );
}


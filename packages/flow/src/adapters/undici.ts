import { FlowError } from '../errors.js';
import { createLimiter, type Limiter, type LimiterOptions, type RunOptions } from '../limiter.js';

/** undici's dispatch options, as far as the bulkhead reads them. */
export interface DispatchOptionsLike {
  origin?: string | URL;
  path: string;
}

/** undici's (v7) dispatch handler interface, as far as the bulkhead forwards it. */
export interface DispatchHandlerLike {
  onRequestStart?(controller: unknown, context: unknown): void;
  onRequestUpgrade?(controller: unknown, statusCode: number, headers: unknown, socket: unknown): void;
  onResponseStart?(controller: unknown, statusCode: number, headers: unknown, statusMessage?: string): void;
  onResponseData?(controller: unknown, chunk: unknown): void;
  onResponseEnd?(controller: unknown, trailers: unknown): void;
  onResponseError?(controller: unknown, error: Error): void;
}

/** An undici dispatch function. */
export type DispatchLike = (options: DispatchOptionsLike, handler: DispatchHandlerLike) => boolean;

/** Options of {@link createBulkhead}. */
export interface BulkheadOptions {
  /** Limiter options for each downstream origin (each origin gets its own limiter), or a factory. */
  limiter?: LimiterOptions | ((origin: string) => Limiter);
  /** Per-call options (deadline, priority) for each request. */
  run?: (options: DispatchOptionsLike) => RunOptions | undefined;
}

/** A per-origin bulkhead for outgoing undici requests. */
export interface Bulkhead {
  /** The undici interceptor: `new Agent().compose(bulkhead.interceptor)`. */
  interceptor: <O extends DispatchOptionsLike, H extends DispatchHandlerLike>(dispatch: (options: O, handler: H) => boolean) => (options: O, handler: H) => boolean;
  /** The limiter of an origin (`https://api.example.com`), created on first use. */
  limiterFor(origin: string): Limiter;
  /** Closes every origin's limiter (queued requests fail with `REDLINE_ERR_FLOW_CLOSED`). */
  close(): void;
}

const closedController = { abort() {}, pause() {}, resume() {}, paused: false, aborted: true, reason: null as unknown };

/**
 * A bulkhead for outgoing calls: an undici interceptor that gives each downstream origin its own
 * {@link Limiter}, so one slow dependency cannot take every socket and every request of the service.
 * A request waits in its origin's queue for a slot, which it holds until the response body ends or
 * fails; refused requests fail with the limiter's {@link FlowError} (`REDLINE_ERR_FLOW_QUEUE_FULL`, ...).
 *
 * ```ts
 * import { Agent } from 'undici';
 * const bulkhead = createBulkhead({ limiter: { algorithm: 'gradient2', max: 64, maxQueue: 100 } });
 * const agent = new Agent().compose(bulkhead.interceptor);
 * await request('http://inventory:8080/items', { dispatcher: agent });
 * ```
 */
export function createBulkhead(options: BulkheadOptions = {}): Bulkhead {
  const limiters = new Map<string, Limiter>();
  const make = typeof options.limiter === 'function' ? options.limiter : (origin: string) => createLimiter({ name: `bulkhead:${origin}`, ...(options.limiter as LimiterOptions | undefined) });
  const limiterFor = (origin: string): Limiter => {
    let limiter = limiters.get(origin);
    if (!limiter) {
      limiter = make(origin);
      limiters.set(origin, limiter);
    }
    return limiter;
  };
  const interceptor = <O extends DispatchOptionsLike, H extends DispatchHandlerLike>(dispatch: (options: O, handler: H) => boolean) => (opts: O, handler: H): boolean => {
    const origin = opts.origin === undefined ? '' : new URL(String(opts.origin)).origin;
    const limiter = limiterFor(origin);
    limiter.acquire(options.run?.(opts)).then(
      (permit) => {
        const forward: DispatchHandlerLike = {
          onRequestStart: (c, ctx) => handler.onRequestStart?.(c, ctx),
          onRequestUpgrade: (c, s, h, sock) => {
            permit.release();
            handler.onRequestUpgrade?.(c, s, h, sock);
          },
          onResponseStart: (c, s, h, m) => handler.onResponseStart?.(c, s, h, m),
          onResponseData: (c, chunk) => handler.onResponseData?.(c, chunk),
          onResponseEnd: (c, t) => {
            permit.release();
            handler.onResponseEnd?.(c, t);
          },
          onResponseError: (c, e) => {
            permit.release({ ignore: true });
            handler.onResponseError?.(c, e);
          },
        };
        try {
          dispatch(opts, forward as H);
        } catch (err) {
          permit.release({ ignore: true });
          handler.onResponseError?.(closedController, err as Error);
        }
      },
      (err: FlowError) => handler.onResponseError?.({ ...closedController, reason: err }, err),
    );
    return true;
  };
  return {
    interceptor,
    limiterFor,
    close() {
      for (const l of limiters.values()) l.close();
    },
  };
}

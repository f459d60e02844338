/**
 * An OpenTelemetry context manager on `AsyncLocalStorage` that keeps Node's async hooks off while
 * no sampled request is in flight. On Node 20, an enabled `AsyncLocalStorage` runs a hook for every
 * promise the process creates; on a small pg-backed service that alone cost 20–30 % of its capacity
 * (BENCHMARKS.md, "Tracing"), even with 2 % of the requests sampled, because OpenTelemetry's own
 * manager enables it on the first `with()` and never lets go. Here the HTTP hook {@link retain}s
 * the storage for each sampled request and {@link release}s it when the response is done; when the
 * last one ends, the storage is disabled (`AsyncLocalStorage#disable`), so the hooks stop until the
 * next sampled request, and `with()` runs its callback without the storage meanwhile. Work a
 * sampled request leaves running after its response (an un-awaited call) keeps the context it
 * captured while the storage was on unless nothing sampled is in flight when it resumes; then its
 * spans are not recorded. Roots are never sampled here, so no other span is lost.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type * as Api from '@opentelemetry/api';

/** The API's ContextManager, plus the reference count the HTTP hook drives. */
export interface RefCountedContextManager extends Api.ContextManager {
  /** A sampled request started: the storage must propagate until {@link release}. */
  retain(): void;
  /** That request ended; the last release turns the hooks off. */
  release(): void;
  /** Requests retained now (for tests). */
  readonly retained: number;
  /** Milliseconds some sampled request has been in flight (the storage on), and how many times it went on. */
  hooksOn(): { ms: number; times: number };
}

/** Builds the manager for the API module the SDK registers with (its ROOT_CONTEXT). */
export function createContextManager(api: typeof Api, opts: { syncOnly?: boolean } = {}): RefCountedContextManager {
  let als = new AsyncLocalStorage<Api.Context>();
  let retained = 0;
  let enabled = false;
  /** `syncOnly` (measuring the hooks' cost): the context of the `with()` running now, none after an await. */
  let current: Api.Context | undefined;
  let onSince = 0;
  let onMs = 0;
  let onTimes = 0;
  const manager: RefCountedContextManager = {
    get retained() {
      return retained;
    },
    hooksOn() {
      return { ms: onMs + (retained > 0 ? performance.now() - onSince : 0), times: onTimes };
    },
    active() {
      if (opts.syncOnly) return current ?? api.ROOT_CONTEXT;
      return als.getStore() ?? api.ROOT_CONTEXT;
    },
    with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Api.Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
      const cb = thisArg == null ? fn : (fn.bind(thisArg) as F);
      if (opts.syncOnly) {
        const before = current;
        current = context;
        try {
          return cb(...args);
        } finally {
          current = before;
        }
      }
      // Nothing sampled in flight: nothing records (the root sampler is off), so the storage stays
      // off. This is what keeps a pg callback bound by an ended request from turning the hooks on.
      if (retained === 0 && enabled) return cb(...args);
      return als.run(context, cb, ...args);
    },
    bind<T>(context: Api.Context, target: T): T {
      if (typeof target !== 'function') return target;
      const fn = target as unknown as (...a: unknown[]) => unknown;
      return function bound(this: unknown, ...args: unknown[]) {
        return manager.with(context, () => fn.apply(this, args));
      } as unknown as T;
    },
    enable() {
      enabled = true;
      return manager;
    },
    disable() {
      enabled = false;
      als.disable();
      als = new AsyncLocalStorage<Api.Context>();
      return manager;
    },
    retain() {
      if (retained++ === 0) {
        onSince = performance.now();
        onTimes++;
      }
    },
    release() {
      if (retained > 0 && --retained === 0) onMs += performance.now() - onSince;
      // Only when nothing sampled is in flight: a disabled storage forgets the current store.
      if (retained === 0 && enabled) als.disable();
    },
  };
  return manager;
}

import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, RedlineError } from '@redline/core';
import type { BusMessage } from './bus/bus.js';
import { CircuitBreaker, type CircuitState } from './circuit-breaker.js';
import { cacheChannels } from './diagnostics.js';
import { edgeTagPattern, invalidateAtEdge, surrogateKeyValue, type EdgeInvalidation } from './edge.js';
import { decodeEnvelope, encodeEnvelope } from './envelope.js';
import type { CacheEntry } from './eviction/entry.js';
import { L1Store, type EvictionReason } from './l1-store.js';
import { CacheCounters, renderPrometheus, type CacheStats } from './metrics.js';
import {
  durationMs,
  namespacePrefix,
  resolveOptions,
  type CacheOptions,
  type DurationInput,
  type GetOptions,
  type GetOrSetOptions,
  type ResolvedOptions,
  type SetOptions,
} from './options.js';
import { OptionalTracer } from './otel.js';
import { notSerializable } from './serializer.js';
import type { TimerHandle } from './timers.js';

/** What a factory receives: the key and, when one exists within grace, the stale value. */
export interface FactoryContext<T> {
  /** The key as passed to `getOrSet` (without namespace). */
  readonly key: string;
  /** True when a stale value exists (expired, within grace). */
  readonly hasStale: boolean;
  /** The stale value, when `hasStale`. */
  readonly staleValue: T | undefined;
}

/** Computes a value on a miss. Return `undefined` for "not found" (cached for `negativeTtl` when set). */
export type Factory<T> = (ctx: FactoryContext<T>) => T | Promise<T>;

/**
 * A multi-tier cache (or a namespace of one). Values of type `V`. Every method is safe to call
 * while L2 or the bus are down: their failures are counted and reported, never thrown, except
 * that a value that cannot be serialised rejects `set`/`getOrSet` with REDLINE_ERR_NOT_SERIALIZABLE.
 */
export interface Cache<V = unknown> {
  /** The instance name (metrics label). */
  readonly name: string;
  /** Key prefix of this namespace ('' at the root without `namespace`). */
  readonly prefix: string;
  /** Fresh value of `key` from L1, else L2; undefined when absent, expired or negative. */
  get<T extends V = V>(key: string, options?: GetOptions): Promise<T | undefined>;
  /** Fresh value from L1 only, synchronously (no promise, no L2); undefined on an L1 miss, which is not counted. */
  getSync<T extends V = V>(key: string): T | undefined;
  /** Stores `value` in every tier and tells other instances to drop their L1 copy. */
  set<T extends V>(key: string, value: T, options?: SetOptions): Promise<void>;
  /**
   * Returns the fresh value, or computes it with `factory` — once per key per instance however many
   * callers wait (and once cluster-wide with `lock`) — applying grace, soft/hard timeouts and
   * negative caching.
   */
  getOrSet<T extends V>(key: string, factory: Factory<T>, options?: GetOrSetOptions): Promise<T>;
  /** True when a fresh, non-negative value exists in some tier. */
  has(key: string): Promise<boolean>;
  /** Deletes keys from every tier and from other instances' L1. */
  delete(key: string | readonly string[]): Promise<void>;
  /** Deletes every key carrying one of the tags, in every tier and on other instances. */
  deleteByTag(tag: string | readonly string[]): Promise<void>;
  /**
   * Invalidates tags everywhere at once: this instance's L1, L2, every other instance's L1 (bus),
   * and the HTTP cache in front of the service (the `edge` option: one request per endpoint).
   * Never rejects for a tier's failure: the report says which tier failed (and stats count it).
   */
  invalidateTags(tag: string | readonly string[]): Promise<InvalidationReport>;
  /** The `Surrogate-Key` response-header value for tags (namespaced like `set`'s tags), so the edge can ban by them. */
  surrogateKey(tag: string | readonly string[]): string;
  /** Deletes every key of this namespace (the whole cache at the root) in every tier and on other instances. */
  clear(): Promise<void>;
  /** A view whose keys and tags live under `<prefix><name>:`, sharing tiers, metrics and single-flight. */
  namespace(name: string): Cache<V>;
  /** A snapshot of the instance's metrics (shared by all namespaces). */
  stats(): CacheStats;
  /** The metrics in Prometheus text format. */
  prometheus(): string;
  /** Resolves when the bus is subscribed and the optional tracer has loaded (never rejects). */
  ready(): Promise<void>;
  /** Stops timers and closes the bus and the L2 store given to `createCache`. Idempotent. */
  close(): Promise<void>;
}

/** What `invalidateTags` reached. */
export interface InvalidationReport {
  /** The tags as stored (namespaced). */
  tags: string[];
  /** Entries this instance dropped from L1. */
  l1Deleted: number;
  /** L2's outcome: `none` without L2, `skipped` while its circuit is open. */
  l2: 'ok' | 'failed' | 'skipped' | 'none';
  /** Whether other instances were told (publishing is asynchronous; failures count in `stats().bus.errors`). */
  bus: 'published' | 'none';
  /** One entry per edge endpoint (empty without `edge`). */
  edge: EdgeInvalidation[];
  /** True when L2 (if any) and every edge endpoint succeeded. */
  ok: boolean;
}

type L2Read =
  | { fresh: true; value: unknown; negative: boolean }
  | { fresh: false; value: unknown; negative: boolean; expiresAtMs: number };

/** Per-call options of getOrSet, resolved to milliseconds. */
interface CallOptions {
  ttlMs: number;
  graceMs: number;
  negativeTtlMs: number;
  softTimeoutMs: number | undefined;
  hardTimeoutMs: number | undefined;
  tags: readonly string[] | undefined;
  lock: boolean;
}

interface StaleCandidate {
  value: unknown;
  negative: boolean;
  expiresAtMs: number;
}

const SOFT = Symbol('soft-timeout');
const HARD = Symbol('hard-timeout');
const MAX_BACKOFF_KEYS = 10_000;

/** State shared by the root cache and all its namespaces. */
class CacheCore {
  readonly o: ResolvedOptions;
  readonly l1: L1Store | undefined;
  /** Copies of hot options, one property load away on the hit path. */
  readonly clock: ResolvedOptions['clock'];
  readonly trace: ResolvedOptions['trace'];
  readonly counters = new CacheCounters();
  readonly breaker: CircuitBreaker;
  readonly inflight = new Map<string, Promise<unknown>>();
  readonly backoffUntil = new Map<string, number>();
  readonly lockWakers = new Map<string, Set<() => void>>();
  readonly instanceId = randomBytes(8).toString('hex');
  readonly tracer: OptionalTracer;
  readonly busReady: Promise<void>;
  readonly #timers = new Set<TimerHandle>();
  #lockSeq = 0;
  closed = false;

  constructor(o: ResolvedOptions) {
    this.o = o;
    this.clock = o.clock;
    this.trace = o.trace;
    const evictCh = cacheChannels.evict;
    if (o.l1 !== undefined) {
      this.l1 = new L1Store({
        maxEntries: o.l1.maxEntries,
        maxSizeBytes: o.l1.maxSizeBytes,
        policy: o.l1.policy,
        onRemove: (e: CacheEntry, reason: EvictionReason) => {
          this.counters.evictions[reason]++;
          if (evictCh.hasSubscribers) evictCh.publish({ cache: o.name, key: e.key, reason });
        },
      });
    }
    this.breaker = new CircuitBreaker(o.breaker, o.clock, (state: CircuitState) => {
      if (cacheChannels.circuit.hasSubscribers) cacheChannels.circuit.publish({ cache: o.name, state });
    });
    this.tracer = new OptionalTracer(o.otel);
    this.busReady = this.#subscribe();
  }

  async #subscribe(): Promise<void> {
    const bus = this.o.bus;
    if (bus === undefined) return;
    try {
      await bus.subscribe({
        onMessage: (m) => this.onBusMessage(m),
        onReconnect: () => {
          this.counters.busReconnects++;
          // Invalidations published while we were disconnected are lost: nothing in L1 can be trusted.
          this.l1?.deleteByPrefix('', 'invalidated');
        },
        onError: (err) => {
          this.counters.busErrors++;
          this.emitError('bus', err);
        },
      });
    } catch (err) {
      this.counters.busErrors++;
      this.emitError('bus.subscribe', err);
    }
  }

  onBusMessage(m: BusMessage): void {
    if (m.source === this.instanceId) return;
    this.counters.busReceived++;
    const lagMs = Date.now() - m.sentAtMs;
    this.counters.busLagMs.record(lagMs);
    const l1 = this.l1;
    if (m.keys !== undefined) {
      for (const k of m.keys) {
        l1?.delete(k, 'invalidated');
        const wakers = this.lockWakers.get(k);
        if (wakers !== undefined) for (const wake of wakers) wake();
      }
    }
    if (m.tags !== undefined) l1?.deleteByTags(m.tags, 'invalidated');
    if (m.prefixes !== undefined) for (const p of m.prefixes) l1?.deleteByPrefix(p, 'invalidated');
    if (cacheChannels.bus.hasSubscribers) cacheChannels.bus.publish({ cache: this.o.name, message: m, lagMs });
  }

  publish(change: { keys?: string[]; tags?: string[]; prefixes?: string[] }): void {
    const bus = this.o.bus;
    if (bus === undefined || this.closed) return;
    this.counters.busPublished++;
    const onFail = (err: unknown): void => {
      this.counters.busErrors++;
      this.emitError('bus.publish', err);
    };
    try {
      bus.publish({ source: this.instanceId, sentAtMs: Date.now(), ...change }).catch(onFail);
    } catch (err) {
      onFail(err);
    }
  }

  emitError(operation: string, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    if (cacheChannels.error.hasSubscribers) cacheChannels.error.publish({ cache: this.o.name, operation, error });
    try {
      this.o.onError?.(error, operation);
    } catch {
      // A throwing onError hook must not turn an absorbed error into a crash.
    }
  }

  /** Runs an L2 operation behind the breaker; undefined when skipped or failed (both counted). */
  async l2Call<T>(operation: string, fn: () => Promise<T>): Promise<T | undefined> {
    if (!this.breaker.allow()) {
      this.counters.l2Skipped++;
      return undefined;
    }
    const t0 = performance.now();
    try {
      const result = await fn();
      this.breaker.success();
      this.counters.l2Ms.record(performance.now() - t0);
      return result;
    } catch (err) {
      this.breaker.failure();
      this.counters.l2Errors++;
      this.emitError(`l2.${operation}`, err);
      return undefined;
    }
  }

  /** Reads `full` from L2 and decodes it; fresh values are copied into L1. */
  async readL2(full: string): Promise<L2Read | undefined> {
    const l2 = this.o.l2;
    if (l2 === undefined) return undefined;
    const text = await this.l2Call('get', () => l2.get(full));
    if (text === undefined) return undefined;
    const env = decodeEnvelope(text);
    let value: unknown;
    try {
      if (env === undefined) throw new Error('malformed envelope');
      value = env.negative ? undefined : this.o.serializer.deserialize(env.payload);
    } catch (err) {
      this.counters.l2Corrupt++;
      this.emitError('l2.decode', err);
      return undefined;
    }
    const now = this.o.clock.now();
    if (now >= env.staleUntilMs && now >= env.expiresAtMs) return undefined;
    const l1 = this.l1;
    if (l1 !== undefined) {
      const l1Ttl = this.o.l1!.ttlMs;
      const expiresAtMs = l1Ttl === Infinity ? env.expiresAtMs : Math.min(env.expiresAtMs, now + l1Ttl);
      l1.set(full, value, this.weigh(value, env.payload, full), expiresAtMs, Math.max(env.staleUntilMs, expiresAtMs), env.tags, env.negative);
    }
    if (now < env.expiresAtMs) return { fresh: true, value, negative: env.negative };
    return { fresh: false, value, negative: env.negative, expiresAtMs: env.expiresAtMs };
  }

  weigh(value: unknown, payload: string | undefined, key: string): number {
    const l1 = this.o.l1;
    if (l1 === undefined || l1.maxSizeBytes === Infinity) return 0;
    if (l1.sizeOf !== undefined) return Math.max(0, l1.sizeOf(value));
    return (payload?.length ?? 0) + key.length + 48;
  }

  /** Writes a value (or a negative entry when `value` is undefined) to every tier and notifies the bus. */
  async store(full: string, value: unknown, ttlMs: number, graceMs: number, tags: readonly string[] | undefined): Promise<void> {
    const o = this.o;
    const negative = value === undefined;
    let payload: string | undefined;
    if (!negative && (o.l2 !== undefined || (o.l1 !== undefined && o.l1.maxSizeBytes !== Infinity && o.l1.sizeOf === undefined))) {
      try {
        payload = o.serializer.serialize(value);
      } catch (err) {
        throw notSerializable(err, full);
      }
      if (typeof payload !== 'string') throw notSerializable(new TypeError(`serializer returned ${typeof payload}, not a string`), full);
    }
    const now = o.clock.now();
    const effectiveTtlMs = o.jitter > 0 ? ttlMs * (1 - o.random() * o.jitter) : ttlMs;
    const expiresAtMs = now + effectiveTtlMs;
    const staleUntilMs = expiresAtMs + graceMs;
    const l1 = this.l1;
    if (l1 !== undefined) {
      const l1Ttl = o.l1!.ttlMs;
      const l1Expires = l1Ttl === Infinity ? expiresAtMs : Math.min(expiresAtMs, now + l1Ttl);
      l1.set(full, value, this.weigh(value, payload, full), l1Expires, staleUntilMs, tags, negative);
    }
    this.counters.sets++;
    this.backoffUntil.delete(full);
    if (o.trace !== undefined) o.trace.record('set', full);
    if (cacheChannels.set.hasSubscribers) cacheChannels.set.publish({ cache: o.name, key: full });
    const l2 = o.l2;
    if (l2 !== undefined) {
      const text = encodeEnvelope({ expiresAtMs, staleUntilMs, negative, tags }, payload ?? '');
      await this.l2Call('set', () => l2.set(full, text, effectiveTtlMs + graceMs, tags));
    }
    this.publish({ keys: [full] });
  }

  setTimer(fn: () => void, ms: number): TimerHandle {
    const handle = this.o.clock.setTimeout(() => {
      this.#timers.delete(handle);
      fn();
    }, ms);
    this.#timers.add(handle);
    return handle;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers.delete(handle);
    this.o.clock.clearTimeout(handle);
  }

  lockToken(): string {
    return `${this.instanceId}:${++this.#lockSeq}`;
  }

  /** Resolves after `ms`, or earlier when a bus message names `full`. */
  sleepOrWake(full: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let wakers = this.lockWakers.get(full);
      if (wakers === undefined) this.lockWakers.set(full, (wakers = new Set()));
      const done = (): void => {
        this.clearTimer(handle);
        const set = this.lockWakers.get(full);
        set?.delete(done);
        if (set?.size === 0) this.lockWakers.delete(full);
        resolve();
      };
      const handle = this.setTimer(done, ms);
      wakers.add(done);
    });
  }

  noteBackoff(full: string, untilMs: number): void {
    if (this.backoffUntil.size >= MAX_BACKOFF_KEYS && !this.backoffUntil.has(full)) {
      this.backoffUntil.delete(this.backoffUntil.keys().next().value!);
    }
    this.backoffUntil.set(full, untilMs);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.#timers) this.o.clock.clearTimeout(t);
    this.#timers.clear();
    const results = await Promise.allSettled([this.o.bus?.close(), this.o.l2?.close()]);
    for (const r of results) if (r.status === 'rejected') this.emitError('close', r.reason);
  }

  stats(): CacheStats {
    const c = this.counters;
    const o = this.o;
    const hits = c.hitsL1 + c.hitsL2;
    return {
      name: o.name,
      hits: { l1: c.hitsL1, l2: c.hitsL2, total: hits },
      misses: c.misses,
      hitRatio: hits + c.misses === 0 ? 0 : hits / (hits + c.misses),
      negativeHits: c.negativeHits,
      stale: { grace: c.staleGrace, softTimeout: c.staleSoftTimeout, read: c.staleRead },
      sets: c.sets,
      deletes: c.deletes,
      factory: { calls: c.factoryCalls, errors: c.factoryErrors, hardTimeouts: c.hardTimeouts, waitersMerged: c.waitersMerged, durationMs: c.factoryMs.summary() },
      lock: { acquired: c.locksAcquired, waits: c.lockWaits, waitHits: c.lockWaitHits, timeouts: c.lockTimeouts },
      evictions: { ...c.evictions },
      l1:
        this.l1 === undefined
          ? undefined
          : { entries: this.l1.size, sizeBytes: this.l1.sizeBytes, maxEntries: o.l1!.maxEntries, maxSizeBytes: o.l1!.maxSizeBytes, policy: o.l1!.policy },
      l2: o.l2 === undefined ? undefined : { errors: c.l2Errors, skipped: c.l2Skipped, corrupt: c.l2Corrupt, circuit: this.breaker.state, latencyMs: c.l2Ms.summary() },
      bus: o.bus === undefined ? undefined : { published: c.busPublished, received: c.busReceived, errors: c.busErrors, reconnects: c.busReconnects, lagMs: c.busLagMs.summary() },
      ...(o.edge === undefined ? {} : { edge: { requests: c.edgeRequests, errors: c.edgeErrors } }),
    };
  }
}

function checkKey(key: unknown): void {
  if (typeof key !== 'string' || key === '') {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `cache key must be a non-empty string, got ${key === '' ? 'an empty string' : typeof key}`);
  }
}

function toList(value: string | readonly string[], what: string): readonly string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || v === '')) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `${what} must be a non-empty string or an array of non-empty strings`);
  }
  return list;
}

function optMs(value: DurationInput | false | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  if (value === false) return 0;
  return durationMs(value, what);
}

/** One namespace view over a shared {@link CacheCore}. */
class NamespacedCache<V> implements Cache<V> {
  readonly #c: CacheCore;
  readonly prefix: string;

  constructor(core: CacheCore, prefix: string) {
    this.#c = core;
    this.prefix = prefix;
  }

  get name(): string {
    return this.#c.o.name;
  }

  get<T extends V = V>(key: string, options?: GetOptions): Promise<T | undefined> {
    if (typeof key !== 'string' || key === '') checkKey(key);
    const c = this.#c;
    const full = this.prefix + key;
    const l1 = c.l1;
    if (l1 !== undefined) {
      const e = l1.map.get(full);
      if (e !== undefined && c.clock.now() < e.expiresAtMs) {
        this.#l1Hit(c, l1, e, full);
        return (e.resolved ??= Promise.resolve(e.value)) as Promise<T | undefined>;
      }
    }
    return this.#getSlow(full, options?.allowStale === true) as Promise<T | undefined>;
  }

  /**
   * Fresh value of `key` from L1 only, synchronously: no promise, no L2 lookup. Returns undefined on
   * an L1 miss (which is not counted as a miss, since the caller will usually fall back to `get`).
   */
  getSync<T extends V = V>(key: string): T | undefined {
    if (typeof key !== 'string' || key === '') checkKey(key);
    const c = this.#c;
    const full = this.prefix + key;
    const l1 = c.l1;
    if (l1 === undefined) return undefined;
    const e = l1.map.get(full);
    if (e !== undefined && c.clock.now() < e.expiresAtMs) {
      this.#l1Hit(c, l1, e, full);
      return e.value as T | undefined;
    }
    return undefined;
  }

  /** Bookkeeping of an L1 hit; negative entries hold `undefined` as their value. */
  #l1Hit(c: CacheCore, l1: L1Store, e: CacheEntry, full: string): void {
    l1.touch(e);
    c.counters.hitsL1++;
    if (e.negative) c.counters.negativeHits++;
    if (c.trace !== undefined) c.trace.record('get', full, true);
    if (cacheChannels.hit.hasSubscribers) cacheChannels.hit.publish({ cache: c.o.name, key: full, tier: 'l1' });
  }

  async #getSlow(full: string, allowStale: boolean): Promise<unknown> {
    const c = this.#c;
    const stale = this.#l1Stale(full);
    const r = await c.readL2(full);
    if (r?.fresh === true) return this.#l2Hit(full, r.value, r.negative);
    this.#miss(full);
    if (allowStale) {
      const best = pickStale(stale, r);
      if (best !== undefined) {
        c.counters.staleRead++;
        this.#publishStale(full, 'read');
        return best.negative ? undefined : best.value;
      }
    }
    return undefined;
  }

  #l2Hit(full: string, value: unknown, negative: boolean): unknown {
    const c = this.#c;
    c.counters.hitsL2++;
    if (negative) c.counters.negativeHits++;
    if (c.o.trace !== undefined) c.o.trace.record('get', full, true);
    if (cacheChannels.hit.hasSubscribers) cacheChannels.hit.publish({ cache: c.o.name, key: full, tier: 'l2' });
    return negative ? undefined : value;
  }

  #miss(full: string): void {
    const c = this.#c;
    c.counters.misses++;
    if (c.o.trace !== undefined) c.o.trace.record('get', full, false);
    if (cacheChannels.miss.hasSubscribers) cacheChannels.miss.publish({ cache: c.o.name, key: full });
  }

  #publishStale(full: string, reason: 'grace' | 'soft-timeout' | 'read'): void {
    if (cacheChannels.stale.hasSubscribers) cacheChannels.stale.publish({ cache: this.#c.o.name, key: full, reason });
  }

  /** The L1 entry of `full` if it is stale but within grace; drops it when past grace. */
  #l1Stale(full: string): StaleCandidate | undefined {
    const c = this.#c;
    const e = c.l1?.map.get(full);
    if (e === undefined) return undefined;
    const now = c.o.clock.now();
    if (now < e.expiresAtMs) return undefined;
    if (now < e.staleUntilMs) return { value: e.value, negative: e.negative, expiresAtMs: e.expiresAtMs };
    c.l1!.delete(full, 'expired');
    return undefined;
  }

  async set<T extends V>(key: string, value: T, options?: SetOptions): Promise<void> {
    checkKey(key);
    const c = this.#c;
    const full = this.prefix + key;
    const ttlMs = options?.ttl === undefined ? c.o.ttlMs : durationMs(options.ttl, 'ttl');
    if (ttlMs <= 0) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `ttl must be greater than 0, got ${String(options?.ttl)}`);
    if (value === undefined) {
      throw new RedlineError(ErrorCodes.NOT_SERIALIZABLE, `cache value for key "${full}" cannot be undefined; use delete() to remove a key`);
    }
    await c.store(full, value, ttlMs, optMs(options?.grace, c.o.graceMs, 'grace'), this.#tags(options?.tags));
  }

  #tags(tags: readonly string[] | undefined): readonly string[] | undefined {
    if (tags === undefined || tags.length === 0) return undefined;
    return toList(tags, 'tags').map((t) => this.prefix + t);
  }

  getOrSet<T extends V>(key: string, factory: Factory<T>, options?: GetOrSetOptions): Promise<T> {
    if (typeof key !== 'string' || key === '') checkKey(key);
    const c = this.#c;
    const full = this.prefix + key;
    const l1 = c.l1;
    if (l1 !== undefined) {
      const e = l1.map.get(full);
      if (e !== undefined && c.clock.now() < e.expiresAtMs) {
        this.#l1Hit(c, l1, e, full);
        return (e.resolved ??= Promise.resolve(e.value)) as Promise<T>;
      }
    }
    if (typeof factory !== 'function') {
      return Promise.reject(new RedlineError(ErrorCodes.INVALID_ARGUMENT, `getOrSet("${key}"): factory must be a function, got ${typeof factory}`));
    }
    const running = c.inflight.get(full);
    if (running !== undefined) {
      c.counters.waitersMerged++;
      return running as Promise<T>;
    }
    let p: Promise<T>;
    try {
      p = this.#load(full, key, factory, this.#resolveCallOptions(options));
    } catch (err) {
      return Promise.reject(err);
    }
    c.inflight.set(full, p);
    const done = (): void => {
      if (c.inflight.get(full) === p) c.inflight.delete(full);
    };
    p.then(done, done);
    return p;
  }

  #resolveCallOptions(options: GetOrSetOptions | undefined): CallOptions {
    const o = this.#c.o;
    const ttlMs = options?.ttl === undefined ? o.ttlMs : durationMs(options.ttl, 'ttl');
    if (ttlMs <= 0) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `ttl must be greater than 0, got ${String(options?.ttl)}`);
    const hardTimeoutMs = options?.hardTimeout === undefined ? o.hardTimeoutMs : durationMs(options.hardTimeout, 'hardTimeout');
    return {
      ttlMs,
      graceMs: optMs(options?.grace, o.graceMs, 'grace'),
      negativeTtlMs: optMs(options?.negativeTtl, o.negativeTtlMs, 'negativeTtl'),
      softTimeoutMs: options?.softTimeout === undefined ? o.softTimeoutMs : durationMs(options.softTimeout, 'softTimeout'),
      hardTimeoutMs: hardTimeoutMs === 0 ? undefined : hardTimeoutMs,
      tags: this.#tags(options?.tags),
      lock: o.lock !== undefined && options?.lock !== false,
    };
  }

  async #load<T>(full: string, key: string, factory: Factory<T>, co: CallOptions): Promise<T> {
    const c = this.#c;
    let stale = this.#l1Stale(full);
    const r = await c.readL2(full);
    if (r?.fresh === true) return this.#l2Hit(full, r.value, r.negative) as T;
    stale = pickStale(stale, r);
    this.#miss(full);
    if (stale !== undefined && (c.backoffUntil.get(full) ?? -Infinity) > c.o.clock.now()) {
      // The factory failed recently: keep serving grace instead of hammering a failing backend.
      c.counters.staleGrace++;
      this.#publishStale(full, 'grace');
      return (stale.negative ? undefined : stale.value) as T;
    }
    let release: (() => void) | undefined;
    if (co.lock) {
      const got = await this.#acquireOrWait(full);
      if ('value' in got) return got.value as T;
      release = got.release;
    }
    return this.#runFactory(full, key, factory, co, stale, release);
  }

  /** Takes the lease lock for `full`, or waits for the holder's value. `{}` means "run locally". */
  async #acquireOrWait(full: string): Promise<{ value: unknown } | { release?: () => void }> {
    const c = this.#c;
    const lock = c.o.l2!.lock!;
    const { leaseMs, waitTimeoutMs } = c.o.lock!;
    const token = c.lockToken();
    const deadlineMs = c.o.clock.now() + waitTimeoutMs;
    let delayMs = 5;
    let waited = false;
    for (;;) {
      const got = await c.l2Call('lock.acquire', () => lock.acquire(full, token, leaseMs));
      if (got === undefined) return {};
      if (got) {
        c.counters.locksAcquired++;
        // Another instance may have filled the key and released between our read and our acquire.
        const again = await c.readL2(full);
        if (again?.fresh === true) {
          void c.l2Call('lock.release', () => lock.release(full, token));
          if (waited) c.counters.lockWaitHits++;
          return { value: again.negative ? undefined : again.value };
        }
        return { release: this.#holdLease(full, token, leaseMs) };
      }
      if (!waited) {
        waited = true;
        c.counters.lockWaits++;
      }
      if (c.o.clock.now() >= deadlineMs) {
        c.counters.lockTimeouts++;
        return {};
      }
      await c.sleepOrWake(full, delayMs);
      delayMs = Math.min(delayMs * 2, 100);
      const r = await c.readL2(full);
      if (r?.fresh === true) {
        c.counters.lockWaitHits++;
        return { value: r.negative ? undefined : r.value };
      }
    }
  }

  /** Renews the lease every third of its length until the returned release function is called. */
  #holdLease(full: string, token: string, leaseMs: number): () => void {
    const c = this.#c;
    const lock = c.o.l2!.lock!;
    let handle: TimerHandle | undefined;
    let released = false;
    const renew = (): void => {
      handle = c.setTimer(() => {
        if (released) return;
        void c.l2Call('lock.renew', () => lock.renew(full, token, leaseMs)).then(() => {
          if (!released) renew();
        });
      }, leaseMs / 3);
    };
    renew();
    return () => {
      released = true;
      if (handle !== undefined) c.clearTimer(handle);
      void c.l2Call('lock.release', () => lock.release(full, token));
    };
  }

  async #runFactory<T>(
    full: string,
    key: string,
    factory: Factory<T>,
    co: CallOptions,
    stale: StaleCandidate | undefined,
    release: (() => void) | undefined,
  ): Promise<T> {
    const c = this.#c;
    c.counters.factoryCalls++;
    const ctx: FactoryContext<T> = { key, hasStale: stale !== undefined, staleValue: stale?.negative === false ? (stale.value as T) : undefined };
    const startedMs = performance.now();
    const call = async (): Promise<T> => {
      let value: T;
      try {
        value = await (c.tracer.active ? c.tracer.span('redline.cache.factory', { 'cache.name': c.o.name, 'cache.key': full }, async () => factory(ctx)) : factory(ctx));
      } catch (err) {
        c.counters.factoryErrors++;
        const durationMs = performance.now() - startedMs;
        c.counters.factoryMs.record(durationMs);
        if (cacheChannels.factory.hasSubscribers) cacheChannels.factory.publish({ cache: c.o.name, key: full, durationMs, error: err });
        throw err;
      }
      const durationMs = performance.now() - startedMs;
      c.counters.factoryMs.record(durationMs);
      if (cacheChannels.factory.hasSubscribers) cacheChannels.factory.publish({ cache: c.o.name, key: full, durationMs });
      if (value === undefined) {
        if (co.negativeTtlMs > 0) await c.store(full, undefined, co.negativeTtlMs, co.graceMs, co.tags);
      } else {
        await c.store(full, value, co.ttlMs, co.graceMs, co.tags);
      }
      return value;
    };
    const completion = call();
    if (release !== undefined) completion.then(release, release);

    const softMs = stale !== undefined ? co.softTimeoutMs : undefined;
    const hardMs = co.hardTimeoutMs;
    if (softMs === undefined && hardMs === undefined) {
      try {
        return await completion;
      } catch (err) {
        return this.#onFactoryFailure(full, err, stale);
      }
    }
    const timers: TimerHandle[] = [];
    const racers: Array<Promise<{ v: T } | { e: unknown } | typeof SOFT | typeof HARD>> = [completion.then((v) => ({ v }), (e: unknown) => ({ e }))];
    if (softMs !== undefined) racers.push(new Promise((resolve) => timers.push(c.setTimer(() => resolve(SOFT), softMs))));
    if (hardMs !== undefined) racers.push(new Promise((resolve) => timers.push(c.setTimer(() => resolve(HARD), hardMs))));
    const winner = await Promise.race(racers);
    for (const t of timers) c.clearTimer(t);
    if (winner === SOFT || winner === HARD) {
      // The factory keeps running and fills the cache when it ends; its failure is only reported.
      completion.catch((err: unknown) => c.emitError('factory.background', err));
      if (winner === SOFT) {
        c.counters.staleSoftTimeout++;
        this.#publishStale(full, 'soft-timeout');
        return (stale!.negative ? undefined : stale!.value) as T;
      }
      c.counters.hardTimeouts++;
      throw new RedlineError(ErrorCodes.TIMEOUT, `getOrSet("${key}"): factory did not finish within the hard timeout of ${hardMs}ms`, {
        details: { key: full, hardTimeoutMs: hardMs },
      });
    }
    if ('e' in winner) return this.#onFactoryFailure(full, winner.e, stale);
    return winner.v;
  }

  #onFactoryFailure<T>(full: string, err: unknown, stale: StaleCandidate | undefined): T {
    const c = this.#c;
    if (stale === undefined || isSerializationError(err)) throw err;
    c.noteBackoff(full, c.o.clock.now() + c.o.graceBackoffMs);
    c.counters.staleGrace++;
    c.emitError('factory', err);
    this.#publishStale(full, 'grace');
    return (stale.negative ? undefined : stale.value) as T;
  }

  async has(key: string): Promise<boolean> {
    checkKey(key);
    const c = this.#c;
    const full = this.prefix + key;
    const e = c.l1?.map.get(full);
    if (e !== undefined && c.o.clock.now() < e.expiresAtMs) return !e.negative;
    const r = await c.readL2(full);
    return r?.fresh === true && !r.negative;
  }

  async delete(key: string | readonly string[]): Promise<void> {
    const c = this.#c;
    const keys = toList(key, 'delete(key)').map((k) => this.prefix + k);
    for (const full of keys) {
      c.l1?.delete(full, 'deleted');
      c.backoffUntil.delete(full);
      if (c.o.trace !== undefined) c.o.trace.record('del', full);
    }
    c.counters.deletes += keys.length;
    if (cacheChannels.delete.hasSubscribers) cacheChannels.delete.publish({ cache: c.o.name, keys });
    const l2 = c.o.l2;
    if (l2 !== undefined) await c.l2Call('delete', () => l2.delete(keys));
    c.publish({ keys });
  }

  async deleteByTag(tag: string | readonly string[]): Promise<void> {
    const c = this.#c;
    const tags = toList(tag, 'deleteByTag(tag)').map((t) => this.prefix + t);
    const n = c.l1?.deleteByTags(tags, 'deleted') ?? 0;
    c.counters.deletes += n;
    if (cacheChannels.delete.hasSubscribers) cacheChannels.delete.publish({ cache: c.o.name, tags });
    const l2 = c.o.l2;
    if (l2 !== undefined) await c.l2Call('deleteByTags', () => l2.deleteByTags(tags));
    c.publish({ tags });
  }

  async invalidateTags(tag: string | readonly string[]): Promise<InvalidationReport> {
    const c = this.#c;
    const tags = toList(tag, 'invalidateTags(tag)').map((t) => this.prefix + t);
    const edge = c.o.edge;
    // Checked before anything is deleted, so a bad tag changes nothing.
    const pattern = edge === undefined ? '' : edgeTagPattern(tags);
    const l1Deleted = c.l1?.deleteByTags(tags, 'deleted') ?? 0;
    c.counters.deletes += l1Deleted;
    if (cacheChannels.delete.hasSubscribers) cacheChannels.delete.publish({ cache: c.o.name, tags });
    const l2 = c.o.l2;
    let l2Outcome: InvalidationReport['l2'] = 'none';
    const l2Done =
      l2 === undefined
        ? Promise.resolve()
        : (async () => {
            const skippedBefore = c.counters.l2Skipped;
            let ok = false;
            await c.l2Call('deleteByTags', async () => {
              await l2.deleteByTags(tags);
              ok = true;
            });
            l2Outcome = ok ? 'ok' : c.counters.l2Skipped > skippedBefore ? 'skipped' : 'failed';
          })();
    c.publish({ tags });
    const edgeDone = edge === undefined ? Promise.resolve([]) : invalidateAtEdge(edge, pattern);
    const [, edgeResults] = await Promise.all([l2Done, edgeDone]);
    for (const r of edgeResults) {
      c.counters.edgeRequests++;
      if (!r.ok) {
        c.counters.edgeErrors++;
        c.emitError('edge.invalidate', new RedlineError(ErrorCodes.EDGE_INVALIDATION_FAILED, `edge invalidation at ${r.endpoint} failed: ${r.error ?? 'unknown'}`));
      }
    }
    // Assigned inside l2Done, which the await above finished.
    const outcome = l2Outcome as InvalidationReport['l2'];
    return {
      tags,
      l1Deleted,
      l2: outcome,
      bus: c.o.bus === undefined ? 'none' : 'published',
      edge: edgeResults,
      ok: (outcome === 'ok' || outcome === 'none') && edgeResults.every((r) => r.ok),
    };
  }

  surrogateKey(tag: string | readonly string[]): string {
    return surrogateKeyValue(toList(tag, 'surrogateKey(tag)').map((t) => this.prefix + t));
  }

  async clear(): Promise<void> {
    const c = this.#c;
    c.l1?.deleteByPrefix(this.prefix, 'cleared');
    for (const k of [...c.backoffUntil.keys()]) if (k.startsWith(this.prefix)) c.backoffUntil.delete(k);
    if (cacheChannels.delete.hasSubscribers) cacheChannels.delete.publish({ cache: c.o.name, prefix: this.prefix });
    const l2 = c.o.l2;
    if (l2 !== undefined) await c.l2Call('clear', () => l2.clear(this.prefix));
    c.publish({ prefixes: [this.prefix] });
  }

  namespace(name: string): Cache<V> {
    return new NamespacedCache<V>(this.#c, this.prefix + namespacePrefix(name, 'namespace(name)'));
  }

  stats(): CacheStats {
    return this.#c.stats();
  }

  prometheus(): string {
    return renderPrometheus(this.#c.stats(), this.#c.counters);
  }

  async ready(): Promise<void> {
    await this.#c.busReady;
    await this.#c.tracer.ready;
  }

  close(): Promise<void> {
    return this.#c.close();
  }
}

function pickStale(l1: StaleCandidate | undefined, l2: L2Read | undefined): StaleCandidate | undefined {
  if (l2 === undefined || l2.fresh) return l1;
  if (l1 === undefined || l2.expiresAtMs > l1.expiresAtMs) return { value: l2.value, negative: l2.negative, expiresAtMs: l2.expiresAtMs };
  return l1;
}

function isSerializationError(err: unknown): boolean {
  return err instanceof RedlineError && err.code === ErrorCodes.NOT_SERIALIZABLE;
}

/**
 * Creates a cache. With only `l1` it is an in-process cache; add `l2` (e.g. `createRedisStore`) for
 * a shared tier, `bus` (e.g. `createRedisBus`) for cross-instance L1 invalidation, and `lock` for
 * cluster-wide single-flight. Options are validated up front (REDLINE_ERR_INVALID_ARGUMENT,
 * REDLINE_ERR_BAD_DURATION, REDLINE_ERR_BAD_SIZE).
 */
export function createCache<V = unknown>(options: CacheOptions = {}): Cache<V> {
  const resolved = resolveOptions(options);
  return new NamespacedCache<V>(new CacheCore(resolved), resolved.prefix);
}

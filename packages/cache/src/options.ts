import { ErrorCodes, RedlineError, parseDuration, parseSize, type Clock } from '@redline/core';
import type { EvictionPolicyName } from './eviction/entry.js';
import { isInvalidationBus, type InvalidationBus } from './bus/bus.js';
import { resolveEdge, type EdgeOptions, type ResolvedEdge } from './edge.js';
import { jsonSerializer, type Serializer } from './serializer.js';
import { isL2Store, type L2Store } from './stores/store.js';
import { systemTimerClock, type TimerClock } from './timers.js';
import type { KeyTraceRecorder } from './trace.js';

/** A duration: a string such as `500ms`, `30s`, `5m`, `1h`, or a number of **milliseconds**. */
export type DurationInput = string | number;

/** A size: a string such as `512kb`, `50mb` (binary units), or a number of bytes. */
export type SizeInput = string | number;

/** Options of the in-process tier. */
export interface L1Options {
  /** Maximum number of entries (integer ≥ 1). Default 10,000. */
  maxEntries?: number;
  /** Maximum approximate bytes (serialized length + key + 48 bytes overhead per entry). Default unbounded. */
  maxSize?: SizeInput;
  /** Eviction policy. Default `w-tinylfu`. */
  policy?: EvictionPolicyName;
  /** Upper bound on how long an entry stays fresh in L1 (shorter than `ttl` makes L1 re-read L2). */
  ttl?: DurationInput;
  /** Custom weight (bytes) of a value, used instead of the serialized length when `maxSize` is set. */
  sizeOf?: (value: unknown) => number;
}

/** Distributed single-flight options. */
export interface LockOptions {
  /** Lease length; renewed every third of it while the factory runs. Default `10s`. */
  lease?: DurationInput;
  /** How long to wait for another instance's factory before running it locally. Default `15s`. */
  waitTimeout?: DurationInput;
}

/** Circuit breaker around L2. */
export interface CircuitBreakerInput {
  /** Consecutive L2 failures that open the circuit (integer ≥ 1). Default 5. */
  failureThreshold?: number;
  /** First open period. Default `1s`. */
  open?: DurationInput;
  /** Longest open period after repeated failed probes. Default `30s`. */
  maxOpen?: DurationInput;
}

/** Options of {@link createCache}. Durations are strings (`30s`) or milliseconds. */
export interface CacheOptions {
  /** Instance name used in metrics labels and diagnostics messages. Default `default`. */
  name?: string;
  /** Root namespace; keys become `<namespace>:<key>` in every tier. Default none. */
  namespace?: string;
  /** How long a value stays fresh. Default `1m`. */
  ttl?: DurationInput;
  /** How long after expiry a stale value may still be served when the factory fails or is slow. Default `false` (none). */
  grace?: DurationInput | false;
  /** After a factory failure served from grace, wait this long before calling the factory again. Default `5s`. */
  graceBackoff?: DurationInput;
  /** Spread expirations: each TTL is shortened by a random fraction in `[0, jitter)` (0 ≤ jitter < 1). Default 0. */
  jitter?: number;
  /** Cache a factory's `undefined` ("not found") for this long. Default `false` (not cached). */
  negativeTtl?: DurationInput | false;
  /** When a stale value exists and the factory takes longer than this, return the stale value and let the factory finish in the background. */
  softTimeout?: DurationInput;
  /** Reject `getOrSet` with REDLINE_ERR_TIMEOUT when the factory takes longer than this (the factory still fills the cache when it ends). */
  hardTimeout?: DurationInput;
  /** In-process tier, or `false` for none. Default `{}`. */
  l1?: L1Options | false;
  /** Shared tier (Redis, memory, or your own {@link L2Store}). Default none. */
  l2?: L2Store;
  /** Cross-instance invalidation bus. Default none. */
  bus?: InvalidationBus;
  /** The HTTP cache in front of the service (Varnish, a CDN) that `invalidateTags` also purges (L3). Default none. */
  edge?: EdgeOptions;
  /** Value serializer for L2 and byte accounting. Default strict JSON. */
  serializer?: Serializer;
  /** Distributed single-flight through the L2 store's lease lock (`true` for defaults). Default `false`. */
  lock?: boolean | LockOptions;
  /** Circuit breaker around L2 calls. */
  circuitBreaker?: CircuitBreakerInput;
  /** Time source and timer scheduler. Default `Date.now` + Node timers. */
  clock?: TimerClock | Clock;
  /** Random source in [0, 1) for jitter. Default `Math.random`. */
  random?: () => number;
  /** Key-trace recorder that sees every lookup (see `createKeyTraceRecorder`). */
  trace?: KeyTraceRecorder;
  /** Produce OpenTelemetry spans for factory calls when `@opentelemetry/api` is importable. Default `false`. */
  otel?: boolean;
  /** Receives every absorbed error (L2, bus, background refresh). Must not throw. */
  onError?: (err: Error, operation: string) => void;
}

/** Per-call options of `set`. */
export interface SetOptions {
  ttl?: DurationInput;
  grace?: DurationInput | false;
  /** Tags for `deleteByTag` (namespaced like keys). */
  tags?: readonly string[];
}

/** Per-call options of `getOrSet`. */
export interface GetOrSetOptions extends SetOptions {
  softTimeout?: DurationInput;
  hardTimeout?: DurationInput;
  negativeTtl?: DurationInput | false;
  /** Override the cache's distributed-lock setting for this call. */
  lock?: boolean;
}

/** Per-call options of `get`. */
export interface GetOptions {
  /** Return a stale value (within grace) when no fresh one exists; counted as a stale read. */
  allowStale?: boolean;
}

/** Validated, normalised configuration. All times in ms. */
export interface ResolvedOptions {
  name: string;
  prefix: string;
  ttlMs: number;
  graceMs: number;
  graceBackoffMs: number;
  jitter: number;
  negativeTtlMs: number;
  softTimeoutMs: number | undefined;
  hardTimeoutMs: number | undefined;
  l1: { maxEntries: number; maxSizeBytes: number; policy: EvictionPolicyName; ttlMs: number; sizeOf: ((value: unknown) => number) | undefined } | undefined;
  l2: L2Store | undefined;
  bus: InvalidationBus | undefined;
  edge: ResolvedEdge | undefined;
  serializer: Serializer;
  lock: { leaseMs: number; waitTimeoutMs: number } | undefined;
  breaker: { failureThreshold: number; openMs: number; maxOpenMs: number };
  clock: TimerClock;
  random: () => number;
  trace: KeyTraceRecorder | undefined;
  otel: boolean;
  onError: ((err: Error, operation: string) => void) | undefined;
}

function invalid(message: string): RedlineError {
  return new RedlineError(ErrorCodes.INVALID_ARGUMENT, message);
}

/**
 * Converts a duration option to ms: numbers are milliseconds (finite, ≥ 0), strings go through
 * core's `parseDuration` (REDLINE_ERR_BAD_DURATION on bad text).
 */
export function durationMs(value: DurationInput, what: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw invalid(`${what} must be a duration (a string such as 30s, or milliseconds >= 0), got ${String(value)}`);
  }
  if (typeof value !== 'string') throw invalid(`${what} must be a duration (a string such as 30s, or milliseconds >= 0), got ${typeof value}`);
  return parseDuration(value, what);
}

function positiveDurationMs(value: DurationInput, what: string): number {
  const ms = durationMs(value, what);
  if (ms <= 0) throw invalid(`${what} must be greater than 0, got ${String(value)}`);
  return ms;
}

function optionalDurationMs(value: DurationInput | false | undefined, fallbackMs: number, what: string): number {
  if (value === undefined) return fallbackMs;
  if (value === false) return 0;
  return durationMs(value, what);
}

function integerAtLeast(value: unknown, min: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalid(`${what} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

const NAME_RE = /^[^\s]+$/;

/** Validates `createCache` options up front; every message names the option and the allowed values. */
export function resolveOptions(options: CacheOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalid('createCache: options must be an object');
  const name = options.name ?? 'default';
  if (typeof name !== 'string' || !NAME_RE.test(name)) throw invalid(`createCache: name must be a non-empty string without spaces, got ${JSON.stringify(name)}`);
  const prefix = options.namespace === undefined ? '' : namespacePrefix(options.namespace, 'createCache: namespace');
  const jitter = options.jitter ?? 0;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1)) throw invalid(`createCache: jitter must be a number in [0, 1), got ${String(jitter)}`);

  let l1: ResolvedOptions['l1'];
  if (options.l1 !== false) {
    const o = options.l1 ?? {};
    if (typeof o !== 'object' || o === null) throw invalid('createCache: l1 must be an object or false');
    const policy = o.policy ?? 'w-tinylfu';
    if (policy !== 'w-tinylfu' && policy !== 'lru') throw invalid(`createCache: l1.policy must be "w-tinylfu" or "lru", got ${JSON.stringify(policy)}`);
    const maxEntries = o.maxEntries === undefined ? 10_000 : integerAtLeast(o.maxEntries, 1, 'createCache: l1.maxEntries');
    const maxSizeBytes = o.maxSize === undefined ? Infinity : parseSize(o.maxSize, 'l1.maxSize');
    if (maxSizeBytes < 1) throw invalid(`createCache: l1.maxSize must be at least 1 byte, got ${String(o.maxSize)}`);
    if (o.sizeOf !== undefined && typeof o.sizeOf !== 'function') throw invalid('createCache: l1.sizeOf must be a function');
    l1 = { maxEntries, maxSizeBytes, policy, ttlMs: o.ttl === undefined ? Infinity : positiveDurationMs(o.ttl, 'l1.ttl'), sizeOf: o.sizeOf };
  }
  if (options.l2 !== undefined && !isL2Store(options.l2)) {
    throw invalid('createCache: l2 must implement get, set, delete, deleteByTags, clear and close (see createRedisStore / createMemoryStore)');
  }
  if (options.bus !== undefined && !isInvalidationBus(options.bus)) throw invalid('createCache: bus must implement publish, subscribe and close (see createRedisBus)');
  if (l1 === undefined && options.l2 === undefined) throw invalid('createCache: at least one tier is needed (l1 or l2)');
  const serializer = options.serializer ?? jsonSerializer;
  if (typeof serializer?.serialize !== 'function' || typeof serializer.deserialize !== 'function') {
    throw invalid('createCache: serializer must have serialize(value) and deserialize(text) functions');
  }
  let lock: ResolvedOptions['lock'];
  if (options.lock !== undefined && options.lock !== false) {
    const o = options.lock === true ? {} : options.lock;
    if (options.l2?.lock === undefined) throw invalid('createCache: lock needs an l2 store with lease-lock support (createRedisStore or createMemoryStore)');
    lock = {
      leaseMs: positiveDurationMs(o.lease ?? '10s', 'lock.lease'),
      waitTimeoutMs: durationMs(o.waitTimeout ?? '15s', 'lock.waitTimeout'),
    };
  }
  const cb = options.circuitBreaker ?? {};
  const breaker = {
    failureThreshold: cb.failureThreshold === undefined ? 5 : integerAtLeast(cb.failureThreshold, 1, 'createCache: circuitBreaker.failureThreshold'),
    openMs: positiveDurationMs(cb.open ?? '1s', 'circuitBreaker.open'),
    maxOpenMs: positiveDurationMs(cb.maxOpen ?? '30s', 'circuitBreaker.maxOpen'),
  };
  if (breaker.maxOpenMs < breaker.openMs) throw invalid(`createCache: circuitBreaker.maxOpen (${breaker.maxOpenMs}ms) must be >= circuitBreaker.open (${breaker.openMs}ms)`);
  const clock = toTimerClock(options.clock);
  if (options.random !== undefined && typeof options.random !== 'function') throw invalid('createCache: random must be a function returning [0, 1)');
  if (options.onError !== undefined && typeof options.onError !== 'function') throw invalid('createCache: onError must be a function');
  return {
    name,
    prefix,
    ttlMs: positiveDurationMs(options.ttl ?? '1m', 'ttl'),
    graceMs: optionalDurationMs(options.grace, 0, 'grace'),
    graceBackoffMs: durationMs(options.graceBackoff ?? '5s', 'graceBackoff'),
    jitter,
    negativeTtlMs: optionalDurationMs(options.negativeTtl, 0, 'negativeTtl'),
    softTimeoutMs: options.softTimeout === undefined ? undefined : durationMs(options.softTimeout, 'softTimeout'),
    hardTimeoutMs: options.hardTimeout === undefined ? undefined : positiveDurationMs(options.hardTimeout, 'hardTimeout'),
    l1,
    l2: options.l2,
    bus: options.bus,
    edge: resolveEdge(options.edge),
    serializer,
    lock,
    breaker,
    clock,
    random: options.random ?? Math.random,
    trace: options.trace,
    otel: options.otel ?? false,
    onError: options.onError,
  };
}

/** Validates a namespace name and returns its key prefix (`name:`). */
export function namespacePrefix(name: unknown, what: string): string {
  if (typeof name !== 'string' || name === '' || /[\s*?[\]]/.test(name)) {
    throw invalid(`${what} must be a non-empty string without spaces or glob characters (*?[]), got ${JSON.stringify(name)}`);
  }
  return `${name}:`;
}

function toTimerClock(clock: TimerClock | Clock | undefined): TimerClock {
  if (clock === undefined) return systemTimerClock;
  if (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function') throw invalid('createCache: clock must have a now() method returning milliseconds');
  const c = clock as Partial<TimerClock>;
  if (typeof c.setTimeout === 'function' && typeof c.clearTimeout === 'function') return clock as TimerClock;
  return { now: () => clock.now(), setTimeout: systemTimerClock.setTimeout, clearTimeout: systemTimerClock.clearTimeout };
}

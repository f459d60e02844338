/**
 * The contract of a shared (L2) store. Values are opaque strings produced by the cache. Keys arrive
 * fully namespaced. Implementations must bound their own latency (fail fast rather than hang) —
 * the Redis store does this with a per-command timeout — and may throw: the cache counts and
 * absorbs every L2 failure behind a circuit breaker.
 */
export interface L2Store {
  /** Short name for metrics and errors (`redis`, `memory`). */
  readonly name: string;
  get(key: string): Promise<string | undefined>;
  /** Stores `value` for `ttlMs` (> 0) milliseconds, indexing the key under each tag. */
  set(key: string, value: string, ttlMs: number, tags: readonly string[] | undefined): Promise<void>;
  delete(keys: readonly string[]): Promise<void>;
  /** Deletes every key indexed under one of `tags` and the tag indexes themselves. */
  deleteByTags(tags: readonly string[]): Promise<void>;
  /** Deletes every key (and tag index) starting with `prefix`; '' means everything this store owns. */
  clear(prefix: string): Promise<void>;
  /** Releases connections. Idempotent. */
  close(): Promise<void>;
  /** Optional lease-lock capability used by distributed single-flight. */
  readonly lock?: LeaseLock;
}

/**
 * A lease lock: set-if-absent with expiry, renewed by its holder, released only by its holder
 * (compare-and-delete), so a holder that dies frees the key after `leaseMs`.
 */
export interface LeaseLock {
  acquire(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Extends the lease if `token` still holds it; false when the lease was lost. */
  renew(key: string, token: string, leaseMs: number): Promise<boolean>;
  /** Deletes the lock if `token` still holds it; false otherwise. */
  release(key: string, token: string): Promise<boolean>;
}

/** Runtime guard for user-supplied stores: true when `value` has every method of {@link L2Store}. */
export function isL2Store(value: unknown): value is L2Store {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['get', 'set', 'delete', 'deleteByTags', 'clear', 'close'].every((m) => typeof v[m] === 'function');
}

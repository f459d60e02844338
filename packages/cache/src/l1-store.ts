import { CacheEntry, hashKey, type EvictionPolicy, type EvictionPolicyName } from './eviction/entry.js';
import { LruPolicy } from './eviction/lru.js';
import { WTinyLfuPolicy } from './eviction/w-tinylfu.js';

/** Why an entry left L1; used as the `reason` label of eviction counters. */
export type EvictionReason = 'capacity' | 'expired' | 'deleted' | 'invalidated' | 'cleared';

/** Options of the in-process L1 store (already validated and normalised). */
export interface L1StoreOptions {
  maxEntries: number;
  maxSizeBytes: number;
  policy: EvictionPolicyName;
  /** Called for every entry leaving the store except explicit replacement. */
  onRemove: (entry: CacheEntry, reason: EvictionReason) => void;
}

/**
 * The in-process tier: a key map plus an eviction policy (W-TinyLFU or LRU), bounded by entry
 * count and approximate bytes, with a tag index so tag invalidations do not scan the map.
 * Expiry is checked by the caller against its clock; the store only removes what it is told to.
 */
export class L1Store {
  readonly map = new Map<string, CacheEntry>();
  readonly policy: EvictionPolicy;
  /**
   * The same policy under its concrete type, so that {@link touch} calls each class's `access` from
   * its own call site: with LRU and W-TinyLFU caches in one process, a shared `policy.access(e)` site
   * turns polymorphic and every L1 hit of both pays for it.
   */
  readonly #tinyLfu: WTinyLfuPolicy | undefined;
  readonly #lru: LruPolicy | undefined;
  readonly #tagIndex = new Map<string, Set<string>>();
  readonly #onRemove: L1StoreOptions['onRemove'];
  readonly #evictCb: (e: CacheEntry) => void;

  constructor(opts: L1StoreOptions) {
    const bounds = { maxEntries: opts.maxEntries, maxWeight: opts.maxSizeBytes };
    if (opts.policy === 'lru') {
      this.#lru = new LruPolicy(bounds);
      this.#tinyLfu = undefined;
      this.policy = this.#lru;
    } else {
      this.#tinyLfu = new WTinyLfuPolicy(bounds, Number.isFinite(opts.maxSizeBytes) ? Math.max(1024, Math.min(1 << 20, opts.maxSizeBytes / 512)) : 65536);
      this.#lru = undefined;
      this.policy = this.#tinyLfu;
    }
    this.#onRemove = opts.onRemove;
    this.#evictCb = (e) => {
      this.map.delete(e.key);
      this.#unindexTags(e);
      this.#onRemove(e, 'capacity');
    };
  }

  /** Number of entries held (fresh, stale and negative). */
  get size(): number {
    return this.map.size;
  }

  /** Sum of entry weights (approximate bytes when a byte bound is configured). */
  get sizeBytes(): number {
    return this.policy.weight;
  }

  /** Records a hit on `e` (an entry of this store) with the eviction policy. */
  touch(e: CacheEntry): void {
    const tiny = this.#tinyLfu;
    if (tiny !== undefined) tiny.access(e);
    else this.#lru!.access(e);
  }

  /** Inserts or replaces an entry and evicts as needed. Returns the stored entry. */
  set(key: string, value: unknown, weight: number, expiresAtMs: number, staleUntilMs: number, tags: readonly string[] | undefined, negative: boolean): CacheEntry {
    const old = this.map.get(key);
    if (old !== undefined) {
      this.#unindexTags(old);
      const delta = weight - old.weight;
      old.value = value;
      old.resolved = undefined;
      old.weight = weight;
      old.expiresAtMs = expiresAtMs;
      old.staleUntilMs = staleUntilMs;
      old.tags = tags;
      old.negative = negative;
      this.policy.reweigh(old, delta);
      this.policy.access(old);
      this.#indexTags(old);
      this.policy.evict(this.#evictCb);
      return old;
    }
    const e = new CacheEntry(key, value, hashKey(key), weight, expiresAtMs, staleUntilMs, tags, negative);
    this.map.set(key, e);
    this.#indexTags(e);
    this.policy.add(e);
    this.policy.evict(this.#evictCb);
    return e;
  }

  /** Removes one key; returns whether it was present. */
  delete(key: string, reason: EvictionReason): boolean {
    const e = this.map.get(key);
    if (e === undefined) return false;
    this.#drop(e, reason);
    return true;
  }

  /** Removes every entry carrying one of `tags`; returns how many were removed. */
  deleteByTags(tags: readonly string[], reason: EvictionReason): number {
    let n = 0;
    for (const tag of tags) {
      const keys = this.#tagIndex.get(tag);
      if (keys === undefined) continue;
      for (const key of [...keys]) if (this.delete(key, reason)) n++;
    }
    return n;
  }

  /** Removes every key starting with `prefix` (all keys for ''); returns how many were removed. */
  deleteByPrefix(prefix: string, reason: EvictionReason): number {
    if (prefix === '') {
      const n = this.map.size;
      for (const e of this.map.values()) this.#onRemove(e, reason);
      this.map.clear();
      this.#tagIndex.clear();
      this.policy.clear();
      return n;
    }
    let n = 0;
    for (const e of [...this.map.values()]) {
      if (e.key.startsWith(prefix)) {
        this.#drop(e, reason);
        n++;
      }
    }
    return n;
  }

  #drop(e: CacheEntry, reason: EvictionReason): void {
    this.map.delete(e.key);
    this.policy.remove(e);
    this.#unindexTags(e);
    this.#onRemove(e, reason);
  }

  #indexTags(e: CacheEntry): void {
    if (e.tags === undefined) return;
    for (const tag of e.tags) {
      let keys = this.#tagIndex.get(tag);
      if (keys === undefined) this.#tagIndex.set(tag, (keys = new Set()));
      keys.add(e.key);
    }
  }

  #unindexTags(e: CacheEntry): void {
    if (e.tags === undefined) return;
    for (const tag of e.tags) {
      const keys = this.#tagIndex.get(tag);
      if (keys === undefined) continue;
      keys.delete(e.key);
      if (keys.size === 0) this.#tagIndex.delete(tag);
    }
  }
}

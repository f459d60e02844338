import type { Clock } from '@redline/core';
import type { L2Store, LeaseLock } from './store.js';

interface MemoryItem {
  value: string;
  expiresAtMs: number;
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Time source for expiry (ms); default `Date.now`. */
  clock?: Clock;
  /** Upper bound on stored keys; the oldest-inserted key goes first. Default 100,000. */
  maxEntries?: number;
}

/**
 * An in-process L2 store, for tests and for sharing one "remote" tier between several cache
 * instances in the same process. Bounded by `maxEntries` (insertion order), lazily expired.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): L2Store {
  const clock = options.clock ?? { now: () => Date.now() };
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new RangeError(`createMemoryStore: maxEntries must be an integer >= 1, got ${String(options.maxEntries)}`);
  }
  const items = new Map<string, MemoryItem>();
  const tags = new Map<string, Set<string>>();
  const locks = new Map<string, MemoryItem>();

  const live = (map: Map<string, MemoryItem>, key: string): MemoryItem | undefined => {
    const item = map.get(key);
    if (item === undefined) return undefined;
    if (clock.now() >= item.expiresAtMs) {
      map.delete(key);
      return undefined;
    }
    return item;
  };

  const lock: LeaseLock = {
    async acquire(key, token, leaseMs) {
      if (live(locks, key) !== undefined) return false;
      locks.set(key, { value: token, expiresAtMs: clock.now() + leaseMs });
      return true;
    },
    async renew(key, token, leaseMs) {
      const item = live(locks, key);
      if (item?.value !== token) return false;
      item.expiresAtMs = clock.now() + leaseMs;
      return true;
    },
    async release(key, token) {
      if (live(locks, key)?.value !== token) return false;
      locks.delete(key);
      return true;
    },
  };

  return {
    name: 'memory',
    lock,
    async get(key) {
      return live(items, key)?.value;
    },
    async set(key, value, ttlMs, tagList) {
      items.delete(key);
      items.set(key, { value, expiresAtMs: clock.now() + ttlMs });
      if (items.size > maxEntries) items.delete(items.keys().next().value!);
      for (const tag of tagList ?? []) {
        let keys = tags.get(tag);
        if (keys === undefined) tags.set(tag, (keys = new Set()));
        keys.add(key);
      }
    },
    async delete(keys) {
      for (const key of keys) items.delete(key);
    },
    async deleteByTags(tagList) {
      for (const tag of tagList) {
        for (const key of tags.get(tag) ?? []) items.delete(key);
        tags.delete(tag);
      }
    },
    async clear(prefix) {
      for (const key of [...items.keys()]) if (key.startsWith(prefix)) items.delete(key);
      for (const tag of [...tags.keys()]) if (tag.startsWith(prefix)) tags.delete(tag);
    },
    async close() {
      items.clear();
      tags.clear();
      locks.clear();
    },
  };
}

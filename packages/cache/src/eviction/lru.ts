import { EntryQueue, QueueId, type CacheEntry, type EvictionBounds, type EvictionPolicy } from './entry.js';

/** Plain least-recently-used eviction: one queue, the head goes first. */
export class LruPolicy implements EvictionPolicy {
  readonly name = 'lru' as const;
  readonly #queue = new EntryQueue();
  readonly #bounds: EvictionBounds;

  constructor(bounds: EvictionBounds) {
    this.#bounds = bounds;
  }

  get count(): number {
    return this.#queue.count;
  }
  get weight(): number {
    return this.#queue.weight;
  }
  add(e: CacheEntry): void {
    this.#queue.pushBack(e, QueueId.PROTECTED);
  }
  access(e: CacheEntry): void {
    this.#queue.moveToBack(e);
  }
  remove(e: CacheEntry): void {
    if (e.queue !== QueueId.NONE) this.#queue.remove(e);
  }
  reweigh(_e: CacheEntry, deltaWeight: number): void {
    this.#queue.weight += deltaWeight;
  }
  evict(onEvict: (e: CacheEntry) => void): void {
    const q = this.#queue;
    while (q.count > this.#bounds.maxEntries || q.weight > this.#bounds.maxWeight) {
      const victim = q.first();
      if (victim === undefined) return;
      q.remove(victim);
      onEvict(victim);
    }
  }
  clear(): void {
    this.#queue.reset();
  }
}

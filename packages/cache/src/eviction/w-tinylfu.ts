import { EntryQueue, QueueId, type CacheEntry, type EvictionBounds, type EvictionPolicy } from './entry.js';
import { FrequencySketch } from './frequency-sketch.js';

/** Share of capacity given to the admission window (Caffeine's default starting point). */
const WINDOW_SHARE = 0.01;
/** Share of the main region reserved for entries that were hit at least twice. */
const PROTECTED_SHARE = 0.8;

/**
 * Window TinyLFU eviction (after Caffeine): new entries enter a small LRU window; when the window
 * overflows, its oldest entry competes with the main region's LRU victim and is admitted only if
 * the frequency sketch has seen it more often. The main region is a segmented LRU (probation →
 * protected on a second hit). One-off scans therefore pass through the window without flushing the
 * frequently used working set, which is where plain LRU loses its hit ratio.
 */
export class WTinyLfuPolicy implements EvictionPolicy {
  readonly name = 'w-tinylfu' as const;
  readonly #window = new EntryQueue();
  readonly #probation = new EntryQueue();
  readonly #protected = new EntryQueue();
  readonly #sketch: FrequencySketch;
  readonly #bounds: EvictionBounds;
  readonly #windowMaxEntries: number;
  readonly #windowMaxWeight: number;
  readonly #protectedMaxEntries: number;
  readonly #protectedMaxWeight: number;

  /** `sketchCapacity` is the expected number of entries (used when only a weight bound exists). */
  constructor(bounds: EvictionBounds, sketchCapacity: number) {
    this.#bounds = bounds;
    this.#sketch = new FrequencySketch(Number.isFinite(bounds.maxEntries) ? bounds.maxEntries : sketchCapacity);
    this.#windowMaxEntries = Number.isFinite(bounds.maxEntries) ? Math.max(1, Math.floor(bounds.maxEntries * WINDOW_SHARE)) : Infinity;
    this.#windowMaxWeight = bounds.maxWeight * WINDOW_SHARE;
    this.#protectedMaxEntries = Number.isFinite(bounds.maxEntries) ? Math.floor((bounds.maxEntries - this.#windowMaxEntries) * PROTECTED_SHARE) : Infinity;
    this.#protectedMaxWeight = (bounds.maxWeight - this.#windowMaxWeight) * PROTECTED_SHARE;
  }

  get count(): number {
    return this.#window.count + this.#probation.count + this.#protected.count;
  }
  get weight(): number {
    return this.#window.weight + this.#probation.weight + this.#protected.weight;
  }

  /** Estimated recent frequency of a hash (exposed for tests and the simulator). */
  frequency(hash: number): number {
    return this.#sketch.frequency(hash);
  }

  add(e: CacheEntry): void {
    e.sketchSaturatedEpoch = this.#sketch.increment(e.hash);
    this.#window.pushBack(e, QueueId.WINDOW);
    if (!Number.isFinite(this.#bounds.maxEntries) && (this.count & 1023) === 0) this.#sketch.ensureCapacity(this.count * 2);
  }

  access(e: CacheEntry): void {
    const sketch = this.#sketch;
    if (e.sketchSaturatedEpoch !== sketch.epoch) e.sketchSaturatedEpoch = sketch.increment(e.hash);
    switch (e.queue) {
      case QueueId.WINDOW:
        this.#window.moveToBack(e);
        return;
      case QueueId.PROBATION:
        this.#probation.remove(e);
        this.#protected.pushBack(e, QueueId.PROTECTED);
        this.#demoteProtectedOverflow();
        return;
      case QueueId.PROTECTED:
        this.#protected.moveToBack(e);
        return;
      default:
        return;
    }
  }

  remove(e: CacheEntry): void {
    const q = this.#queueOf(e);
    if (q !== undefined) q.remove(e);
  }

  reweigh(e: CacheEntry, deltaWeight: number): void {
    const q = this.#queueOf(e);
    if (q !== undefined) q.weight += deltaWeight;
  }

  evict(onEvict: (e: CacheEntry) => void): void {
    const b = this.#bounds;
    // Window overflow becomes admission candidates for the main region.
    while (this.#window.count > 1 && (this.#window.count > this.#windowMaxEntries || this.#window.weight > this.#windowMaxWeight)) {
      const candidate = this.#window.first()!;
      this.#window.remove(candidate);
      this.#admit(candidate, onEvict);
    }
    // Still over (e.g. a single entry heavier than the window): evict from the coldest end.
    while (this.count > b.maxEntries || this.weight > b.maxWeight) {
      const victim = this.#probation.first() ?? this.#window.first() ?? this.#protected.first();
      if (victim === undefined) return;
      this.remove(victim);
      onEvict(victim);
    }
  }

  clear(): void {
    this.#window.reset();
    this.#probation.reset();
    this.#protected.reset();
  }

  #admit(candidate: CacheEntry, onEvict: (e: CacheEntry) => void): void {
    const b = this.#bounds;
    const fits = (): boolean =>
      this.count + 1 <= b.maxEntries && this.weight + candidate.weight <= b.maxWeight;
    while (!fits()) {
      const victim = this.#probation.first() ?? this.#protected.first();
      if (victim === undefined) break;
      // Ties go to the incumbent: a candidate must have been seen strictly more often.
      if (this.#sketch.frequency(candidate.hash) > this.#sketch.frequency(victim.hash)) {
        this.remove(victim);
        onEvict(victim);
      } else {
        candidate.queue = QueueId.NONE;
        onEvict(candidate);
        return;
      }
    }
    this.#probation.pushBack(candidate, QueueId.PROBATION);
  }

  #demoteProtectedOverflow(): void {
    while (this.#protected.count > this.#protectedMaxEntries || (this.#protected.weight > this.#protectedMaxWeight && this.#protected.count > 1)) {
      const d = this.#protected.first()!;
      this.#protected.remove(d);
      this.#probation.pushBack(d, QueueId.PROBATION);
    }
  }

  #queueOf(e: CacheEntry): EntryQueue | undefined {
    switch (e.queue) {
      case QueueId.WINDOW:
        return this.#window;
      case QueueId.PROBATION:
        return this.#probation;
      case QueueId.PROTECTED:
        return this.#protected;
      default:
        return undefined;
    }
  }
}

/** Which queue an entry sits in; `NONE` once it has been unlinked. */
export const QueueId = { NONE: 0, WINDOW: 1, PROBATION: 2, PROTECTED: 3 } as const;
/** One of the {@link QueueId} values. */
export type QueueId = (typeof QueueId)[keyof typeof QueueId];

/**
 * One L1 entry, doubling as an intrusive doubly-linked-list node so that moving an entry between
 * eviction queues allocates nothing. All instances share one hidden class (monomorphic hot path).
 */
export class CacheEntry {
  key: string;
  value: unknown;
  /** 32-bit hash of `key`, computed once; feeds the frequency sketch. */
  hash: number;
  /** Weight for the byte bound (approximate bytes), 0 when only entries are bounded. */
  weight: number;
  /** Fresh until this clock time (ms). */
  expiresAtMs: number;
  /** May be served stale (grace) until this clock time (ms); ≥ `expiresAtMs`. */
  staleUntilMs: number;
  /** Tags (already namespaced), or undefined. */
  tags: readonly string[] | undefined;
  /** True for a cached "not found". */
  negative: boolean;
  /**
   * `Promise.resolve(value)` made on the first async hit and reused: awaiting an already-settled
   * promise costs about half as much as allocating a new one per hit. Reset when `value` changes.
   */
  resolved: Promise<unknown> | undefined = undefined;
  /**
   * The frequency-sketch epoch in which this key's counters were seen saturated, else -1: while the
   * sketch's epoch is unchanged an increment would be a no-op, so W-TinyLFU skips the (cache-missing)
   * sketch access on hits of hot keys.
   */
  sketchSaturatedEpoch = -1;
  prev: CacheEntry | null = null;
  next: CacheEntry | null = null;
  queue: QueueId = QueueId.NONE;

  constructor(key: string, value: unknown, hash: number, weight: number, expiresAtMs: number, staleUntilMs: number, tags: readonly string[] | undefined, negative: boolean) {
    this.key = key;
    this.value = value;
    this.hash = hash;
    this.weight = weight;
    this.expiresAtMs = expiresAtMs;
    this.staleUntilMs = staleUntilMs;
    this.tags = tags;
    this.negative = negative;
  }
}

/** An intrusive LRU-ordered queue: head = least recently used, tail = most recently used. */
export class EntryQueue {
  readonly #sentinel = new CacheEntry('', undefined, 0, 0, 0, 0, undefined, false);
  count = 0;
  weight = 0;

  constructor() {
    this.#sentinel.prev = this.#sentinel;
    this.#sentinel.next = this.#sentinel;
  }

  /** The least recently used entry, or undefined when empty. */
  first(): CacheEntry | undefined {
    const n = this.#sentinel.next!;
    return n === this.#sentinel ? undefined : n;
  }

  /** Appends at the most-recently-used end. */
  pushBack(e: CacheEntry, queue: QueueId): void {
    const last = this.#sentinel.prev!;
    e.prev = last;
    e.next = this.#sentinel;
    last.next = e;
    this.#sentinel.prev = e;
    e.queue = queue;
    this.count++;
    this.weight += e.weight;
  }

  /** Unlinks `e`, which must be in this queue. */
  remove(e: CacheEntry): void {
    e.prev!.next = e.next;
    e.next!.prev = e.prev;
    e.prev = null;
    e.next = null;
    e.queue = QueueId.NONE;
    this.count--;
    this.weight -= e.weight;
  }

  /** Moves `e` (in this queue) to the most-recently-used end. */
  moveToBack(e: CacheEntry): void {
    const last = this.#sentinel.prev!;
    if (last === e) return;
    e.prev!.next = e.next;
    e.next!.prev = e.prev;
    e.prev = last;
    e.next = this.#sentinel;
    last.next = e;
    this.#sentinel.prev = e;
  }

  /** Empties the queue without touching the entries' links (they are dropped wholesale). */
  reset(): void {
    this.#sentinel.prev = this.#sentinel;
    this.#sentinel.next = this.#sentinel;
    this.count = 0;
    this.weight = 0;
  }
}

/** Entry-count and weight limits an eviction policy enforces; either may be `Infinity`. */
export interface EvictionBounds {
  readonly maxEntries: number;
  readonly maxWeight: number;
}

/**
 * An eviction policy: told about insertions, accesses and removals, it chooses victims when the
 * cache is over its bounds. Policies never touch the key map; the store removes what they evict.
 */
export interface EvictionPolicy {
  readonly name: EvictionPolicyName;
  /** Entries currently tracked. */
  readonly count: number;
  /** Sum of tracked weights. */
  readonly weight: number;
  add(e: CacheEntry): void;
  access(e: CacheEntry): void;
  remove(e: CacheEntry): void;
  /** Re-accounts `e` after its weight changed by `deltaWeight` (e still linked). */
  reweigh(e: CacheEntry, deltaWeight: number): void;
  /** Evicts until within bounds, calling `onEvict` for each victim (already unlinked). */
  evict(onEvict: (e: CacheEntry) => void): void;
  clear(): void;
}

/** Names of the built-in eviction policies. */
export type EvictionPolicyName = 'w-tinylfu' | 'lru';

/** 32-bit FNV-1a hash of a string's UTF-16 code units, finished with a murmur-style mix. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

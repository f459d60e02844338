const MAX_COUNT = 15;
/** Epochs are unique across sketches, so an entry's saturation mark can never be valid for another sketch. */
let lastEpoch = 0;

/**
 * A count-min sketch estimating how often a key hash was seen recently, as in Caffeine's TinyLFU:
 * four counters (0–15) per key, all inside one 16-byte block so an update touches one cache line,
 * and 32 one-byte counters per expected entry (twice Caffeine's density: fewer collisions that
 * would let a one-off key inherit a hot key's count, at 32 bytes per entry). Counters are halved every `10 × capacity` increments so
 * old popularity fades (the "aging" that lets new hot keys win against formerly hot ones).
 */
export class FrequencySketch {
  #table: Uint8Array;
  /** The same memory as `#table`, viewed as 32-bit words for aging. */
  #words: Uint32Array;
  #blockMask: number;
  #sampleSize: number;
  #additions = 0;
  /**
   * Bumped whenever counters can go down (aging, resize). Between two bumps counters only grow, so
   * a key whose four counters all reached the maximum stays saturated until the epoch changes.
   */
  epoch = ++lastEpoch;

  /** `capacity` is the expected number of distinct entries (≥ 1); the sketch grows with `ensureCapacity`. */
  constructor(capacity: number) {
    this.#blockMask = -1;
    this.#sampleSize = 0;
    this.#table = new Uint8Array(0);
    this.#words = new Uint32Array(0);
    this.ensureCapacity(capacity);
  }

  /** Resizes (and resets) the sketch when `capacity` outgrows it; capped at 2^22 blocks (64 MiB). */
  ensureCapacity(capacity: number): void {
    const expected = Math.max(16, Math.ceil(capacity));
    const blocks = Math.min(1 << 22, nextPowerOfTwo(2 * expected));
    if (blocks - 1 <= this.#blockMask) return;
    this.#blockMask = blocks - 1;
    this.#table = new Uint8Array(blocks * 16);
    this.#words = new Uint32Array(this.#table.buffer);
    this.#sampleSize = 10 * expected;
    this.#additions = 0;
    this.epoch = ++lastEpoch;
  }

  /** Estimated recent frequency of `hash` (0–15). */
  frequency(hash: number): number {
    const t = this.#table;
    const spread = spreadHash(hash);
    const base = (spread & this.#blockMask) << 4;
    const h = rehash(spread);
    return Math.min(t[base + (h & 3)]!, t[base + 4 + ((h >>> 8) & 3)]!, t[base + 8 + ((h >>> 16) & 3)]!, t[base + 12 + ((h >>> 24) & 3)]!);
  }

  /**
   * Records one occurrence of `hash` (conservative update: only the minimal counters grow).
   * Returns the current {@link epoch} when all four counters of `hash` are now at the maximum
   * (further increments are no-ops until the epoch changes, so callers may skip them), else -1.
   */
  increment(hash: number): number {
    const t = this.#table;
    const spread = spreadHash(hash);
    const base = (spread & this.#blockMask) << 4;
    const h = rehash(spread);
    const i0 = base + (h & 3);
    const i1 = base + 4 + ((h >>> 8) & 3);
    const i2 = base + 8 + ((h >>> 16) & 3);
    const i3 = base + 12 + ((h >>> 24) & 3);
    const c0 = t[i0]!;
    const c1 = t[i1]!;
    const c2 = t[i2]!;
    const c3 = t[i3]!;
    let min = c0 < c1 ? c0 : c1;
    if (c2 < min) min = c2;
    if (c3 < min) min = c3;
    if (min >= MAX_COUNT) return this.epoch;
    if (c0 === min) t[i0] = min + 1;
    if (c1 === min) t[i1] = min + 1;
    if (c2 === min) t[i2] = min + 1;
    if (c3 === min) t[i3] = min + 1;
    if (++this.#additions >= this.#sampleSize) {
      this.#age();
      return -1;
    }
    return min + 1 >= MAX_COUNT ? this.epoch : -1;
  }

  #age(): void {
    // Halve four one-byte counters per 32-bit word: shift, then clear the bit each byte received
    // from its neighbour (same result as halving byte by byte, a quarter of the iterations).
    const words = this.#words;
    for (let i = 0; i < words.length; i++) words[i] = (words[i]! >>> 1) & 0x7f7f7f7f;
    this.#additions = this.#additions >>> 1;
    this.epoch = ++lastEpoch;
  }
}

function spreadHash(x: number): number {
  x = Math.imul(x ^ (x >>> 17), 0xed5ad4bb);
  x = Math.imul(x ^ (x >>> 11), 0xac4c1b51);
  return x ^ (x >>> 15);
}

function rehash(x: number): number {
  x = Math.imul(x, 0x31848bab);
  return x ^ (x >>> 14);
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

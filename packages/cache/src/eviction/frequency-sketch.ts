const DEPTH = 4;
const SEEDS = [0x97cb3127, 0xab7c3ef5, 0x7a3f9b43, 0x1c6ed6a1] as const;
const MAX_COUNT = 15;

/**
 * A count-min sketch of 4-bit-range counters (0–15) estimating how often a key hash was seen
 * recently, as in Caffeine's TinyLFU. Counters are halved every `10 × capacity` increments so old
 * popularity fades (the "aging" that lets new hot keys win against formerly hot ones).
 */
export class FrequencySketch {
  #table: Uint8Array;
  #mask: number;
  #width: number;
  #sampleSize: number;
  #additions = 0;

  /** `capacity` is the expected number of distinct entries (≥ 1); the sketch grows with `ensureCapacity`. */
  constructor(capacity: number) {
    this.#width = 0;
    this.#mask = 0;
    this.#sampleSize = 0;
    this.#table = new Uint8Array(0);
    this.ensureCapacity(capacity);
  }

  /** Resizes (and resets) the sketch when `capacity` outgrows it; capped at 2^22 counters per row. */
  ensureCapacity(capacity: number): void {
    // 4 counters per expected entry in each of the 4 rows (16 bytes per entry), like Caffeine's
    // 16 counters per entry: fewer collisions mean scan keys rarely inherit hot keys' counts.
    const wanted = Math.min(1 << 22, nextPowerOfTwo(4 * Math.max(16, Math.ceil(capacity))));
    if (wanted <= this.#width) return;
    this.#width = wanted;
    this.#mask = wanted - 1;
    this.#table = new Uint8Array(wanted * DEPTH);
    this.#sampleSize = 10 * Math.max(16, Math.ceil(capacity));
    this.#additions = 0;
  }

  /** Estimated recent frequency of `hash` (0–15). */
  frequency(hash: number): number {
    let min = MAX_COUNT;
    for (let i = 0; i < DEPTH; i++) {
      const c = this.#table[this.#index(hash, i)]!;
      if (c < min) min = c;
    }
    return min;
  }

  /** Records one occurrence of `hash` (conservative update: only the minimal counters grow). */
  increment(hash: number): void {
    const t = this.#table;
    const i0 = this.#index(hash, 0);
    const i1 = this.#index(hash, 1);
    const i2 = this.#index(hash, 2);
    const i3 = this.#index(hash, 3);
    const min = Math.min(t[i0]!, t[i1]!, t[i2]!, t[i3]!);
    if (min >= MAX_COUNT) return;
    if (t[i0] === min) t[i0] = min + 1;
    if (t[i1] === min) t[i1] = min + 1;
    if (t[i2] === min) t[i2] = min + 1;
    if (t[i3] === min) t[i3] = min + 1;
    if (++this.#additions >= this.#sampleSize) this.#age();
  }

  #index(hash: number, row: number): number {
    let h = Math.imul(hash, SEEDS[row]!);
    h ^= h >>> 15;
    return row * this.#width + (h & this.#mask);
  }

  #age(): void {
    const t = this.#table;
    for (let i = 0; i < t.length; i++) t[i] = t[i]! >>> 1;
    this.#additions = this.#additions >>> 1;
  }
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** A growable ring buffer: O(1) push/shift/pop at both ends. */
export class Deque<T> {
  #items: (T | undefined)[] = new Array<T | undefined>(16);
  #head = 0;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T): void {
    if (this.#size === this.#items.length) this.#grow();
    this.#items[(this.#head + this.#size) & (this.#items.length - 1)] = item;
    this.#size++;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) & (this.#items.length - 1);
    this.#size--;
    return item;
  }

  pop(): T | undefined {
    if (this.#size === 0) return undefined;
    const i = (this.#head + this.#size - 1) & (this.#items.length - 1);
    const item = this.#items[i];
    this.#items[i] = undefined;
    this.#size--;
    return item;
  }

  /** Removes every item for which `drop` returns true, keeping order. */
  removeWhere(drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: T[] = [];
    for (let i = 0; i < this.#size; i++) {
      const item = this.#items[(this.#head + i) & (this.#items.length - 1)] as T;
      (drop(item) ? removed : kept).push(item);
    }
    if (removed.length === 0) return removed;
    this.#items.fill(undefined);
    this.#head = 0;
    this.#size = 0;
    for (const item of kept) this.push(item);
    return removed;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.#size; i++) yield this.#items[(this.#head + i) & (this.#items.length - 1)] as T;
  }

  #grow(): void {
    const next = new Array<T | undefined>(this.#items.length * 2);
    for (let i = 0; i < this.#size; i++) next[i] = this.#items[(this.#head + i) & (this.#items.length - 1)];
    this.#items = next;
    this.#head = 0;
  }
}

/** Queue entries grouped by priority (higher first); FIFO or LIFO within a priority. */
export class PriorityDeque<T> {
  readonly #levels = new Map<number, Deque<T>>();
  /** Priorities present, descending. */
  #order: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(priority: number, item: T): void {
    let level = this.#levels.get(priority);
    if (!level) {
      level = new Deque<T>();
      this.#levels.set(priority, level);
      this.#order.push(priority);
      this.#order.sort((a, b) => b - a);
    }
    level.push(item);
    this.#size++;
  }

  /** Takes the next item of the highest priority: the oldest (`lifo` false) or the newest. */
  take(lifo: boolean): T | undefined {
    for (const p of this.#order) {
      const level = this.#levels.get(p)!;
      if (level.size > 0) {
        this.#size--;
        return lifo ? level.pop() : level.shift();
      }
    }
    return undefined;
  }

  /** Lowest priority present, or undefined when empty. */
  lowestPriority(): number | undefined {
    for (let i = this.#order.length - 1; i >= 0; i--) {
      const p = this.#order[i]!;
      if (this.#levels.get(p)!.size > 0) return p;
    }
    return undefined;
  }

  /** Removes the least valuable item of the lowest priority: the oldest under LIFO, else the newest. */
  evictLowest(lifo: boolean): T | undefined {
    const p = this.lowestPriority();
    if (p === undefined) return undefined;
    this.#size--;
    const level = this.#levels.get(p)!;
    return lifo ? level.shift() : level.pop();
  }

  removeWhere(drop: (item: T) => boolean): T[] {
    const removed: T[] = [];
    for (const level of this.#levels.values()) removed.push(...level.removeWhere(drop));
    this.#size -= removed.length;
    return removed;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (const p of this.#order) yield* this.#levels.get(p)!;
  }
}

import { Duplex } from 'node:stream';
import type { Limiter } from './limiter.js';
import { intOption, typeError } from './validate.js';

/** Options of {@link parallelMap}: give `concurrency` or a `limiter`. */
export interface ParallelMapOptions {
  /** Calls of `fn` at once, integer ≥ 1. Default 4 (ignored when `limiter` is given). */
  concurrency?: number;
  /** Run each call through this limiter instead (its adaptive limit bounds the concurrency). */
  limiter?: Limiter;
  /** Yield results in source order (default true); false yields each as soon as it is ready. */
  ordered?: boolean;
  /**
   * Items taken from the source and not yet consumed (running or done and buffered), integer ≥ 1.
   * The source is not read further until the consumer catches up. Default: `concurrency`
   * (16 with a limiter).
   */
  highWaterMark?: number;
}

type Settled<R> = { ok: true; value: R } | { ok: false; error: unknown };

/**
 * Maps `source` through `fn` with bounded parallelism, as an async iterable. Backpressure: at most
 * `highWaterMark` items are taken from the source ahead of the consumer, so a slow consumer slows
 * the reads (a Node `Readable` source stays paused meanwhile). The first rejection of `fn` stops
 * reading, closes the source (`return()`) and is thrown to the consumer; results still running are
 * discarded.
 *
 * ```ts
 * for await (const row of parallelMap(readable, (line) => enrich(line), { concurrency: 8 })) write(row);
 * ```
 */
export function parallelMap<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  fn: (item: T, index: number) => R | PromiseLike<R>,
  options: ParallelMapOptions = {},
): AsyncGenerator<R, void, undefined> {
  // Validated here, not on the first next(), so bad options throw where the call is made.
  return mapGenerator(source, fn, resolveOptions(source, fn, options));
}

async function* mapGenerator<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  fn: (item: T, index: number) => R | PromiseLike<R>,
  { concurrency, limiter, ordered, highWaterMark }: ResolvedMapOptions,
): AsyncGenerator<R, void, undefined> {
  const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : (source as Iterable<T>)[Symbol.iterator]();
  const done = new Map<number, Settled<R>>();
  const readyOrder: number[] = [];
  let nextIndex = 0;
  let emitIndex = 0;
  let running = 0;
  let sourceDone = false;
  let pulling = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const buffered = (): number => running + done.size;

  const start = (item: T, index: number): void => {
    running++;
    const call = limiter ? limiter.run(() => fn(item, index)) : new Promise<R>((resolve) => resolve(fn(item, index)));
    call.then(
      (value) => settle(index, { ok: true, value }),
      (error: unknown) => settle(index, { ok: false, error }),
    );
  };
  const settle = (index: number, result: Settled<R>): void => {
    running--;
    if (!result.ok && !failure) failure = { error: result.error };
    done.set(index, result);
    if (!ordered) readyOrder.push(index);
    notify();
    void pump();
  };
  const pump = async (): Promise<void> => {
    if (pulling) return;
    pulling = true;
    try {
      while (!sourceDone && !failure && buffered() < highWaterMark && (limiter !== undefined || running < concurrency)) {
        const step = await iterator.next();
        if (step.done) {
          sourceDone = true;
          break;
        }
        start(step.value, nextIndex++);
      }
    } catch (error) {
      sourceDone = true;
      if (!failure) failure = { error };
    } finally {
      pulling = false;
      notify();
    }
  };

  try {
    void pump();
    while (true) {
      if (failure) throw failure.error;
      const index = ordered ? (done.has(emitIndex) ? emitIndex : -1) : (readyOrder.shift() ?? -1);
      if (index >= 0) {
        const result = done.get(index)!;
        done.delete(index);
        if (ordered) emitIndex++;
        if (!result.ok) throw result.error;
        void pump();
        yield result.value;
        continue;
      }
      if (sourceDone && running === 0 && !pulling) return;
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    if (!sourceDone) {
      sourceDone = true;
      await iterator.return?.();
    }
  }
}

interface ResolvedMapOptions {
  concurrency: number;
  highWaterMark: number;
  ordered: boolean;
  limiter: Limiter | undefined;
}

function resolveOptions(source: unknown, fn: unknown, options: ParallelMapOptions): ResolvedMapOptions {
  if (source === null || typeof source !== 'object' || !(Symbol.asyncIterator in source || Symbol.iterator in source)) {
    typeError('source', 'an iterable, async iterable or Node Readable', source);
  }
  if (typeof fn !== 'function') typeError('fn', 'a function', fn);
  if (options.limiter !== undefined && (typeof options.limiter !== 'object' || typeof (options.limiter as { run?: unknown }).run !== 'function')) {
    typeError('limiter', 'a Limiter from createLimiter()', options.limiter);
  }
  const concurrency = intOption('concurrency', options.concurrency, 4, 1);
  const highWaterMark = intOption('highWaterMark', options.highWaterMark, options.limiter ? 16 : concurrency, 1);
  if (options.ordered !== undefined && typeof options.ordered !== 'boolean') typeError('ordered', 'a boolean', options.ordered);
  return { concurrency, highWaterMark, ordered: options.ordered ?? true, limiter: options.limiter };
}

/**
 * {@link parallelMap} as a Node object-mode `Duplex`, for `stream.pipeline(source, parallelMapStream(fn), sink)`.
 * Backpressure flows both ways: the sink's `highWaterMark` pauses the mapping, which pauses the source.
 */
export function parallelMapStream<T, R>(fn: (item: T, index: number) => R | PromiseLike<R>, options: ParallelMapOptions = {}): Duplex {
  resolveOptions([], fn, options);
  return Duplex.from(async function* (source: AsyncIterable<T>) {
    yield* parallelMap(source, fn, options);
  });
}

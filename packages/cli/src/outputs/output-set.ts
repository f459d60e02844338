import { LatencyHistogram, type RunResult } from '@redline/core';
import type { LiveStatus } from '@redline/load';
import { walkHdr, type HdrWalk } from './hdr-buckets.js';
import type { Output, OutputSecond, OutputStart } from './types.js';

/**
 * One second for every output: the histogram the runner merged is used as it is (decoded from its
 * encoding only when a caller passed none), and its buckets are listed only if an output asks.
 */
function lazySecond(status: LiveStatus, atMs: number): OutputSecond {
  let latency: LatencyHistogram | null | undefined = status.latency;
  let buckets: Array<[number, number]> | undefined;
  let walk: HdrWalk | undefined;
  const decoded = (): LatencyHistogram | null => (latency ??= status.latencyHistogram ? LatencyHistogram.decode(status.latencyHistogram) : null);
  return {
    status,
    atMs,
    get latency() {
      return decoded();
    },
    latencyWalk() {
      const h = decoded();
      return (walk ??= h ? walkHdr(h) : { length: 0, index: new Int32Array(0), us: new Float64Array(0), count: new Float64Array(0) });
    },
    latencyBuckets() {
      if (buckets) return buckets;
      const w = this.latencyWalk();
      buckets = [];
      for (let k = 0; k < w.length; k++) buckets.push([w.us[k]! / 1000, w.count[k]!]);
      return buckets;
    },
  };
}

/** At most this many writes of one output in flight; a second beyond it is skipped and counted. */
const MAX_PENDING = 4;

/** What one output did over the run. */
export interface OutputStats {
  label: string;
  /** Writes attempted: one per second, plus the final one of an output that has one (`end`). */
  writes: number;
  /** Writes that failed (rejected, unreachable, I/O error). */
  failures: number;
  /** Seconds skipped because earlier writes were still in flight. */
  skipped: number;
  /** The last failure's message. */
  lastError: string | null;
}

interface Slot {
  output: Output;
  stats: OutputStats;
  pending: Set<Promise<void>>;
}

/**
 * Drives a list of outputs for one run: fans out each second, counts failed writes (never throws
 * into the run), bounds writes in flight per output, and reports what failed.
 */
export class OutputSet {
  readonly #slots: Slot[];
  #onEvent: (message: string) => void = () => undefined;
  #started = false;
  #closed = false;
  #ended = false;

  constructor(outputs: readonly Output[]) {
    this.#slots = outputs.map((output) => ({ output, stats: { label: output.label, writes: 0, failures: 0, skipped: 0, lastError: null }, pending: new Set() }));
  }

  get size(): number {
    return this.#slots.length;
  }

  /** Opens every output (files, ports); on failure closes those already open and rethrows. */
  async open(): Promise<void> {
    const opened: Output[] = [];
    try {
      for (const s of this.#slots) {
        await s.output.open?.();
        opened.push(s.output);
      }
    } catch (err) {
      await Promise.allSettled(opened.map((o) => o.close()));
      this.#closed = true;
      throw err;
    }
  }

  /** Where write failures are announced (the first of each output, once). */
  onEvent(fn: (message: string) => void): void {
    this.#onEvent = fn;
  }

  start(info: OutputStart): void {
    this.#started = true;
    for (const s of this.#slots) this.#guard(s, () => s.output.start?.(info));
  }

  /** Hands one second to every output. Synchronous for the caller: writes run in the background. */
  second(status: LiveStatus, atMs = Date.now()): void {
    if (this.#closed || this.#slots.length === 0) return;
    if (!this.#started) this.start({ name: 'run', runId: String(atMs), plannedMs: status.plannedMs });
    const sec = lazySecond(status, atMs);
    for (const s of this.#slots) {
      if (s.pending.size >= MAX_PENDING) {
        s.stats.skipped++;
        continue;
      }
      s.stats.writes++;
      this.#guard(s, () => s.output.second(sec));
    }
  }

  /** The final write of every output, then waits for all writes in flight. */
  async end(result: RunResult): Promise<void> {
    if (this.#closed || this.#ended) return;
    this.#ended = true;
    for (const s of this.#slots) {
      const end = s.output.end?.bind(s.output);
      // An output without a final write is not charged one (it used to read "N of N+1 writes failed").
      if (!end) continue;
      s.stats.writes++;
      this.#guard(s, () => end(result));
    }
    await Promise.allSettled(this.#slots.flatMap((s) => [...s.pending]));
  }

  /** Waits for the writes in flight (each is bounded by its own timeout). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.#slots.flatMap((s) => [...s.pending]));
  }

  /** Closes every output (idempotent). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled(this.#slots.flatMap((s) => [...s.pending]));
    await Promise.allSettled(this.#slots.map((s) => s.output.close()));
  }

  stats(): OutputStats[] {
    return this.#slots.map((s) => ({ ...s.stats }));
  }

  /** One line per output whose writes failed or were skipped, for `result.warnings` and the terminal. */
  problems(): string[] {
    return this.stats()
      .filter((s) => s.failures > 0 || s.skipped > 0)
      .map((s) => `output ${s.label}: ${s.failures} of ${s.writes} writes failed${s.skipped ? `, ${s.skipped} seconds skipped (writes still in flight)` : ''}${s.lastError ? ` (last: ${s.lastError})` : ''}`);
  }

  #guard(s: Slot, fn: () => void | Promise<void>): void {
    let r: void | Promise<void>;
    try {
      r = fn();
    } catch (err) {
      this.#fail(s, err);
      return;
    }
    if (r && typeof (r as Promise<void>).then === 'function') {
      const p: Promise<void> = (r as Promise<void>).then(
        () => undefined,
        (err: unknown) => this.#fail(s, err),
      );
      s.pending.add(p);
      void p.finally(() => s.pending.delete(p));
    }
  }

  #fail(s: Slot, err: unknown): void {
    s.stats.failures++;
    s.stats.lastError = (err as Error)?.message ?? String(err);
    if (s.stats.failures === 1) this.#onEvent(`output ${s.stats.label}: write failed (${s.stats.lastError}); the run goes on, failures are counted`);
  }
}

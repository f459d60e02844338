import { LatencyHistogram } from '@redline/core';
import { CACHE_PROBLEMS, CACHE_VERDICTS, PROBLEM_NO_VALIDATORS, PROBLEM_SET_COOKIE, PROBLEM_UNCACHEABLE, PROBLEM_VARY_STAR, verdictOf } from './cache-verdict.js';
import type { Exchange } from './transports/transport.js';

/** Known verdicts (everything but `unknown`), in `CACHE_VERDICTS` order from index 1. */
export const KNOWN_VERDICTS = CACHE_VERDICTS.slice(1) as Array<Exclude<(typeof CACHE_VERDICTS)[number], 'unknown'>>;
const PROBLEM_BITS = [PROBLEM_UNCACHEABLE, PROBLEM_VARY_STAR, PROBLEM_SET_COOKIE, PROBLEM_NO_VALIDATORS] as const;
/** Distinct request names with cache counters per worker; later names share `(other)` as the recorder's do. */
const MAX_NAMES = 1000;

/** One request name's cache counters in an interval: verdict counts (index 1–4) and problem counts. */
export interface CacheNameSnapshot {
  verdicts: number[];
  problems: number[];
}

/** One worker's cache verdicts in one interval. */
export interface CacheSnapshot {
  /** Counts by verdict index (`CACHE_VERDICTS`; index 0, unknown, is left 0: it is responses minus the rest). */
  verdicts: number[];
  /** Encoded service-time histograms by known verdict name, when any response had it. */
  latency: Record<string, string>;
  byName: Record<string, CacheNameSnapshot>;
}

/**
 * Per-interval cache verdicts. Responses without cache headers cost one test; the rest one
 * histogram record and a few counters. (Responses per second, for the unknown share, come from the
 * time series.)
 */
export class CacheRecorder {
  #known = 0;
  readonly #verdicts = [0, 0, 0, 0, 0];
  readonly #latency = [null, new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram(), new LatencyHistogram()] as const;
  readonly #byName = new Map<string, CacheNameSnapshot>();

  record(name: string, ex: Exchange, startedAt: number): void {
    const bits = ex.cache;
    if (!bits || ex.status === 0) return;
    this.#known++;
    const v = verdictOf(bits);
    let n = this.#byName.get(name);
    if (!n) {
      if (this.#byName.size >= MAX_NAMES) name = '(other)';
      n = this.#byName.get(name);
      if (!n) this.#byName.set(name, (n = { verdicts: [0, 0, 0, 0, 0], problems: [0, 0, 0, 0] }));
    }
    if (v > 0) {
      this.#verdicts[v]!++;
      n.verdicts[v]!++;
      this.#latency[v as 1 | 2 | 3 | 4].recordUs((ex.endedAt - startedAt) * 1000);
    }
    for (let i = 0; i < PROBLEM_BITS.length; i++) if (bits & PROBLEM_BITS[i]!) n.problems[i]!++;
  }

  /** The interval's counters (null when no response carried a cache header); resets. */
  snapshot(): CacheSnapshot | null {
    if (this.#known === 0) return null;
    const latency: Record<string, string> = {};
    for (let v = 1; v < 5; v++) {
      const h = this.#latency[v as 1 | 2 | 3 | 4];
      if (h.count > 0) latency[CACHE_VERDICTS[v]!] = h.encode();
      h.reset();
    }
    const snap: CacheSnapshot = { verdicts: [...this.#verdicts], latency, byName: Object.fromEntries(this.#byName) };
    this.#known = 0;
    this.#verdicts.fill(0);
    this.#byName.clear();
    return snap;
  }
}

export { CACHE_PROBLEMS };

import { LatencyHistogram, percentileOfSorted, type RunResult } from '@redline/core';

/**
 * One resampling unit of a run: one second (or a block of consecutive seconds on long runs) with its
 * request and error counts and its corrected-latency histogram as sparse (value, count) pairs.
 */
export interface LoadUnit {
  seconds: number;
  requests: number;
  errors: number;
  /** Latency bucket values in ms (ascending) and their counts; empty without per-second histograms. */
  valuesMs: number[];
  counts: number[];
}

/** Latency percentiles the comparison reports, 0–100. */
export const COMPARED_PERCENTILES = [50, 90, 99, 99.9] as const;

/**
 * The seconds of a run in which load was applied (first to last second with traffic), without a
 * short last second, as resampling units; consecutive seconds are merged into blocks of `blockS`.
 * `histograms` is false when the run has no per-second histograms (`histograms.intervals`).
 */
export function loadUnits(result: RunResult, blockS = 1): { units: LoadUnit[]; histograms: boolean } {
  const ts = result.timeseries;
  const histograms = result.histograms.intervals.length === ts.length && ts.length > 0;
  const first = ts.findIndex((p) => p.requests > 0 || p.errors > 0);
  let last = ts.length - 1;
  while (last >= 0 && ts[last]!.requests === 0 && ts[last]!.errors === 0) last--;
  if (first < 0) return { units: [], histograms };
  // A last second cut short by the end of the run would read as a throughput drop.
  if (last > first && ts[last]!.t * 1000 > result.summary.durationMs + 1) last--;
  const units: LoadUnit[] = [];
  for (let i = first; i <= last; i += blockS) {
    const end = Math.min(last, i + blockS - 1);
    let requests = 0;
    let errors = 0;
    const merged = new Map<number, number>();
    for (let j = i; j <= end; j++) {
      requests += ts[j]!.requests;
      errors += ts[j]!.errors;
      if (histograms) {
        const enc = result.histograms.intervals[j]!;
        if (enc === '') continue;
        for (const [v, c] of LatencyHistogram.decode(enc).buckets()) merged.set(v, (merged.get(v) ?? 0) + c);
      }
    }
    const pairs = [...merged].sort((a, b) => a[0] - b[0]);
    units.push({ seconds: end - i + 1, requests, errors, valuesMs: pairs.map((p) => p[0]), counts: pairs.map((p) => p[1]) });
  }
  return { units, histograms };
}

/** Indexed form of units for fast resampling: every value mapped to its rank on a shared axis. */
export interface IndexedUnits {
  seconds: Float64Array;
  requests: Float64Array;
  errors: Float64Array;
  idx: Int32Array[];
  counts: Float64Array[];
}

/** Puts both sides' latency values on one sorted axis (returned) and indexes every unit into it. */
export function indexUnits(sides: LoadUnit[][]): { axisMs: Float64Array; sides: IndexedUnits[] } {
  const all = new Set<number>();
  for (const side of sides) for (const u of side) for (const v of u.valuesMs) all.add(v);
  const axis = Float64Array.from([...all].sort((a, b) => a - b));
  const rank = new Map<number, number>();
  axis.forEach((v, i) => rank.set(v, i));
  return {
    axisMs: axis,
    sides: sides.map((units) => ({
      seconds: Float64Array.from(units.map((u) => u.seconds)),
      requests: Float64Array.from(units.map((u) => u.requests)),
      errors: Float64Array.from(units.map((u) => u.errors)),
      idx: units.map((u) => Int32Array.from(u.valuesMs.map((v) => rank.get(v)!))),
      counts: units.map((u) => Float64Array.from(u.counts)),
    })),
  };
}

/** Statistics of one (re)sample of units: throughput (req/s), error rate (0–1) and latency percentiles (ms, null without latency data). */
export interface UnitStats {
  throughput: number;
  errorRate: number;
  percentilesMs: (number | null)[];
}

/**
 * Computes throughput, error rate and percentiles over the units picked by `draw` (indices, with
 * repeats). Percentiles come from the merged histogram of the picked units, as HDR defines them:
 * the smallest value with at least ⌈p·n⌉ samples at or below it.
 */
export function unitStats(u: IndexedUnits, draw: ArrayLike<number>, axisMs: Float64Array, scratch: Float64Array, percentiles: readonly number[]): UnitStats {
  let seconds = 0;
  let requests = 0;
  let errors = 0;
  scratch.fill(0);
  let total = 0;
  for (let k = 0; k < draw.length; k++) {
    const i = draw[k]!;
    seconds += u.seconds[i]!;
    requests += u.requests[i]!;
    errors += u.errors[i]!;
    const idx = u.idx[i]!;
    const c = u.counts[i]!;
    for (let j = 0; j < idx.length; j++) {
      scratch[idx[j]!]! += c[j]!;
      total += c[j]!;
    }
  }
  const out: (number | null)[] = percentiles.map(() => null);
  if (total > 0) {
    const targets = percentiles.map((p) => Math.max(1, Math.ceil((p / 100) * total - 1e-9)));
    let cum = 0;
    let k = 0;
    for (let i = 0; i < scratch.length && k < targets.length; i++) {
      cum += scratch[i]!;
      while (k < targets.length && cum >= targets[k]!) out[k++] = axisMs[i]!;
    }
  }
  return { throughput: seconds > 0 ? requests / seconds : 0, errorRate: requests > 0 ? errors / requests : 0, percentilesMs: out };
}

/** A bootstrap distribution of relative changes and the interval that holds `level` of it. */
export interface ChangeInterval {
  low: number;
  high: number;
}

/** The equal-tailed percentile interval of bootstrap replicates (NaN-free), or null when there are none. */
export function percentileInterval(replicates: number[], level: number): ChangeInterval | null {
  const xs = replicates.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const alpha = (1 - level) / 2;
  return { low: percentileOfSorted(xs, alpha * 100), high: percentileOfSorted(xs, (1 - alpha) * 100) };
}

/** Where one run's units sit in a side's flat list of units. */
export interface RunSpan {
  offset: number;
  length: number;
}

/**
 * Block length for the circular block bootstrap of a run of `n` units: ⌈n^⅓⌉ (the usual rate for
 * variance estimation), so neighbouring seconds, which share queueing, GC and a noisy neighbour,
 * are resampled together.
 */
export function blockLength(n: number): number {
  return Math.max(1, Math.ceil(Math.cbrt(n)));
}

/** The most indices {@link drawHierarchical} can write for these runs. */
export function maxDrawLength(runs: readonly RunSpan[]): number {
  return runs.length * Math.max(0, ...runs.map((r) => r.length));
}

/**
 * One hierarchical bootstrap draw over a side's runs, into `out`; returns how many indices it wrote.
 * Level 1: as many runs as the side has, drawn with replacement (this is what carries run-to-run
 * variance: JIT, placement, a noisy neighbour). Level 2: inside each drawn run, a circular block
 * bootstrap of its units with blocks of {@link blockLength} (this carries the variance within a run,
 * with its autocorrelation). With one run, only level 2 is left.
 */
export function drawHierarchical(rand: () => number, runs: readonly RunSpan[], out: Int32Array): number {
  let k = 0;
  for (let j = 0; j < runs.length; j++) {
    const run = runs[Math.floor(rand() * runs.length)]!;
    const n = run.length;
    const len = blockLength(n);
    let taken = 0;
    while (taken < n) {
      const start = Math.floor(rand() * n);
      for (let i = 0; i < len && taken < n; i++, taken++) out[k++] = run.offset + ((start + i) % n);
    }
  }
  return k;
}

import type { RunResult, StatsSeries } from '@redline/core';

/** One watched connection pool per second, for the report's timeline (seconds since run start). */
export interface PoolChartSeries {
  name: string;
  /** `pg`, `mysql2`, `tarn`, `generic-pool`, or `pool` when the series carries no driver. */
  driver: string;
  /** The pool's size limit (`max`), null when unknown. */
  max: number | null;
  /** The database server's connection limit for ordinary clients, when the probe read it. */
  serverMaxConnections: number | null;
  t: number[];
  /** Clients open at the end of the second. */
  size: (number | null)[];
  /** Clients handed out, time-weighted mean over the second, and the most at once. */
  inUseMean: (number | null)[];
  inUseMax: (number | null)[];
  /** Open clients not handed out, at the end of the second. */
  idle: (number | null)[];
  /** Callers waiting for a client: time-weighted mean over the second, and the most at once. */
  waitingMean: (number | null)[];
  waitingMax: (number | null)[];
  /** Acquire wait of the acquisitions completed in the second, ms: mean and p99 (null: none completed). */
  waitMeanMs: (number | null)[];
  waitP99Ms: (number | null)[];
  /** Hold time of the clients released in the second, ms (null: none released). */
  holdMeanMs: (number | null)[];
  /** Acquisitions per second. */
  acquires: (number | null)[];
}

const round = (v: number): number => Math.round(v * 1000) / 1000;

function column(series: StatsSeries, key: string, onlyWhen?: string): (number | null)[] {
  return series.samples.map((s) => {
    const v = s.values[key];
    // Wait and hold percentiles of a second without acquisitions (or releases) are no measurement.
    if (onlyWhen !== undefined && !((s.values[onlyWhen] ?? 0) > 0)) return null;
    return v === undefined || !Number.isFinite(v) ? null : round(v);
  });
}

/**
 * The per-second gauges of every pool the run watched (`target.pools`), drawn beside the load and
 * target charts: size, in use, idle and waiting, the acquire wait and the hold time. Empty for runs
 * without pools.
 */
export function poolChartData(result: RunResult): PoolChartSeries[] {
  return (result.target?.pools ?? []).map((series) => {
    const sorted: StatsSeries = { ...series, samples: [...series.samples].sort((a, b) => a.t - b.t) };
    const meta = series.meta ?? {};
    const max = typeof meta.max === 'number' && Number.isFinite(meta.max) ? meta.max : null;
    return {
      name: series.name,
      driver: typeof meta.driver === 'string' ? meta.driver : 'pool',
      max,
      serverMaxConnections: series.serverMaxConnections ?? null,
      t: sorted.samples.map((s) => s.t),
      size: column(sorted, 'size'),
      inUseMean: column(sorted, 'inUseMean'),
      inUseMax: column(sorted, 'inUseMax'),
      idle: column(sorted, 'idle'),
      waitingMean: column(sorted, 'waitingMean'),
      waitingMax: column(sorted, 'waitingMax'),
      waitMeanMs: column(sorted, 'waitMeanMs', 'acquires'),
      waitP99Ms: column(sorted, 'waitP99Ms', 'acquires'),
      holdMeanMs: column(sorted, 'holdMeanMs', 'releases'),
      acquires: column(sorted, 'acquires'),
    };
  });
}

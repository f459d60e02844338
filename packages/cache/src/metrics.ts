import type { CircuitState } from './circuit-breaker.js';
import type { EvictionReason } from './l1-store.js';

/** Upper bounds (ms) of the latency histogram buckets; the last bucket is +Inf. */
export const LATENCY_BUCKETS_MS: readonly number[] = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

/** A fixed-bucket histogram (Prometheus-style, cumulative on export) of millisecond values. */
export class BucketHistogram {
  readonly counts = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);
  count = 0;
  sumMs = 0;
  maxMs = 0;

  /** Records one value in ms (negative values count as 0). */
  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && v > LATENCY_BUCKETS_MS[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sumMs += v;
    if (v > this.maxMs) this.maxMs = v;
  }

  /** Approximate quantile (0–1) in ms: the upper bound of the bucket holding it (max for +Inf). */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(LATENCY_BUCKETS_MS[i] ?? this.maxMs, this.maxMs);
    }
    return this.maxMs;
  }

  /** Plain-object summary. */
  summary(): HistogramSummary {
    return {
      count: this.count,
      meanMs: this.count === 0 ? 0 : this.sumMs / this.count,
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
      maxMs: this.maxMs,
    };
  }
}

/** Summary of a latency histogram; quantiles are bucket upper bounds (coarse by design). */
export interface HistogramSummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Mutable counters of one cache instance; the hot path increments these fields directly. */
export class CacheCounters {
  hitsL1 = 0;
  hitsL2 = 0;
  misses = 0;
  /** Negative ("not found") entries served. */
  negativeHits = 0;
  /** Stale values served because the factory failed (grace) or was in backoff after failing. */
  staleGrace = 0;
  /** Stale values served because the factory exceeded the soft timeout. */
  staleSoftTimeout = 0;
  /** Stale values served to `get({ allowStale: true })`. */
  staleRead = 0;
  sets = 0;
  deletes = 0;
  factoryCalls = 0;
  factoryErrors = 0;
  hardTimeouts = 0;
  /** Callers that joined an in-flight factory call instead of starting one. */
  waitersMerged = 0;
  /** Callers on this instance that waited for another instance's lease lock. */
  lockWaits = 0;
  locksAcquired = 0;
  /** Lock waits that gave up and ran the factory locally. */
  lockTimeouts = 0;
  /** Values found in L2 after waiting on another instance's lock. */
  lockWaitHits = 0;
  l2Errors = 0;
  /** L2 calls skipped because the circuit was open. */
  l2Skipped = 0;
  /** Entries in L2 that could not be decoded (treated as misses). */
  l2Corrupt = 0;
  busPublished = 0;
  busReceived = 0;
  busErrors = 0;
  busReconnects = 0;
  /** Edge (L3) invalidation requests sent, and those that failed. */
  edgeRequests = 0;
  edgeErrors = 0;
  readonly evictions: Record<EvictionReason, number> = { capacity: 0, expired: 0, deleted: 0, invalidated: 0, cleared: 0 };
  readonly factoryMs = new BucketHistogram();
  readonly l2Ms = new BucketHistogram();
  readonly busLagMs = new BucketHistogram();
}

/** A point-in-time view of a cache's metrics (plain data, safe to JSON.stringify). */
export interface CacheStats {
  name: string;
  hits: { l1: number; l2: number; total: number };
  misses: number;
  /** hits / (hits + misses), 0 when idle; stale and negative hits count as hits. */
  hitRatio: number;
  negativeHits: number;
  stale: { grace: number; softTimeout: number; read: number };
  sets: number;
  deletes: number;
  factory: { calls: number; errors: number; hardTimeouts: number; waitersMerged: number; durationMs: HistogramSummary };
  lock: { acquired: number; waits: number; waitHits: number; timeouts: number };
  evictions: Record<EvictionReason, number>;
  /** `maxSizeBytes` is `Infinity` (`null` in JSON) when L1 is not byte-bounded. */
  l1: { entries: number; sizeBytes: number; maxEntries: number; maxSizeBytes: number; policy: string } | undefined;
  l2: { errors: number; skipped: number; corrupt: number; circuit: CircuitState; latencyMs: HistogramSummary } | undefined;
  bus: { published: number; received: number; errors: number; reconnects: number; lagMs: HistogramSummary } | undefined;
  /** Edge (L3) invalidations: requests sent to the endpoints and how many failed; absent without `edge`. */
  edge?: { requests: number; errors: number };
}

/** Renders stats (plus the raw histograms) in the Prometheus text exposition format. */
export function renderPrometheus(stats: CacheStats, counters: CacheCounters): string {
  const name = stats.name.replace(/["\\\n]/g, '_');
  const lines: string[] = [];
  const metric = (metricName: string, type: 'counter' | 'gauge', help: string, samples: Array<[string, number]>): void => {
    lines.push(`# HELP ${metricName} ${help}`, `# TYPE ${metricName} ${type}`);
    for (const [labels, value] of samples) lines.push(`${metricName}{cache="${name}"${labels}} ${value}`);
  };
  const histogram = (metricName: string, help: string, h: BucketHistogram): void => {
    lines.push(`# HELP ${metricName} ${help}`, `# TYPE ${metricName} histogram`);
    let cumulative = 0;
    for (let i = 0; i < h.counts.length; i++) {
      cumulative += h.counts[i]!;
      const le = i < LATENCY_BUCKETS_MS.length ? String(LATENCY_BUCKETS_MS[i]! / 1000) : '+Inf';
      lines.push(`${metricName}_bucket{cache="${name}",le="${le}"} ${cumulative}`);
    }
    lines.push(`${metricName}_sum{cache="${name}"} ${h.sumMs / 1000}`, `${metricName}_count{cache="${name}"} ${h.count}`);
  };
  metric('redline_cache_hits_total', 'counter', 'Cache hits by tier.', [[',tier="l1"', stats.hits.l1], [',tier="l2"', stats.hits.l2]]);
  metric('redline_cache_misses_total', 'counter', 'Cache misses (no fresh value in any tier).', [['', stats.misses]]);
  metric('redline_cache_negative_hits_total', 'counter', 'Cached "not found" results served.', [['', stats.negativeHits]]);
  metric('redline_cache_stale_served_total', 'counter', 'Stale values served, by reason.', [
    [',reason="grace"', stats.stale.grace],
    [',reason="soft_timeout"', stats.stale.softTimeout],
    [',reason="read"', stats.stale.read],
  ]);
  metric('redline_cache_factory_calls_total', 'counter', 'Factory (loader) invocations.', [['', stats.factory.calls]]);
  metric('redline_cache_factory_errors_total', 'counter', 'Factory invocations that threw or rejected.', [['', stats.factory.errors]]);
  metric('redline_cache_hard_timeouts_total', 'counter', 'getOrSet calls rejected by the hard timeout.', [['', stats.factory.hardTimeouts]]);
  metric('redline_cache_waiters_merged_total', 'counter', 'Callers that joined an in-flight factory call.', [['', stats.factory.waitersMerged]]);
  metric('redline_cache_lock_total', 'counter', 'Distributed lease-lock outcomes.', [
    [',outcome="acquired"', stats.lock.acquired],
    [',outcome="waited"', stats.lock.waits],
    [',outcome="wait_hit"', stats.lock.waitHits],
    [',outcome="timeout"', stats.lock.timeouts],
  ]);
  metric(
    'redline_cache_evictions_total',
    'counter',
    'Entries removed from L1, by reason.',
    Object.entries(stats.evictions).map(([reason, n]) => [`,reason="${reason}"`, n]),
  );
  if (stats.l1 !== undefined) {
    metric('redline_cache_l1_entries', 'gauge', 'Entries held in L1.', [['', stats.l1.entries]]);
    metric('redline_cache_l1_size_bytes', 'gauge', 'Approximate bytes held in L1 (when byte-bounded).', [['', stats.l1.sizeBytes]]);
  }
  if (stats.l2 !== undefined) {
    metric('redline_cache_l2_errors_total', 'counter', 'Failed L2 calls.', [['', stats.l2.errors]]);
    metric('redline_cache_l2_skipped_total', 'counter', 'L2 calls skipped while the circuit was open.', [['', stats.l2.skipped]]);
    metric('redline_cache_l2_circuit_state', 'gauge', 'L2 circuit: 0 closed, 1 half-open, 2 open.', [
      ['', stats.l2.circuit === 'closed' ? 0 : stats.l2.circuit === 'half-open' ? 1 : 2],
    ]);
    histogram('redline_cache_l2_duration_seconds', 'L2 call latency.', counters.l2Ms);
  }
  if (stats.bus !== undefined) {
    metric('redline_cache_bus_messages_total', 'counter', 'Invalidation bus messages.', [
      [',direction="published"', stats.bus.published],
      [',direction="received"', stats.bus.received],
    ]);
    metric('redline_cache_bus_errors_total', 'counter', 'Invalidation bus errors.', [['', stats.bus.errors]]);
    metric('redline_cache_bus_reconnects_total', 'counter', 'Bus resubscriptions (L1 dropped each time).', [['', stats.bus.reconnects]]);
    histogram('redline_cache_bus_lag_seconds', 'Invalidation propagation lag (publish to receipt).', counters.busLagMs);
  }
  histogram('redline_cache_factory_duration_seconds', 'Factory call duration.', counters.factoryMs);
  return `${lines.join('\n')}\n`;
}

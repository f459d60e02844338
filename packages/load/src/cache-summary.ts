import { LatencyHistogram, type CacheSummary, type TimeseriesPoint } from '@redline/core';
import type { CacheSnapshot } from './cache-recorder.js';
import { CACHE_PROBLEMS, CACHE_VERDICTS } from './cache-verdict.js';

/** Error kinds that still carry a response (a status), so the response counts toward verdicts. */
const RESPONSE_KINDS = new Set(['http_4xx', 'http_5xx']);
/** A second needs at least this many misses to be an expiry spike. */
const SPIKE_MIN_MISSES = 10;
/** ... and this many times the run's median misses per second ... */
const SPIKE_MEDIAN_FACTOR = 4;
/** ... and misses must be this share of its lookups. */
const SPIKE_MIN_MISS_SHARE = 0.25;
/** At most this many spikes are listed (the largest). */
const MAX_SPIKES = 50;

type Counts = { hit: number; miss: number; stale: number; bypass: number; unknown: number };
type NameCounts = Counts & { uncacheable: number; varyStar: number; setCookieOnCacheable: number; noValidators: number };

const zero = (): Counts => ({ hit: 0, miss: 0, stale: 0, bypass: 0, unknown: 0 });

function addVerdicts(into: Counts, verdicts: readonly number[]): void {
  into.hit += verdicts[1] ?? 0;
  into.miss += verdicts[2] ?? 0;
  into.stale += verdicts[3] ?? 0;
  into.bypass += verdicts[4] ?? 0;
}

/** Responses (requests with a status) of one second of the time series. */
function responsesOf(point: TimeseriesPoint): number {
  let failed = 0;
  for (const [kind, n] of Object.entries(point.errorsByKind)) if (!RESPONSE_KINDS.has(kind)) failed += n;
  return Math.max(0, point.requests - failed);
}

/** Run totals of the workers' cache snapshots: per second, per verdict, per request name. */
export class CacheAggregate {
  readonly #perSecond: Array<Counts & { t: number }> = [];
  readonly #latency = new Map<string, LatencyHistogram>();
  readonly #byName = new Map<string, NameCounts>();
  #seen = false;

  /** Folds one second's snapshots (those that carry `cache`) in; `point` is that second of the time series. */
  addSecond(point: TimeseriesPoint, snaps: ReadonlyArray<CacheSnapshot | undefined>): void {
    const sec = { t: point.t, ...zero() };
    for (const c of snaps) {
      if (!c) continue;
      this.#seen = true;
      addVerdicts(sec, c.verdicts);
      for (const [verdict, encoded] of Object.entries(c.latency)) {
        let h = this.#latency.get(verdict);
        if (!h) this.#latency.set(verdict, (h = new LatencyHistogram()));
        h.merge(LatencyHistogram.decode(encoded));
      }
      for (const [name, n] of Object.entries(c.byName)) {
        let into = this.#byName.get(name);
        if (!into) this.#byName.set(name, (into = { ...zero(), uncacheable: 0, varyStar: 0, setCookieOnCacheable: 0, noValidators: 0 }));
        addVerdicts(into, n.verdicts);
        CACHE_PROBLEMS.forEach((p, i) => (into[p] += n.problems[i] ?? 0));
      }
    }
    sec.unknown = Math.max(0, responsesOf(point) - sec.hit - sec.miss - sec.stale - sec.bypass);
    this.#perSecond.push(sec);
  }

  /** The run's cache summary, or undefined when no response carried a cache header. */
  summary(): CacheSummary | undefined {
    if (!this.#seen) return undefined;
    const total = zero();
    for (const s of this.#perSecond) {
      for (const v of CACHE_VERDICTS) total[v] += s[v];
    }
    const responses = total.hit + total.miss + total.stale + total.bypass + total.unknown;
    const served = total.hit + total.stale;
    const lookups = served + total.miss;
    // Per-name unknowns are not counted on the hot path; they are the name's share of none.
    const byName: CacheSummary['byName'] = Object.fromEntries([...this.#byName].sort(([a], [b]) => a.localeCompare(b)));
    return {
      responses,
      ...total,
      hitRatio: lookups > 0 ? served / lookups : null,
      offload: responses > 0 ? served / responses : 0,
      latency: Object.fromEntries([...this.#latency].map(([v, h]) => [v, h.summary()])),
      perSecond: this.#perSecond,
      expirySpikes: findExpirySpikes(this.#perSecond),
      byName,
    };
  }
}

/**
 * Seconds in which misses burst: at least SPIKE_MIN_MISSES, SPIKE_MEDIAN_FACTOR × the run's median
 * misses per second, and SPIKE_MIN_MISS_SHARE of the second's lookups. A spike before any hit is
 * the cold start (`cold`), not an expiry.
 */
export function findExpirySpikes(perSecond: ReadonlyArray<Counts & { t: number }>): CacheSummary['expirySpikes'] {
  const withLookups = perSecond.filter((s) => s.hit + s.stale + s.miss > 0);
  if (withLookups.length === 0) return [];
  const sorted = withLookups.map((s) => s.miss).sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const spikes: CacheSummary['expirySpikes'] = [];
  let hitBefore = false;
  for (const s of withLookups) {
    const lookups = s.hit + s.stale + s.miss;
    if (s.miss >= SPIKE_MIN_MISSES && s.miss >= SPIKE_MEDIAN_FACTOR * median && s.miss >= SPIKE_MIN_MISS_SHARE * lookups) {
      spikes.push({ t: s.t, misses: s.miss, baselineMisses: median, hitRatio: (s.hit + s.stale) / lookups, cold: !hitBefore });
    }
    if (s.hit + s.stale > 0) hitBefore = true;
  }
  return spikes.sort((a, b) => b.misses - a.misses).slice(0, MAX_SPIKES).sort((a, b) => a.t - b.t);
}

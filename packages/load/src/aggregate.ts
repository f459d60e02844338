import {
  LatencyHistogram,
  type ErrorCounts,
  type GeneratorSecond,
  type LatencySummary,
  type TimeseriesPoint,
  type TrafficSummary,
} from '@redline/core';
import { mergeCustomMetric, type CustomMetricTotal } from './custom-metrics.js';
import { ProtocolTotalsBuilder } from './protocol-counters.js';
import { CacheAggregate } from './cache-summary.js';
import type { IntervalSnapshot, SliceSnapshot } from './recorder.js';
import type { MetricSource } from './thresholds.js';

/** Run-total state of one traffic slice. */
class TotalSlice {
  readonly service = new LatencyHistogram();
  /**
   * Null while every snapshot's latency equalled its service time (closed models, open models
   * without late starts): the latency histogram is then `service` itself, merged and summarised once.
   */
  #latency: LatencyHistogram | null = null;
  requests = 0;
  errors = 0;
  errorsByKind: ErrorCounts = {};

  /** Latency (service time plus any late start) over the run. */
  get latency(): LatencyHistogram {
    return this.#latency ?? this.service;
  }

  /** Adds one snapshot of this slice (its histograms merged straight from their encoding). */
  add(s: SliceSnapshot): void {
    // The worker sends the same encoding twice when no exchange started late.
    if (this.#latency === null && s.latency !== s.service) this.#latency = new LatencyHistogram().merge(this.service);
    this.service.mergeEncoded(s.service);
    this.#latency?.mergeEncoded(s.latency);
    this.requests += s.requests;
    this.errors += s.errors;
    addCounts(this.errorsByKind, s.errorsByKind);
  }

  /** Both histograms encoded (once when they are the same). */
  encoded(): { latency: string; serviceTime: string } {
    const serviceTime = this.service.encode();
    return { latency: this.#latency ? this.#latency.encode() : serviceTime, serviceTime };
  }

  /**
   * Adds a second already merged from its snapshots (histograms merged, not decoded again); `latency`
   * is null when it equalled the service time that second.
   */
  addMerged(latency: LatencyHistogram | null, service: LatencyHistogram, requests: number, errors: number, errorsByKind: ErrorCounts): void {
    if (this.#latency === null && latency !== null) this.#latency = new LatencyHistogram().merge(this.service);
    this.service.merge(service);
    this.#latency?.merge(latency ?? service);
    this.requests += requests;
    this.errors += errors;
    addCounts(this.errorsByKind, errorsByKind);
  }

  summary(seconds: number): TrafficSummary {
    let timed = {};
    if (this.service.count > 0) {
      const serviceTime = this.service.summary();
      timed = { latency: this.#latency ? this.#latency.summary() : { ...serviceTime }, serviceTime };
    }
    return {
      requests: this.requests,
      errors: this.errors,
      errorsByKind: { ...this.errorsByKind },
      throughput: seconds > 0 ? this.requests / seconds : 0,
      // No timed exchange, no percentiles: absent rather than a misleading 0 ms.
      ...timed,
    };
  }
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

const QUAD = [50, 90, 99, 100];
const LAG_QUANTILES = [50, 99, 100];

function quad(h: LatencyHistogram): { p50: number; p90: number; p99: number; max: number } | null {
  if (h.count === 0) return null;
  const [p50, p90, p99, max] = h.percentilesMs(QUAD) as [number, number, number, number];
  return { p50, p90, p99, max };
}

/**
 * Merges interval snapshots from all workers into run totals, a per-second time series and the
 * generator's per-second self-check. Merging histograms is lossless, so totals equal what a
 * single recorder would have seen.
 */
export class RunAggregate implements MetricSource {
  readonly slices = new Map<string, TotalSlice>();
  readonly lag = new LatencyHistogram();
  readonly timeseries: TimeseriesPoint[] = [];
  readonly generatorSeconds: GeneratorSecond[] = [];
  readonly intervalHistograms: string[] = [];
  /** The last second's corrected-latency histogram, decoded (the object `intervalHistograms.at(-1)` encodes; read-only for consumers). */
  lastSecondLatency: LatencyHistogram | null = null;
  /** Encoded per-second service-time histograms, index i ↔ timeseries[i]. */
  readonly serviceIntervalHistograms: string[] = [];
  readonly iterations: Record<string, number> = {};
  readonly dropped: Record<string, number> = {};
  readonly iterationErrors: Record<string, number> = {};
  readonly checks: Record<string, [number, number]> = {};
  bytesSent = 0;
  bytesReceived = 0;
  vusMax = 0;
  firstIterationError: string | null = null;
  /** Run-total histograms of the request phases (`dns`, `connect`, `tls`, `waiting`, `receiving`). */
  readonly timings = new Map<string, LatencyHistogram>();
  /** Latest cumulative HTTP/2 counters by worker. */
  readonly http2ByWorker = new Map<number, NonNullable<IntervalSnapshot['http2']>>();
  /** Run-total group durations by group path. */
  readonly groupDurations = new Map<string, LatencyHistogram>();
  /** Run totals of the custom metrics by name. */
  readonly custom = new Map<string, CustomMetricTotal>();
  /** gRPC statuses and WebSocket events summed over workers and seconds. */
  readonly protocols = new ProtocolTotalsBuilder();
  /** Scripted responses whose Content-Encoding was decoded, with body bytes on the wire and decoded (null when none). */
  compression: { responses: number; wireBytes: number; decodedBytes: number } | null = null;
  /** Cache verdicts per second, per verdict and per request name. */
  readonly cache = new CacheAggregate();
  readonly #vusMaxByWorker = new Map<number, number>();
  #elapsedMs = 0;

  slice(key: string): TotalSlice {
    let s = this.slices.get(key);
    if (!s) this.slices.set(key, (s = new TotalSlice()));
    return s;
  }

  /** Folds one second (all workers' snapshots for that index) into the totals and the series. */
  addSecond(index: number, snaps: readonly IntervalSnapshot[], cpuCores: number, elapsedMs: number): TimeseriesPoint {
    this.#elapsedMs = elapsedMs;
    const secService = new LatencyHistogram();
    // Stays null while every worker's latency equalled its service time this second.
    let secLatency: LatencyHistogram | null = null;
    const secLag = new LatencyHistogram();
    let requests = 0;
    let errors = 0;
    const errorsByKind: ErrorCounts = {};
    let iterations = 0;
    let dropped = 0;
    let intended = 0;
    let vus = 0;
    let eluMax = 0;
    let inFlight = 0;
    let open = false;
    let hasAll = false;
    for (const snap of snaps) {
      for (const [key, s] of Object.entries(snap.slices)) {
        // The second's own histograms are the "all" slice's: each encoding is read once, and the
        // run total takes the merged second (below) instead of every snapshot again.
        if (key === 'all') {
          hasAll = true;
          if (secLatency === null && s.latency !== s.service) secLatency = new LatencyHistogram().merge(secService);
          secService.mergeEncoded(s.service);
          secLatency?.mergeEncoded(s.latency);
          requests += s.requests;
          errors += s.errors;
          addCounts(errorsByKind, s.errorsByKind);
        } else this.slice(key).add(s);
      }
      addCounts(this.iterations, snap.iterations);
      addCounts(this.dropped, snap.dropped);
      addCounts(this.iterationErrors, snap.iterationErrors);
      for (const [name, [p, f]] of Object.entries(snap.checks)) {
        const c = (this.checks[name] ??= [0, 0]);
        c[0] += p;
        c[1] += f;
      }
      for (const v of Object.values(snap.iterations)) iterations += v;
      for (const v of Object.values(snap.dropped)) dropped += v;
      intended += snap.intended;
      vus += snap.vus;
      eluMax = Math.max(eluMax, snap.elu);
      inFlight += snap.inFlight ?? 0;
      open ||= snap.hasOpenModel;
      this.bytesSent += snap.bytesSent;
      this.bytesReceived += snap.bytesReceived;
      if (snap.lag) secLag.mergeEncoded(snap.lag);
      this.#vusMaxByWorker.set(snap.worker, Math.max(this.#vusMaxByWorker.get(snap.worker) ?? 0, snap.vusMax));
      this.firstIterationError ??= snap.firstIterationError;
      if (snap.http2) this.http2ByWorker.set(snap.worker, snap.http2);
      if (snap.groups) {
        for (const [path, encoded] of Object.entries(snap.groups)) {
          let h = this.groupDurations.get(path);
          if (!h) this.groupDurations.set(path, (h = new LatencyHistogram()));
          h.merge(LatencyHistogram.decode(encoded));
        }
      }
      if (snap.custom) for (const [name, m] of Object.entries(snap.custom)) mergeCustomMetric(this.custom, name, m);
      this.protocols.add(snap);
      if (snap.compression) {
        const c = (this.compression ??= { responses: 0, wireBytes: 0, decodedBytes: 0 });
        c.responses += snap.compression.responses;
        c.wireBytes += snap.compression.wireBytes;
        c.decodedBytes += snap.compression.decodedBytes;
      }
      if (snap.timings) {
        for (const [phase, encoded] of Object.entries(snap.timings)) {
          let h = this.timings.get(phase);
          if (!h) this.timings.set(phase, (h = new LatencyHistogram()));
          h.mergeEncoded(encoded);
        }
      }
    }
    if (hasAll) this.slice('all').addMerged(secLatency, secService, requests, errors, errorsByKind);
    this.vusMax = [...this.#vusMaxByWorker.values()].reduce((a, b) => a + b, 0);
    this.lag.merge(secLag);
    const serviceEncoded = secService.encode();
    this.intervalHistograms.push(secLatency ? secLatency.encode() : serviceEncoded);
    this.lastSecondLatency = secLatency ?? secService;
    this.serviceIntervalHistograms.push(serviceEncoded);
    const [lagP50, lagP99, lagMax] = secLag.percentilesMs(LAG_QUANTILES) as [number, number, number];
    const lagQ = { p50: lagP50, p99: lagP99, max: lagMax };
    const serviceQuad = quad(secService);
    const point: TimeseriesPoint = {
      t: index,
      requests,
      errors,
      errorsByKind,
      // Refused connections count in the corrected latency but were never timed: a second whose
      // requests were all refused has no latency, as a run without any has no latency summary.
      latency: secService.count === 0 ? null : secLatency ? quad(secLatency) : { ...serviceQuad! },
      serviceTime: serviceQuad,
      iterations,
      iterationsDropped: dropped,
      vus,
      inFlight,
      intendedRate: open ? intended : null,
      scheduleLagMs: lagQ,
    };
    this.timeseries.push(point);
    this.cache.addSecond(point, snaps.map((snap) => snap.cache));
    this.generatorSeconds.push({
      t: index,
      intendedRate: open ? intended : null,
      // Iterations that ran in this second. (intended − dropped would go negative in the second an
      // open model's backlog is dropped, at the end of its schedule.)
      achievedRate: iterations,
      scheduleLagMs: lagQ,
      elu: eluMax,
      cpuCores,
    });
    return point;
  }

  // MetricSource, for thresholds
  histogram(metric: 'http.latency' | 'http.service_time', slice: string): LatencyHistogram | null {
    const s = this.slices.get(slice);
    if (!s) return null;
    return metric === 'http.latency' ? s.latency : s.service;
  }
  lagHistogram(): LatencyHistogram | null {
    return this.lag;
  }
  timingHistogram(phase: string): LatencyHistogram | null {
    return this.timings.get(phase) ?? null;
  }
  groupHistogram(path?: string): LatencyHistogram | null {
    if (path !== undefined) return this.groupDurations.get(path) ?? null;
    const all = new LatencyHistogram();
    for (const h of this.groupDurations.values()) all.merge(h);
    return all;
  }
  customMetric(name: string): CustomMetricTotal | null {
    return this.custom.get(name) ?? null;
  }
  counts(slice: string): { requests: number; errors: number } | null {
    const s = this.slices.get(slice);
    return s ? { requests: s.requests, errors: s.errors } : null;
  }
  errorKindCount(slice: string, kind: string): number {
    return this.slices.get(slice)?.errorsByKind[kind] ?? 0;
  }
  checkCounts(name?: string): { passes: number; fails: number } {
    let passes = 0;
    let fails = 0;
    for (const [n, [p, f]] of Object.entries(this.checks)) {
      if (name !== undefined && n !== name) continue;
      passes += p;
      fails += f;
    }
    return { passes, fails };
  }
  iterationCounts(scenario?: string): { done: number; dropped: number } {
    const sum = (r: Record<string, number>): number => (scenario !== undefined ? (r[scenario] ?? 0) : Object.values(r).reduce((a, b) => a + b, 0));
    return { done: sum(this.iterations), dropped: sum(this.dropped) };
  }
  elapsedSeconds(): number {
    return this.#elapsedMs / 1000;
  }
}

/** A LatencySummary of zeros. */
export function emptySummary(): LatencySummary {
  return new LatencyHistogram().summary();
}

import { LatencyHistogram, type ResolvedStage, type RunResult } from '@redline/core';
import { poolChartData, type PoolChartSeries } from './pool-chart-data.js';

/** A shaded band on the time axis (a load stage, or the profiled window), seconds since run start. */
export interface TimeBand {
  startS: number;
  endS: number;
  label: string;
}

/** The HDR percentile spectrum of corrected latency and service time on a shared percentile axis. */
export interface SpectrumData {
  /** Percentiles 0–100. */
  percentiles: number[];
  /** Corrected latency (ms) at each percentile. */
  latencyMs: number[];
  /** Service time (ms) at each percentile. */
  serviceMs: number[];
}

/** Per-second series of the target process, aligned on the run clock. */
export interface TargetSeries {
  t: number[];
  elu: number[];
  loopDelayP99Ms: number[];
  loopDelayMeanMs: number[];
  gcShare: number[];
  heapUsedMiB: number[];
  heapTotalMiB: number[];
  rssMiB: number[];
  cpuCores: number[];
  /**
   * Process I/O per second from /proc/self/io, MiB: through read/write calls (`rcharMiB`, `wcharMiB`)
   * and to or from storage (`readMiB`, `writeMiB`); null where the probe could not read it.
   */
  io: { rcharMiB: (number | null)[]; wcharMiB: (number | null)[]; readMiB: (number | null)[]; writeMiB: (number | null)[] } | null;
}

/** What the report page's charts draw; everything is per second since run start. */
export interface ReportChartData {
  t: number[];
  requestsPerSec: number[];
  errorsPerSec: number[];
  intendedRate: (number | null)[];
  /** Per-second latency percentiles; null in a second without responses. */
  latency: { p50: (number | null)[]; p90: (number | null)[]; p99: (number | null)[]; max: (number | null)[] };
  serviceTime: { p50: (number | null)[]; p90: (number | null)[]; p99: (number | null)[]; max: (number | null)[] };
  errorsByKind: Record<string, number[]>;
  vus: number[];
  scheduleLagP99Ms: number[];
  stages: TimeBand[];
  profileWindow: TimeBand | null;
  spectrum: SpectrumData | null;
  target: TargetSeries | null;
  /** Watched connection pools, per second (empty without any). */
  pools: PoolChartSeries[];
}

/**
 * The stage bands of every ramping scenario (`options.stages`), placed at the scenario's start.
 * Scenarios without stages give none.
 */
export function stageBands(result: RunResult): TimeBand[] {
  const bands: TimeBand[] = [];
  const multi = result.config.scenarios.length > 1;
  for (const sc of result.config.scenarios) {
    const stages = (sc.options as { stages?: unknown }).stages;
    if (!Array.isArray(stages)) continue;
    let at = sc.startMs / 1000;
    stages.forEach((raw: unknown, i: number) => {
      const st = raw as Partial<ResolvedStage>;
      if (typeof st.durationMs !== 'number' || typeof st.target !== 'number') return;
      const end = at + st.durationMs / 1000;
      bands.push({ startS: at, endS: end, label: `${multi ? `${sc.name} ` : ''}stage ${i + 1} → ${st.target}` });
      at = end;
    });
  }
  return bands;
}

/**
 * The percentile spectrum of two histograms on one axis: percentiles evenly spaced on a log scale of
 * 1/(1−p), `pointsPerNine` per nine, up to the nines the sample count supports, plus the max.
 */
export function spectrumOf(latency: LatencyHistogram, service: LatencyHistogram, pointsPerNine = 12): SpectrumData | null {
  const count = Math.max(latency.count, service.count);
  if (count === 0) return null;
  const nines = Math.max(1, Math.ceil(Math.log10(count)));
  const percentiles: number[] = [];
  for (let i = 0; i < nines * pointsPerNine; i++) percentiles.push(100 * (1 - 10 ** (-i / pointsPerNine)));
  percentiles.push(100);
  const at = (h: LatencyHistogram, p: number): number => (p >= 100 ? h.maxMs : h.percentileMs(p));
  return {
    percentiles,
    latencyMs: percentiles.map((p) => at(latency, p)),
    serviceMs: percentiles.map((p) => at(service, p)),
  };
}

const MIB = 1024 * 1024;
const round = (v: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
};

/** Builds the chart data of a run: its time series, stages, spectrum and target samples. */
export function chartData(result: RunResult): ReportChartData {
  // Seconds that lie (almost) wholly after the measured duration are the drain, not load: a last point
  // holding a few stragglers would draw as a throughput collapse. The summary still counts them.
  const endS = result.summary.durationMs / 1000;
  let keep = result.timeseries.length;
  while (keep > 1 && endS - (result.timeseries[keep - 1]!.t - 1) < 0.25) keep--;
  const ts = result.timeseries.slice(0, keep);
  const kinds = new Set<string>();
  for (const p of ts) for (const k of Object.keys(p.errorsByKind)) kinds.add(k);
  const errorsByKind: Record<string, number[]> = {};
  for (const k of [...kinds].sort()) errorsByKind[k] = ts.map((p) => p.errorsByKind[k] ?? 0);
  // Each point covers one second, so its count is already a per-second rate, except a short last second.
  const perSec = (p: { t: number }, v: number, i: number): number => {
    const lastPartial = i === ts.length - 1 ? result.summary.durationMs / 1000 - (p.t - 1) : 1;
    return lastPartial > 0.05 && lastPartial < 1 ? round(v / lastPartial, 2) : v;
  };
  let spectrum: SpectrumData | null = null;
  if (result.histograms.latency !== '' && result.histograms.serviceTime !== '') {
    spectrum = spectrumOf(LatencyHistogram.decode(result.histograms.latency), LatencyHistogram.decode(result.histograms.serviceTime));
  }
  const samples = [...(result.target?.samples ?? [])].sort((a, b) => a.t - b.t);
  const target: TargetSeries | null =
    samples.length === 0
      ? null
      : {
          t: samples.map((s) => s.t),
          elu: samples.map((s) => round(s.elu, 4)),
          loopDelayP99Ms: samples.map((s) => round(s.loopDelayMs.p99, 3)),
          loopDelayMeanMs: samples.map((s) => round(s.loopDelayMs.mean, 3)),
          gcShare: samples.map((s) => round(s.gcShare, 4)),
          heapUsedMiB: samples.map((s) => round(s.heapUsedBytes / MIB, 2)),
          heapTotalMiB: samples.map((s) => round(s.heapTotalBytes / MIB, 2)),
          rssMiB: samples.map((s) => round(s.rssBytes / MIB, 2)),
          cpuCores: samples.map((s) => round(s.cpuUser + s.cpuSystem, 3)),
          io: samples.some((s) => s.io !== undefined)
            ? {
                rcharMiB: samples.map((s) => (s.io === undefined ? null : round(s.io.rchar / MIB, 3))),
                wcharMiB: samples.map((s) => (s.io === undefined ? null : round(s.io.wchar / MIB, 3))),
                readMiB: samples.map((s) => (s.io === undefined ? null : round(s.io.readBytes / MIB, 3))),
                writeMiB: samples.map((s) => (s.io === undefined ? null : round(s.io.writeBytes / MIB, 3))),
              }
            : null,
        };
  const pw = result.target?.profileWindow ?? null;
  // A second without responses has no latency: a gap in the chart, not a drop to 0 ms.
  const lat = (k: 'p50' | 'p90' | 'p99' | 'max'): (number | null)[] => ts.map((p) => (p.latency === null ? null : round(p.latency[k], 3)));
  const svc = (k: 'p50' | 'p90' | 'p99' | 'max'): (number | null)[] => ts.map((p) => (p.serviceTime === null ? null : round(p.serviceTime[k], 3)));
  return {
    t: ts.map((p) => p.t),
    requestsPerSec: ts.map((p, i) => perSec(p, p.requests, i)),
    errorsPerSec: ts.map((p, i) => perSec(p, p.errors, i)),
    intendedRate: ts.map((p) => intendedPerSec(p, scheduleEndS(result))),
    latency: { p50: lat('p50'), p90: lat('p90'), p99: lat('p99'), max: lat('max') },
    serviceTime: { p50: svc('p50'), p90: svc('p90'), p99: svc('p99'), max: svc('max') },
    errorsByKind,
    vus: ts.map((p) => p.vus),
    scheduleLagP99Ms: ts.map((p) => round(p.scheduleLagMs.p99, 3)),
    stages: stageBands(result),
    profileWindow: pw === null ? null : { startS: pw.startS, endS: pw.endS, label: 'CPU profile' },
    spectrum,
    target,
    pools: poolChartData(result),
  };
}

/** When the open-model schedule ends, in run seconds (the latest scenario end; null for closed models). */
function scheduleEndS(result: RunResult): number | null {
  let end: number | null = null;
  for (const s of result.config.scenarios) {
    if (!s.executor.endsWith('arrival-rate')) continue;
    const o = s.options as { durationMs?: number; stages?: Array<{ durationMs: number }> };
    const length = o.durationMs ?? (o.stages ?? []).reduce((a, st) => a + st.durationMs, 0);
    end = Math.max(end ?? 0, (s.startMs + length) / 1000);
  }
  return end;
}

/**
 * The intended rate of second `p.t` (covering (t−1, t]) per full second: a second cut by the end of
 * the schedule is scaled to its scheduled part, and drain seconds after the schedule have no intended
 * rate (null, not 0, which would draw as a ramp-down that never happened).
 */
function intendedPerSec(p: { t: number; intendedRate: number | null }, endS: number | null): number | null {
  if (p.intendedRate === null || endS === null) return p.intendedRate;
  const scheduled = Math.min(1, endS - (p.t - 1));
  if (scheduled <= 0.05) return null;
  return scheduled < 1 ? round(p.intendedRate / scheduled, 2) : p.intendedRate;
}

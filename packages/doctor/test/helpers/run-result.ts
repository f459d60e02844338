import type { GeneratorReport, RunResult, TargetReport, TargetSample, TimeseriesPoint } from '@redline/core';

/** Parts of a RunResult a test sets; everything else gets neutral values. */
export interface RunResultParts {
  startMs?: number;
  durationS: number;
  timeseries: TimeseriesPoint[];
  samples: TargetSample[] | null;
  requests?: number;
  errors?: number;
  errorsByKind?: Record<string, number>;
  generator?: Partial<GeneratorReport>;
  exit?: TargetReport['exit'];
}

/** Builds a complete RunResult around the given time series and target samples. */
export function makeRunResult(p: RunResultParts): RunResult {
  const startMs = p.startMs ?? Date.UTC(2026, 0, 1);
  const requests = p.requests ?? p.timeseries.reduce((n, x) => n + x.requests, 0);
  const errors = p.errors ?? p.timeseries.reduce((n, x) => n + x.errors, 0);
  const errorsByKind = p.errorsByKind ?? (errors > 0 ? { http_5xx: errors } : {});
  const emptyLatency = { count: 0, min: 0, mean: 0, stdev: 0, max: 0, p50: 0, p75: 0, p90: 0, p95: 0, p99: 0, p999: 0 };
  const traffic = { requests, errors, errorsByKind, throughput: requests / p.durationS, latency: emptyLatency, serviceTime: emptyLatency };
  return {
    schemaVersion: 1,
    kind: 'run',
    id: 'test',
    name: 'test',
    status: 'completed',
    startedAt: new Date(startMs).toISOString(),
    endedAt: new Date(startMs + p.durationS * 1000).toISOString(),
    config: { name: 'test', source: null, scenarios: [{ name: 'test', executor: 'constant-arrival-rate', startMs: 0, tags: {}, options: { rate: 100, timeUnitMs: 1000, durationMs: p.durationS * 1000, preAllocatedVUs: 10, maxVUs: 100 }, mode: 'static' }], thresholds: {}, workers: 1, timeoutMs: 10_000, gracefulStopMs: 0, tags: {} },
    environment: { redlineVersion: '0', node: process.version, platform: process.platform, arch: process.arch, cpuModel: '', cpuCount: 2, totalMemoryBytes: 0, hostname: '', workers: 1 },
    generator: { limited: false, reasons: [], scheduleLagMs: { p50: 0, p99: 0, max: 0 }, eluMax: 0.2, eluMean: 0.1, cpuCoresMean: 0.1, seconds: [], ...p.generator },
    summary: {
      ...traffic,
      durationMs: p.durationS * 1000,
      iterations: requests,
      iterationsDropped: 0,
      iterationErrors: 0,
      dataSentBytes: 0,
      dataReceivedBytes: 0,
      vusMax: 0,
      byName: {},
      byStatusClass: {},
      byScenario: {},
      checks: { passes: 0, fails: 0, byName: {} },
    },
    thresholds: [],
    timeseries: p.timeseries,
    histograms: { latency: '', serviceTime: '', byName: {}, intervals: [] },
    target: p.samples === null ? null : { command: 'node server.js', attach: null, pid: 1, samples: p.samples, exit: p.exit ?? null, profiles: {}, profileWindow: null },
    findings: [],
  };
}

/** One second of load: `requests` at latency p50 `p50Ms` (p99 = 2 × p50). */
export function point(t: number, requests: number, p50Ms: number, errors = 0, errorsByKind: Record<string, number> = {}): TimeseriesPoint {
  const latency = { p50: p50Ms, p90: p50Ms * 1.5, p99: p50Ms * 2, max: p50Ms * 3 };
  return {
    t,
    requests,
    errors,
    errorsByKind,
    latency,
    serviceTime: latency,
    iterations: requests,
    iterationsDropped: 0,
    vus: 10,
    intendedRate: requests,
    scheduleLagMs: { p50: 0, p99: 0, max: 0 },
  };
}

/** One second of a healthy-looking target; `over` replaces any field. */
export function sample(t: number, over: Partial<TargetSample> = {}): TargetSample {
  return {
    t,
    elu: 0.15,
    loopDelayMs: { mean: 10.5, p50: 10.2, p99: 12, max: 14 },
    gcShare: 0.005,
    gcPauses: { minor: { count: 3, totalMs: 5 } },
    heapUsedBytes: 30 * 1024 * 1024,
    heapTotalBytes: 50 * 1024 * 1024,
    externalBytes: 1024 * 1024,
    rssBytes: 80 * 1024 * 1024,
    heapAfterGcBytes: null,
    cpuUser: 0.1,
    cpuSystem: 0.03,
    activeResources: { TCPServerWrap: 1, TCPSocketWrap: 10 },
    ...over,
  };
}

/** `n` seconds 1..n mapped through `f`. */
export function seconds<T>(n: number, f: (t: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => f(i + 1));
}

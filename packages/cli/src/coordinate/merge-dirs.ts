import {
  ErrorCodes,
  LatencyHistogram,
  RESULT_SCHEMA_VERSION,
  RedlineError,
  type DistributedSource,
  type ErrorCounts,
  type GeneratorSecond,
  type RunResult,
  type TimeseriesPoint,
  type TrafficSummary,
} from '@redline/core';
import { evaluateThresholds, executionShare, parseThresholds, type MetricSource } from '@redline/load';
import { firstDifference } from './instance.js';

type Pair = { latency: string; serviceTime: string };

/** Config fields that legitimately differ between instances. */
const LOCAL_FIELDS = new Set(['source', 'commandLine', 'workers', 'name']);

function comparable(r: RunResult): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r.config).filter(([k]) => !LOCAL_FIELDS.has(k)));
}

function mergeEncoded(list: ReadonlyArray<string | undefined>): LatencyHistogram {
  const h = new LatencyHistogram();
  for (const e of list) if (e) h.merge(LatencyHistogram.decode(e));
  return h;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/** A second's percentiles, or null for a second without any timed response (as the runner writes it). */
function quad(h: LatencyHistogram): { p50: number; p90: number; p99: number; max: number } | null {
  if (h.count === 0) return null;
  return { p50: h.percentileMs(50), p90: h.percentileMs(90), p99: h.percentileMs(99), max: h.maxMs };
}

/** Sums a traffic summary's counts and takes latency from the merged histograms. */
function traffic(parts: readonly TrafficSummary[], h: { latency: LatencyHistogram; service: LatencyHistogram } | null, seconds: number): TrafficSummary {
  const errorsByKind: ErrorCounts = {};
  let requests = 0;
  let errors = 0;
  for (const p of parts) {
    requests += p.requests;
    errors += p.errors;
    addCounts(errorsByKind, p.errorsByKind);
  }
  return {
    requests,
    errors,
    errorsByKind,
    throughput: seconds > 0 ? requests / seconds : 0,
    ...(h && h.service.count > 0 ? { latency: h.latency.summary(), serviceTime: h.service.summary() } : {}),
  };
}

/** What a run directory must carry for `merge` to be exact (runs before this release lack some). */
function assertMergeable(r: RunResult, dir: string): void {
  const h = r.histograms;
  const missing = (['serviceIntervals', 'byScenario', 'byStatusClass', 'scheduleLag'] as const).filter((k) => h[k] === undefined);
  if (r.summary.timings && !h.timings) missing.push('timings' as never);
  if (missing.length) {
    throw new RedlineError(ErrorCodes.BAD_RUN_DIR, `${dir}: result.json has no ${missing.map((m) => `histograms.${m}`).join(', ')} (written by an older Redline), so it cannot be merged exactly`);
  }
}

/** Each slice's histograms merged over every run. */
function mergedSlices(results: readonly RunResult[], pick: (r: RunResult) => Record<string, Pair> | undefined): Map<string, { latency: LatencyHistogram; service: LatencyHistogram }> {
  const out = new Map<string, { latency: LatencyHistogram; service: LatencyHistogram }>();
  for (const r of results) {
    for (const [k, p] of Object.entries(pick(r) ?? {})) {
      let m = out.get(k);
      if (!m) out.set(k, (m = { latency: new LatencyHistogram(), service: new LatencyHistogram() }));
      m.latency.merge(LatencyHistogram.decode(p.latency));
      m.service.merge(LatencyHistogram.decode(p.serviceTime));
    }
  }
  return out;
}

/** Segment coverage of the merged runs: which shares of the load are missing, overlaps refused. */
function coverage(results: readonly RunResult[], dirs: readonly string[]): { sources: DistributedSource[]; missing: string[] } {
  const sources: DistributedSource[] = results.map((r, i) => ({
    instance: i,
    segment: r.executionSegment?.segment ?? '0:1',
    host: r.environment.hostname,
    state: 'complete',
    lastSecond: r.timeseries.length,
    requests: r.summary.requests,
    runDir: dirs[i]!,
  }));
  // Unit ownership over a cycle long enough for any of the sequences: each unit owned once.
  const N = 10_000;
  const owner = new Int32Array(N).fill(-1);
  results.forEach((r, i) => {
    const seg = r.executionSegment;
    const share = executionShare(seg ? { segment: seg.segment, ...(seg.sequence ? { sequence: seg.sequence } : {}) } : undefined);
    for (let j = 0, g = share.globalIndex(0); g < N; j++, g = share.globalIndex(j)) {
      const o = owner[g]!;
      if (o >= 0) throw new RedlineError(ErrorCodes.INCOMPATIBLE_RUNS, `${dirs[o]} (segment ${sources[o]!.segment}) and ${dirs[i]} (segment ${sources[i]!.segment}) ran overlapping shares of the load: merging them would count it twice`);
      owner[g] = i;
    }
  });
  const free = owner.reduce((a, o) => a + (o < 0 ? 1 : 0), 0);
  const missing = free > 0 ? [`the merged segments cover ${((1 - free / N) * 100).toFixed(1)} % of the load: ${((free / N) * 100).toFixed(1)} % (segments not given to merge) is missing`] : [];
  return { sources, missing };
}

/**
 * Merges finished run directories of one distributed run (its instances' own results) into one
 * result, exactly: histograms are merged (whole-run, per name, scenario and status class, and per
 * second by `t`), counts are summed, thresholds are evaluated again on the merged data. Runs must
 * have the same configuration (apart from where they ran) and non-overlapping segments; segments
 * that are not there are named in `distributed.missing`.
 */
export function mergeRunResults(results: readonly RunResult[], dirs: readonly string[]): RunResult {
  if (results.length === 0) throw new RedlineError(ErrorCodes.USAGE, 'redline merge: give at least one run directory');
  results.forEach((r, i) => assertMergeable(r, dirs[i]!));
  const base = results[0]!;
  for (let i = 1; i < results.length; i++) {
    const d = firstDifference(comparable(base), comparable(results[i]!));
    if (d) throw new RedlineError(ErrorCodes.INCOMPATIBLE_RUNS, `${dirs[i]} is not an instance of the same run as ${dirs[0]}: config ${d}`);
  }
  const { sources, missing } = coverage(results, dirs);
  const durationMs = Math.max(...results.map((r) => r.summary.durationMs));
  const seconds = durationMs / 1000;
  const all = { latency: mergeEncoded(results.map((r) => r.histograms.latency)), service: mergeEncoded(results.map((r) => r.histograms.serviceTime)) };
  const byName = mergedSlices(results, (r) => r.histograms.byName);
  const byScenario = mergedSlices(results, (r) => r.histograms.byScenario);
  const byStatus = mergedSlices(results, (r) => r.histograms.byStatusClass);
  const lag = mergeEncoded(results.map((r) => r.histograms.scheduleLag));
  const timings = new Map<string, LatencyHistogram>();
  for (const r of results) for (const [phase, e] of Object.entries(r.histograms.timings ?? {})) {
    let h = timings.get(phase);
    if (!h) timings.set(phase, (h = new LatencyHistogram()));
    h.merge(LatencyHistogram.decode(e));
  }
  const sumOf = (f: (r: RunResult) => number): number => results.reduce((a, r) => a + f(r), 0);
  const keys = (f: (r: RunResult) => Record<string, unknown>): string[] => [...new Set(results.flatMap((r) => Object.keys(f(r))))];
  const checksByName: Record<string, { passes: number; fails: number }> = {};
  for (const r of results) for (const [n, c] of Object.entries(r.summary.checks.byName)) {
    const m = (checksByName[n] ??= { passes: 0, fails: 0 });
    m.passes += c.passes;
    m.fails += c.fails;
  }
  const summary: RunResult['summary'] = {
    ...traffic(results.map((r) => r.summary), all, seconds),
    durationMs,
    iterations: sumOf((r) => r.summary.iterations),
    iterationsDropped: sumOf((r) => r.summary.iterationsDropped),
    iterationErrors: sumOf((r) => r.summary.iterationErrors),
    dataSentBytes: sumOf((r) => r.summary.dataSentBytes),
    dataReceivedBytes: sumOf((r) => r.summary.dataReceivedBytes),
    vusMax: sumOf((r) => r.summary.vusMax),
    byName: Object.fromEntries(keys((r) => r.summary.byName).map((n) => [n, traffic(results.flatMap((r) => r.summary.byName[n] ?? []), byName.get(n) ?? null, seconds)])),
    byStatusClass: Object.fromEntries(keys((r) => r.summary.byStatusClass).map((n) => [n, traffic(results.flatMap((r) => r.summary.byStatusClass[n] ?? []), byStatus.get(n) ?? null, seconds)])),
    byScenario: Object.fromEntries(
      keys((r) => r.summary.byScenario).map((n) => {
        const parts = results.flatMap((r) => r.summary.byScenario[n] ?? []);
        return [n, { ...traffic(parts, byScenario.get(n) ?? null, seconds), iterations: parts.reduce((a, p) => a + p.iterations, 0), iterationsDropped: parts.reduce((a, p) => a + p.iterationsDropped, 0) }];
      }),
    ),
    checks: { passes: sumOf((r) => r.summary.checks.passes), fails: sumOf((r) => r.summary.checks.fails), byName: checksByName },
  };
  if (timings.size) summary.timings = Object.fromEntries([...timings].map(([p, h]) => [p, h.summary()]));
  const h2 = results.map((r) => r.summary.http2).filter((x) => x !== undefined);
  if (h2.length) summary.http2 = { connections: h2.reduce((a, x) => a + x.connections, 0), goaways: h2.reduce((a, x) => a + x.goaways, 0), streamLimitWaits: h2.reduce((a, x) => a + x.streamLimitWaits, 0), refusedStreams: h2.reduce((a, x) => a + x.refusedStreams, 0) };

  // Seconds line up by index: instances of a coordinated run start on one agreed instant.
  const length = Math.max(...results.map((r) => r.timeseries.length));
  const timeseries: TimeseriesPoint[] = [];
  const genSeconds: GeneratorSecond[] = [];
  const intervals: string[] = [];
  const serviceIntervals: string[] = [];
  for (let i = 0; i < length; i++) {
    const pts = results.flatMap((r) => r.timeseries[i] ?? []);
    const lat = mergeEncoded(results.map((r) => (r.timeseries[i] ? r.histograms.intervals[i] : undefined)));
    const svc = mergeEncoded(results.map((r) => (r.timeseries[i] ? r.histograms.serviceIntervals?.[i] : undefined)));
    intervals.push(lat.encode());
    serviceIntervals.push(svc.encode());
    const errorsByKind: ErrorCounts = {};
    for (const p of pts) addCounts(errorsByKind, p.errorsByKind);
    const intended = pts.filter((p) => p.intendedRate !== null);
    const lagOf = (f: (p: TimeseriesPoint) => TimeseriesPoint['scheduleLagMs']): TimeseriesPoint['scheduleLagMs'] => ({
      // Per-second lag is kept as quantiles only: the merged second shows the worst instance's.
      p50: Math.max(0, ...pts.map((p) => f(p).p50)),
      p99: Math.max(0, ...pts.map((p) => f(p).p99)),
      max: Math.max(0, ...pts.map((p) => f(p).max)),
    });
    timeseries.push({
      t: i + 1,
      requests: pts.reduce((a, p) => a + p.requests, 0),
      errors: pts.reduce((a, p) => a + p.errors, 0),
      errorsByKind,
      latency: quad(lat),
      serviceTime: quad(svc),
      iterations: pts.reduce((a, p) => a + p.iterations, 0),
      iterationsDropped: pts.reduce((a, p) => a + p.iterationsDropped, 0),
      vus: pts.reduce((a, p) => a + p.vus, 0),
      inFlight: pts.reduce((a, p) => a + (p.inFlight ?? 0), 0),
      intendedRate: intended.length ? intended.reduce((a, p) => a + (p.intendedRate ?? 0), 0) : null,
      scheduleLagMs: lagOf((p) => p.scheduleLagMs),
    });
    const gs = results.flatMap((r) => r.generator.seconds[i] ?? []);
    const gi = gs.filter((g) => g.intendedRate !== null);
    genSeconds.push({
      t: i + 1,
      intendedRate: gi.length ? gi.reduce((a, g) => a + (g.intendedRate ?? 0), 0) : null,
      achievedRate: gs.reduce((a, g) => a + g.achievedRate, 0),
      scheduleLagMs: { p50: Math.max(0, ...gs.map((g) => g.scheduleLagMs.p50)), p99: Math.max(0, ...gs.map((g) => g.scheduleLagMs.p99)), max: Math.max(0, ...gs.map((g) => g.scheduleLagMs.max)) },
      elu: Math.max(0, ...gs.map((g) => g.elu)),
      cpuCores: gs.reduce((a, g) => a + g.cpuCores, 0),
    });
  }

  const source: MetricSource = {
    histogram: (metric, slice) => {
      const s = slice === 'all' ? all : slice.startsWith('name:') ? byName.get(slice.slice(5)) : slice.startsWith('scenario:') ? byScenario.get(slice.slice(9)) : slice.startsWith('status:') ? byStatus.get(slice.slice(7)) : undefined;
      return s ? (metric === 'http.latency' ? s.latency : s.service) : null;
    },
    lagHistogram: () => lag,
    timingHistogram: (phase) => timings.get(phase) ?? null,
    counts: (slice) => {
      const t = slice === 'all' ? summary : slice.startsWith('name:') ? summary.byName[slice.slice(5)] : slice.startsWith('scenario:') ? summary.byScenario[slice.slice(9)] : slice.startsWith('status:') ? summary.byStatusClass[slice.slice(7)] : undefined;
      return t ? { requests: t.requests, errors: t.errors } : null;
    },
    checkCounts: (name) => (name === undefined ? { passes: summary.checks.passes, fails: summary.checks.fails } : (summary.checks.byName[name] ?? { passes: 0, fails: 0 })),
    iterationCounts: (scenario) => (scenario === undefined ? { done: summary.iterations, dropped: summary.iterationsDropped } : { done: summary.byScenario[scenario]?.iterations ?? 0, dropped: summary.byScenario[scenario]?.iterationsDropped ?? 0 }),
    elapsedSeconds: () => seconds,
  };
  // result.json keeps threshold expressions without abortOnFail, which does not matter after the run.
  const thresholds = evaluateThresholds(parseThresholds(base.config.thresholds), source);
  const steady = genSeconds.length > 2 ? genSeconds.slice(1, -1) : genSeconds;
  const warnings = [
    ...results.flatMap((r, i) => (r.warnings ?? []).map((w) => `instance ${i} (${dirs[i]}): ${w}`)),
    ...missing.map((m) => `merged result incomplete: ${m}`),
    ...(results.some((r) => r.target) ? ['targets profiled by the instances are not merged: see each instance\'s own run directory'] : []),
  ];
  const startedAt = new Date(Math.min(...results.map((r) => Date.parse(r.startedAt))));
  const statuses = results.map((r) => r.status);
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'run',
    id: `${base.id}-merged`,
    name: base.name,
    status: statuses.includes('aborted') ? 'aborted' : statuses.includes('interrupted') ? 'interrupted' : 'completed',
    startedAt: startedAt.toISOString(),
    endedAt: new Date(startedAt.getTime() + durationMs).toISOString(),
    config: { ...base.config, workers: results.reduce((a, r) => a + r.config.workers, 0) },
    environment: { ...base.environment, workers: results.reduce((a, r) => a + r.environment.workers, 0) },
    generator: {
      limited: results.some((r) => r.generator.limited),
      reasons: results.flatMap((r, i) => r.generator.reasons.map((x) => `instance ${i}: ${x}`)),
      scheduleLagMs: { p50: lag.percentileMs(50), p99: lag.percentileMs(99), max: lag.maxMs },
      eluMax: Math.max(...results.map((r) => r.generator.eluMax)),
      eluMean: steady.length ? steady.reduce((a, g) => a + g.elu, 0) / steady.length : 0,
      cpuCoresMean: steady.length ? steady.reduce((a, g) => a + g.cpuCores, 0) / steady.length : 0,
      seconds: genSeconds,
    },
    summary,
    thresholds,
    timeseries,
    histograms: {
      latency: all.latency.encode(),
      serviceTime: all.service.encode(),
      byName: Object.fromEntries([...byName].map(([k, h]) => [k, { latency: h.latency.encode(), serviceTime: h.service.encode() }])),
      intervals,
      serviceIntervals,
      byScenario: Object.fromEntries([...byScenario].map(([k, h]) => [k, { latency: h.latency.encode(), serviceTime: h.service.encode() }])),
      byStatusClass: Object.fromEntries([...byStatus].map(([k, h]) => [k, { latency: h.latency.encode(), serviceTime: h.service.encode() }])),
      scheduleLag: lag.encode(),
      ...(timings.size ? { timings: Object.fromEntries([...timings].map(([p, h]) => [p, h.encode()])) } : {}),
    },
    target: null,
    findings: [],
    ...(warnings.length ? { warnings } : {}),
    distributed: { mode: 'offline', runId: null, instances: results.length, sources, missing },
  };
}

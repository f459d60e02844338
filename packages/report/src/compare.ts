import { resolve } from 'node:path';
import { ErrorCodes, LatencyHistogram, RedlineError, readRunResult, seededRandom, type RunResult, type TargetSample } from '@redline/core';
import { COMPARED_PERCENTILES, drawHierarchical, indexUnits, loadUnits, maxDrawLength, percentileInterval, unitStats, type LoadUnit, type RunSpan } from './compare-stats.js';
import { mergeFlameTrees, topMovers, type FunctionMover } from './flame-data.js';
import { spectrumOf } from './report-data.js';
import { loadRunFlame } from './write-report.js';
import type { FlameNode } from '@redline/doctor';

/** Metrics `compare` reports, with stable names (used by `--fail-on`). */
export const COMPARE_METRICS = ['throughput', 'p50', 'p90', 'p99', 'p99.9', 'errorRate', 'cpu', 'elu', 'gc', 'heap'] as const;
/** One of {@link COMPARE_METRICS}. */
export type CompareMetric = (typeof COMPARE_METRICS)[number];

/** The verdict on one metric. */
export type CompareVerdict = 'improved' | 'regressed' | 'no change';

/** Which way is better for a metric. */
export type MetricDirection = 'higher-is-better' | 'lower-is-better';

/** How one metric moved between base and candidate. */
export interface MetricComparison {
  metric: CompareMetric;
  label: string;
  /** Unit of `base`/`candidate`: `req/s`, `ms`, `ratio` (0–1), `cores` or `bytes`. */
  unit: 'req/s' | 'ms' | 'ratio' | 'cores' | 'bytes';
  direction: MetricDirection;
  base: number;
  candidate: number;
  /** Relative change (candidate/base − 1); for the error rate, relative to max(base, 0.1 %). */
  change: number;
  /** 95 % bootstrap confidence interval of `change`; null when a side has fewer than 2 samples. */
  ci: { low: number; high: number; level: number } | null;
  /** Resampling units (seconds, or blocks of seconds on long runs) and runs behind each side. */
  samples: { base: number; candidate: number; baseRuns: number; candidateRuns: number };
  /** Why the metric has no verdict it could stand on (no interval, no finite change); absent when it has one. */
  undecided?: string;
  /** Bootstrap p-value of "no change" (two-sided), before adjustment; 1 without an interval. */
  pValue: number;
  /** p-value after Holm's adjustment over all metrics of the comparison. */
  pAdjusted: number;
  /** True when the adjusted p-value is below 1 − confidenceLevel (so the interval also excludes 0). */
  significant: boolean;
  /** True when the whole interval lies beyond ± the noise threshold. */
  beyondNoise: boolean;
  verdict: CompareVerdict;
}

/** A run taking part in a comparison. */
export interface CompareRunInfo {
  dir: string;
  id: string;
  name: string;
  startedAt: string;
  durationMs: number;
  requests: number;
  /** `name (executor)` of each scenario. */
  scenarios: string[];
  hasCpuProfile: boolean;
}

/** Per-second curves of one side for overlaying (the side's first run). */
export interface SideSeries {
  t: number[];
  throughput: number[];
  /** null in a second without responses. */
  p99Ms: (number | null)[];
}

/** The outcome of `compare`: plain data, safe to `JSON.stringify`. */
export interface CompareResult {
  kind: 'compare';
  base: CompareRunInfo[];
  candidate: CompareRunInfo[];
  /** Relative change below which a difference is noise (0.02 = 2 %). */
  noiseThreshold: number;
  confidenceLevel: number;
  iterations: number;
  seed: number;
  /** True when incompatible runs were compared because `force` was set. */
  forced: boolean;
  warnings: string[];
  metrics: MetricComparison[];
  /** Percentile spectra of corrected latency, each side's runs merged, on one percentile axis. */
  distribution: { percentiles: number[]; baseMs: number[]; candidateMs: number[] } | null;
  series: { base: SideSeries; candidate: SideSeries };
  /** Metrics of {@link COMPARE_METRICS} that are not in `metrics`, and why. */
  notCompared: { metric: CompareMetric; reason: string }[];
  /** CPU-profile comparison when every run on both sides has a CPU profile; null otherwise. */
  profile: { baseSamples: number; candidateSamples: number; movers: FunctionMover[] } | null;
}

/** Options of {@link compareRuns}. */
export interface CompareOptions {
  /** Relative change treated as noise, 0 ≤ x < 1. Default 0.02. */
  noiseThreshold?: number;
  /** Compare runs of different scenarios or load models anyway. Default false. */
  force?: boolean;
  /** Seed of the bootstrap (results are deterministic for a seed). Default 1. */
  seed?: number;
  /** Bootstrap resamples, 100–100 000. Default 2000. */
  iterations?: number;
  /** Read the runs' CPU profiles for the top movers and the differential flame graph. Default true. */
  profiles?: boolean;
  /** Absolute directory of the target's sources, for shorter profile paths. */
  appRoot?: string;
}

const DIRECTION: Record<CompareMetric, MetricDirection> = {
  throughput: 'higher-is-better',
  p50: 'lower-is-better',
  p90: 'lower-is-better',
  p99: 'lower-is-better',
  'p99.9': 'lower-is-better',
  errorRate: 'lower-is-better',
  cpu: 'lower-is-better',
  elu: 'lower-is-better',
  gc: 'lower-is-better',
  heap: 'lower-is-better',
};

const TARGET_METRICS = new Set<CompareMetric>(['cpu', 'elu', 'gc', 'heap']);

const LABEL: Record<CompareMetric, string> = {
  throughput: 'throughput',
  p50: 'latency p50',
  p90: 'latency p90',
  p99: 'latency p99',
  'p99.9': 'latency p99.9',
  errorRate: 'error rate',
  cpu: 'target CPU',
  elu: 'target event-loop utilisation',
  gc: 'target GC share',
  heap: 'target heap used',
};

/** The floor under the base error rate when computing its relative change (0.1 %). */
export const ERROR_RATE_FLOOR = 0.001;
/** Most resampling units per side; longer runs are cut into blocks of consecutive seconds. */
const MAX_UNITS_PER_SIDE = 240;

function invalid(message: string): RedlineError {
  return new RedlineError(ErrorCodes.INVALID_ARGUMENT, message);
}

function checkOptions(base: readonly string[], candidate: readonly string[], opts: CompareOptions): Required<Omit<CompareOptions, 'appRoot'>> {
  if (!Array.isArray(base) || base.length === 0) throw invalid('compare needs at least one base run directory');
  if (!Array.isArray(candidate) || candidate.length === 0) throw invalid('compare needs at least one candidate run directory');
  const noiseThreshold = opts.noiseThreshold ?? 0.02;
  if (typeof noiseThreshold !== 'number' || !(noiseThreshold >= 0 && noiseThreshold < 1)) {
    throw invalid(`noiseThreshold must be a fraction in [0, 1) (0.02 = 2 %), got ${String(noiseThreshold)}`);
  }
  const seed = opts.seed ?? 1;
  if (!Number.isInteger(seed)) throw invalid(`seed must be an integer, got ${String(seed)}`);
  const iterations = opts.iterations ?? 2000;
  if (!Number.isInteger(iterations) || iterations < 100 || iterations > 100_000) {
    throw invalid(`iterations must be an integer from 100 to 100000, got ${String(iterations)}`);
  }
  return { noiseThreshold, seed, iterations, force: opts.force ?? false, profiles: opts.profiles ?? true };
}

/**
 * Parses a noise threshold as the CLI takes it: `2%`, `2.5 %` or a fraction `0.02`.
 * Throws REDLINE_ERR_USAGE for anything else or a value outside [0 %, 100 %).
 */
export function parseNoiseThreshold(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(%?)\s*$/.exec(text);
  const v = m ? Number(m[1]) / (m[2] === '%' ? 100 : 1) : NaN;
  if (!(v >= 0 && v < 1)) throw new RedlineError(ErrorCodes.USAGE, `--noise expects a percentage such as 2% or a fraction such as 0.02, got "${text}"`);
  return v;
}

/**
 * Options that say how long a scenario ran, not what load it put on (runs of different lengths
 * compare), and `preAllocatedVUs`, an engine detail derived from the rate (maxVUs stays).
 */
const LENGTH_OPTIONS = new Set(['durationMs', 'maxDurationMs', 'gracefulStopMs', 'preAllocatedVUs']);

/**
 * A quick-mode scenario is named after the URL's `host:port`; `--target` and port-0 servers get a
 * new port every run. The port is where the service listened, not what load it got, so it is left
 * out of the identity (the host stays).
 */
function scenarioIdentityName(name: string): string {
  return name.replace(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d{1,5}$/i, '$1');
}

const shown = (v: unknown): string => (v === undefined ? '(unset)' : JSON.stringify(v));

/**
 * What differs between two runs' load shapes, as `field: a vs b` lines; empty when they are the
 * same load. The shape is each scenario's name (without a `host:port` port), executor, mode, start
 * time and options other than the length of the run and VU preallocation — rates, VUs, stages,
 * time unit, maxVUs.
 */
export function loadShapeDifferences(a: RunResult, b: RunResult): string[] {
  const out: string[] = [];
  const sa = a.config.scenarios;
  const sb = b.config.scenarios;
  if (sa.length !== sb.length) {
    out.push(`number of scenarios: ${sa.length} (${sa.map((s) => s.name).join(', ')}) vs ${sb.length} (${sb.map((s) => s.name).join(', ')})`);
    return out;
  }
  const byName = (list: typeof sa) => [...list].sort((x, y) => scenarioIdentityName(x.name).localeCompare(scenarioIdentityName(y.name)));
  const xs = byName(sa);
  const ys = byName(sb);
  xs.forEach((x, i) => {
    const y = ys[i]!;
    const where = `scenario ${JSON.stringify(x.name)}`;
    if (scenarioIdentityName(x.name) !== scenarioIdentityName(y.name)) out.push(`scenario name: ${shown(x.name)} vs ${shown(y.name)}`);
    if (x.executor !== y.executor) out.push(`${where} executor: ${x.executor} vs ${y.executor}`);
    if (x.mode !== y.mode) out.push(`${where} mode: ${x.mode} vs ${y.mode}`);
    if (x.startMs !== y.startMs) out.push(`${where} startMs: ${x.startMs} vs ${y.startMs}`);
    const keys = [...new Set([...Object.keys(x.options), ...Object.keys(y.options)])].filter((k) => !LENGTH_OPTIONS.has(k)).sort();
    for (const k of keys) {
      const va = shown(x.options[k]);
      const vb = shown(y.options[k]);
      if (va !== vb) out.push(`${where} ${k}: ${va} vs ${vb}`);
    }
  });
  return out;
}

function checkCompatible(runs: { dir: string; result: RunResult; side: string }[]): string | null {
  const first = runs[0]!;
  for (const r of runs.slice(1)) {
    const diffs = loadShapeDifferences(first.result, r.result);
    if (diffs.length > 0) {
      const more = diffs.length > 3 ? `; and ${diffs.length - 3} more` : '';
      return `${first.side} run ${first.dir} and ${r.side} run ${r.dir} put different load on the target (${diffs.slice(0, 3).join('; ')}${more})`;
    }
  }
  return null;
}

interface Side {
  dirs: string[];
  results: RunResult[];
  /** Every run's resampling units, run after run; `runs[k]` says where run k's are. */
  units: LoadUnit[];
  runs: RunSpan[];
  histograms: boolean;
  /** Every run's target samples within its loaded seconds, run after run, with their spans. */
  target: TargetSample[];
  targetRuns: RunSpan[];
}

async function loadSide(dirs: readonly string[]): Promise<{ dirs: string[]; results: RunResult[] }> {
  const results: RunResult[] = [];
  for (const d of dirs) results.push(await readRunResult(d));
  return { dirs: dirs.map((d) => resolve(d)), results };
}

function buildSide(dirs: string[], results: RunResult[]): Side {
  const totalSeconds = results.reduce((a, r) => a + r.timeseries.length, 0);
  const blockS = Math.max(1, Math.ceil(totalSeconds / MAX_UNITS_PER_SIDE));
  const units: LoadUnit[] = [];
  const runs: RunSpan[] = [];
  let histograms = true;
  const target: TargetSample[] = [];
  const targetRuns: RunSpan[] = [];
  for (const r of results) {
    const u = loadUnits(r, blockS);
    if (u.units.length > 0) runs.push({ offset: units.length, length: u.units.length });
    units.push(...u.units);
    histograms &&= u.histograms;
    const loaded = r.timeseries.filter((p) => p.requests > 0);
    const from = (loaded[0]?.t ?? 1) - 1;
    const to = loaded.at(-1)?.t ?? Number.POSITIVE_INFINITY;
    const before = target.length;
    for (const s of r.target?.samples ?? []) if (s.t > from && s.t <= to) target.push(s);
    if (target.length > before) targetRuns.push({ offset: before, length: target.length - before });
  }
  return { dirs, results, units, runs, histograms, target, targetRuns };
}

function info(dir: string, r: RunResult): CompareRunInfo {
  return {
    dir,
    id: r.id,
    name: r.name,
    startedAt: r.startedAt,
    durationMs: r.summary.durationMs,
    requests: r.summary.requests,
    scenarios: r.config.scenarios.map((s) => `${s.name} (${s.executor})`),
    hasCpuProfile: typeof r.target?.profiles.cpuprofile === 'string' && r.target.profiles.cpuprofile !== '',
  };
}

/** Why a metric cannot be decided from these samples, or null when it can. */
function undecidedReason(samples: MetricComparison['samples'], change: number, replicates: number[]): string | null {
  for (const [side, n] of [['base', samples.base], ['candidate', samples.candidate]] as const) {
    if (n < 2) return `the ${side} side has ${n === 0 ? 'no' : 'only one'} second${n === 1 ? '' : 's'} with load`;
  }
  if (!Number.isFinite(change)) return 'the base value is 0, so a relative change is undefined';
  const bad = replicates.filter((x) => !Number.isFinite(x)).length;
  // A resample with no value on a side (no latency samples, a zero base) has no change to count.
  if (bad > replicates.length * 0.01) return `${((bad / replicates.length) * 100).toFixed(0)} % of the resamples have no value on a side`;
  return null;
}

function judge(metric: CompareMetric, unit: MetricComparison['unit'], base: number, candidate: number, change: number, replicates: number[], samples: MetricComparison['samples'], noise: number, level: number): MetricComparison {
  const undecided = undecidedReason(samples, change, replicates);
  const interval = undecided === null ? percentileInterval(replicates, level) : null;
  let pValue = 1;
  if (interval !== null) {
    const finite = replicates.filter((x) => Number.isFinite(x));
    const below = finite.filter((x) => x <= 0).length / finite.length;
    const above = finite.filter((x) => x >= 0).length / finite.length;
    pValue = Math.min(1, Math.max(1 / finite.length, 2 * Math.min(below, above)));
  }
  // As criterion.rs: a change counts only when the whole interval clears the noise band.
  const up = interval !== null && interval.low > noise;
  const down = interval !== null && interval.high < -noise;
  return {
    metric,
    label: LABEL[metric],
    unit,
    direction: DIRECTION[metric],
    base,
    candidate,
    change,
    ci: interval === null ? null : { ...interval, level },
    samples,
    pValue,
    pAdjusted: pValue,
    significant: false,
    beyondNoise: up || down,
    verdict: 'no change',
    ...(undecided === null ? {} : { undecided }),
  };
}

/**
 * Applies Holm's step-down adjustment to the metrics' p-values (so the chance that any metric of an
 * unchanged pair of runs is flagged stays below 1 − level), then sets each verdict: significant, the
 * whole interval beyond the noise band, and the direction that is worse or better for that metric.
 */
function decide(metrics: MetricComparison[], level: number): MetricComparison[] {
  const alpha = 1 - level;
  const order = metrics.map((m, i) => [m.pValue, i] as const).sort((a, b) => a[0] - b[0]);
  let running = 0;
  order.forEach(([p, i], rank) => {
    running = Math.max(running, Math.min(1, p * (metrics.length - rank)));
    metrics[i]!.pAdjusted = running;
  });
  for (const m of metrics) {
    m.significant = m.ci !== null && m.pAdjusted < alpha && (m.ci.low > 0 || m.ci.high < 0);
    if (!m.significant || !m.beyondNoise || m.ci === null) continue;
    const up = m.ci.low > 0;
    const worse = m.direction === 'lower-is-better' ? up : !up;
    m.verdict = worse ? 'regressed' : 'improved';
  }
  return metrics;
}

const rel = (c: number, b: number): number => (b === 0 ? (c === 0 ? 0 : Number.NaN) : c / b - 1);

function compareLoad(b: Side, c: Side, o: Required<Omit<CompareOptions, 'appRoot'>>, level: number): MetricComparison[] {
  const { axisMs, sides } = indexUnits([b.units, c.units]);
  const [bi, ci] = sides as [ReturnType<typeof indexUnits>['sides'][number], ReturnType<typeof indexUnits>['sides'][number]];
  const scratch = new Float64Array(axisMs.length);
  const ps = COMPARED_PERCENTILES as readonly number[];
  const all = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
  const nb = b.units.length;
  const nc = c.units.length;
  const pointB = unitStats(bi, all(nb), axisMs, scratch, ps);
  const pointC = unitStats(ci, all(nc), axisMs, scratch, ps);
  const rand = seededRandom(o.seed);
  const drawB = new Int32Array(maxDrawLength(b.runs));
  const drawC = new Int32Array(maxDrawLength(c.runs));
  const reps = { throughput: [] as number[], errorRate: [] as number[], pct: ps.map(() => [] as number[]) };
  const errChange = (cRate: number, bRate: number): number => (cRate - bRate) / Math.max(bRate, ERROR_RATE_FLOOR);
  const latency = b.histograms && c.histograms;
  for (let it = 0; it < o.iterations; it++) {
    const sb = unitStats(bi, drawB.subarray(0, drawHierarchical(rand, b.runs, drawB)), axisMs, scratch, latency ? ps : []);
    const sc = unitStats(ci, drawC.subarray(0, drawHierarchical(rand, c.runs, drawC)), axisMs, scratch, latency ? ps : []);
    reps.throughput.push(rel(sc.throughput, sb.throughput));
    reps.errorRate.push(errChange(sc.errorRate, sb.errorRate));
    if (latency) ps.forEach((_, k) => reps.pct[k]!.push(rel(sc.percentilesMs[k] ?? Number.NaN, sb.percentilesMs[k] ?? Number.NaN)));
  }
  const samples = { base: nb, candidate: nc, baseRuns: b.runs.length, candidateRuns: c.runs.length };
  const out: MetricComparison[] = [
    judge('throughput', 'req/s', pointB.throughput, pointC.throughput, rel(pointC.throughput, pointB.throughput), reps.throughput, samples, o.noiseThreshold, level),
  ];
  if (latency) {
    const names: CompareMetric[] = ['p50', 'p90', 'p99', 'p99.9'];
    names.forEach((m, k) => {
      const bv = pointB.percentilesMs[k] ?? null;
      const cv = pointC.percentilesMs[k] ?? null;
      if (bv === null || cv === null) return;
      out.push(judge(m, 'ms', bv, cv, rel(cv, bv), reps.pct[k]!, samples, o.noiseThreshold, level));
    });
  }
  out.push(judge('errorRate', 'ratio', pointB.errorRate, pointC.errorRate, errChange(pointC.errorRate, pointB.errorRate), reps.errorRate, samples, o.noiseThreshold, level));
  return out;
}

/** Per-second means of a target metric, with the same hierarchical bootstrap (runs, then blocks of seconds). */
function compareTarget(b: Side, c: Side, o: Required<Omit<CompareOptions, 'appRoot'>>, level: number, seedOffset: number): MetricComparison[] {
  if (b.target.length === 0 || c.target.length === 0) return [];
  const metrics: { metric: CompareMetric; unit: MetricComparison['unit']; get: (s: TargetSample) => number }[] = [
    { metric: 'cpu', unit: 'cores', get: (s) => s.cpuUser + s.cpuSystem },
    { metric: 'elu', unit: 'ratio', get: (s) => s.elu },
    { metric: 'gc', unit: 'ratio', get: (s) => s.gcShare },
    { metric: 'heap', unit: 'bytes', get: (s) => s.heapUsedBytes },
  ];
  const out: MetricComparison[] = [];
  const mean = (x: Float64Array, draw: ArrayLike<number> | null): number => {
    let sum = 0;
    const n = draw ? draw.length : x.length;
    for (let i = 0; i < n; i++) sum += x[draw ? draw[i]! : i]!;
    return sum / n;
  };
  metrics.forEach((m, mi) => {
    const xb = Float64Array.from(b.target.map(m.get));
    const xc = Float64Array.from(c.target.map(m.get));
    const rand = seededRandom(o.seed + seedOffset + mi * 7919);
    const db = new Int32Array(maxDrawLength(b.targetRuns));
    const dc = new Int32Array(maxDrawLength(c.targetRuns));
    const reps: number[] = [];
    for (let it = 0; it < o.iterations; it++) {
      const vc = mean(xc, dc.subarray(0, drawHierarchical(rand, c.targetRuns, dc)));
      reps.push(rel(vc, mean(xb, db.subarray(0, drawHierarchical(rand, b.targetRuns, db)))));
    }
    const bv = mean(xb, null);
    const cv = mean(xc, null);
    const change = rel(cv, bv);
    const samples = { base: xb.length, candidate: xc.length, baseRuns: b.targetRuns.length, candidateRuns: c.targetRuns.length };
    out.push(judge(m.metric, m.unit, bv, cv, Number.isFinite(change) ? change : 0, reps, samples, o.noiseThreshold, level));
  });
  return out;
}

/** The metrics that could not be computed at all, with the reason. */
function missingMetrics(metrics: readonly MetricComparison[], b: Side, c: Side): CompareResult['notCompared'] {
  const out: CompareResult['notCompared'] = [];
  for (const metric of COMPARE_METRICS) {
    if (metrics.some((m) => m.metric === metric)) continue;
    let reason: string;
    if (TARGET_METRICS.has(metric)) {
      reason = b.target.length === 0 && c.target.length === 0 ? 'neither side was probed (--target or --attach)' : `the ${b.target.length === 0 ? 'base' : 'candidate'} side was not probed`;
    } else if (!b.histograms || !c.histograms) reason = `the ${!b.histograms ? 'base' : 'candidate'} side has no per-second latency histograms`;
    else reason = 'a side has no latency samples (no request got a response)';
    out.push({ metric, reason });
  }
  return out;
}

function sideSeries(r: RunResult): SideSeries {
  return { t: r.timeseries.map((p) => p.t), throughput: r.timeseries.map((p) => p.requests), p99Ms: r.timeseries.map((p) => p.latency?.p99 ?? null) };
}

/**
 * Compares base and candidate runs (each side one or more run directories): throughput, latency
 * p50/p90/p99/p99.9, error rate and, when both sides were probed, target CPU/ELU/GC/heap. Each metric
 * gets its relative change, a 95 % bootstrap confidence interval (resampling seconds; latency
 * percentiles from the merged per-second histograms of each resample), and a verdict that needs
 * significance (bootstrap p-value, Holm-adjusted over the metrics, below 5 %) and the whole interval
 * beyond ± `noiseThreshold`. Throws REDLINE_ERR_BAD_RUN_DIR
 * for a bad run directory, REDLINE_ERR_INCOMPATIBLE_RUNS when the runs' scenarios or load models
 * differ (unless `force`), REDLINE_ERR_INVALID_ARGUMENT for bad options.
 */
export async function compareRuns(base: string[], candidate: string[], opts: CompareOptions = {}): Promise<CompareResult> {
  const o = checkOptions(base, candidate, opts);
  const level = 0.95;
  const b = await loadSide(base);
  const c = await loadSide(candidate);
  const warnings: string[] = [];
  const problem = checkCompatible([
    ...b.results.map((result, i) => ({ dir: base[i]!, result, side: 'base' })),
    ...c.results.map((result, i) => ({ dir: candidate[i]!, result, side: 'candidate' })),
  ]);
  if (problem !== null) {
    if (!o.force) throw new RedlineError(ErrorCodes.INCOMPATIBLE_RUNS, `cannot compare: ${problem}; pass --force to compare anyway`);
    warnings.push(`Compared with --force although ${problem}.`);
  }
  const sb = buildSide(b.dirs, b.results);
  const sc = buildSide(c.dirs, c.results);
  if (!sb.histograms || !sc.histograms) warnings.push('Some runs have no per-second histograms: latency percentiles are not compared.');
  for (const [name, s] of [['base', sb], ['candidate', sc]] as const) {
    if (s.units.length < 2) warnings.push(`The ${name} side has fewer than 2 seconds of load: no confidence intervals.`);
    else if (s.units.length < 10) warnings.push(`The ${name} side has only ${s.units.length} seconds of load: intervals are wide; longer or repeated runs make the verdict stronger.`);
  }
  if (sb.runs.length < 2 || sc.runs.length < 2) {
    warnings.push('One run on a side: the intervals hold only the noise within a run, not the run-to-run noise (JIT, placement, neighbours) that makes two identical builds differ; give 3 or more runs a side for a CI gate (see docs/compare.md).');
  }
  if (sb.results.some((r) => r.status !== 'completed') || sc.results.some((r) => r.status !== 'completed')) warnings.push('Some runs did not complete (interrupted or aborted).');
  if (sb.results.some((r) => r.generator.limited) || sc.results.some((r) => r.generator.limited)) warnings.push('Some runs were generator-limited: their numbers describe the load generator as much as the target.');
  if ((sb.target.length === 0) !== (sc.target.length === 0)) warnings.push('Only one side was probed: target CPU/ELU/GC/heap are not compared.');

  const metrics = decide([...compareLoad(sb, sc, o, level), ...compareTarget(sb, sc, o, level, 104729)], level);
  const notCompared = missingMetrics(metrics, sb, sc);
  // Target metrics already have their line above (one side probed) or need none (neither was).
  for (const m of notCompared.filter((x) => !TARGET_METRICS.has(x.metric))) warnings.push(`Not compared: ${LABEL[m.metric]} (${m.metric}), because ${m.reason}.`);
  for (const m of metrics) if (m.undecided !== undefined) warnings.push(`No verdict on ${m.label} (${m.metric}): ${m.undecided}.`);
  const merged = (rs: RunResult[]): LatencyHistogram => LatencyHistogram.mergeEncoded(rs.map((r) => r.histograms.latency).filter((e) => e !== ''));
  const spec = spectrumOf(merged(sb.results), merged(sc.results));
  let profile: CompareResult['profile'] = null;
  let flames: { base: FlameNode; candidate: FlameNode } | null = null;
  const profiled = (s: Side): boolean => s.results.every((r) => typeof r.target?.profiles.cpuprofile === 'string' && r.target.profiles.cpuprofile !== '');
  if (o.profiles && profiled(sb) && profiled(sc)) {
    const side = async (s: Side): Promise<FlameNode | null> => {
      const trees: FlameNode[] = [];
      for (let i = 0; i < s.results.length; i++) {
        const f = await loadRunFlame(s.dirs[i]!, s.results[i]!, opts.appRoot !== undefined ? { appRoot: opts.appRoot } : {});
        if (f.note !== undefined) warnings.push(f.note);
        if (f.flame !== undefined) trees.push(f.flame);
      }
      return trees.length === s.results.length ? mergeFlameTrees(trees) : null;
    };
    const fb = await side(sb);
    const fc = await side(sc);
    if (fb !== null && fc !== null && fb.totalSamples > 0 && fc.totalSamples > 0) {
      flames = { base: fb, candidate: fc };
      profile = { baseSamples: fb.totalSamples, candidateSamples: fc.totalSamples, movers: topMovers(fb, fc, 20) };
    }
  }
  const out: CompareResult = {
    kind: 'compare',
    base: sb.results.map((r, i) => info(sb.dirs[i]!, r)),
    candidate: sc.results.map((r, i) => info(sc.dirs[i]!, r)),
    noiseThreshold: o.noiseThreshold,
    confidenceLevel: level,
    iterations: o.iterations,
    seed: o.seed,
    forced: problem !== null,
    warnings,
    metrics,
    notCompared,
    distribution: spec === null ? null : { percentiles: spec.percentiles, baseMs: spec.latencyMs, candidateMs: spec.serviceMs },
    series: { base: sideSeries(sb.results[0]!), candidate: sideSeries(sc.results[0]!) },
    profile,
  };
  if (flames !== null) compareFlames.set(out, flames);
  return out;
}

/** Call trees read by compareRuns, kept off the JSON result so writing compare.html need not read them again. */
const compareFlames = new WeakMap<CompareResult, { base: FlameNode; candidate: FlameNode }>();

/** The merged base and candidate call trees behind a comparison, when compareRuns read them in this process. */
export function flamesOf(cmp: CompareResult): { base: FlameNode; candidate: FlameNode } | undefined {
  return compareFlames.get(cmp);
}

/** What a `--fail-on` gate concluded: the metrics that regressed, and those it could not decide. */
export interface GateOutcome {
  regressed: CompareMetric[];
  /** Gated metrics that have no usable verdict on this data; a gate that cannot decide fails. */
  undecided: { metric: CompareMetric; reason: string }[];
}

function checkNames(failOn: readonly string[]): void {
  for (const name of failOn) {
    if (!(COMPARE_METRICS as readonly string[]).includes(name)) {
      throw new RedlineError(ErrorCodes.USAGE, `--fail-on: unknown metric "${name}"; expected some of ${COMPARE_METRICS.join(', ')}`);
    }
  }
}

/**
 * Applies a `--fail-on` gate: the metrics among `failOn` that regressed, and those that cannot be
 * decided (not computed on a side, or without an interval), in the order given. The CLI exits 1
 * when either list is non-empty — a gate that cannot decide must not pass. Throws REDLINE_ERR_USAGE
 * for a name that is not one of {@link COMPARE_METRICS}.
 */
export function evaluateGate(cmp: CompareResult, failOn: readonly string[]): GateOutcome {
  checkNames(failOn);
  const out: GateOutcome = { regressed: [], undecided: [] };
  for (const name of new Set(failOn) as Set<CompareMetric>) {
    const m = cmp.metrics.find((x) => x.metric === name);
    if (m === undefined) {
      out.undecided.push({ metric: name, reason: cmp.notCompared.find((x) => x.metric === name)?.reason ?? 'it was not compared' });
    } else if (m.undecided !== undefined) out.undecided.push({ metric: name, reason: m.undecided });
    else if (m.verdict === 'regressed') out.regressed.push(name);
  }
  return out;
}

/**
 * The metrics among `failOn` that regressed, in the order given. Prefer {@link evaluateGate}, which
 * also names the gated metrics that cannot be decided. Throws REDLINE_ERR_USAGE for an unknown name.
 */
export function failOnRegressions(cmp: CompareResult, failOn: readonly string[]): CompareMetric[] {
  return evaluateGate(cmp, failOn).regressed;
}

/** Splits a `--fail-on` list (`p99,throughput`) into metric names, checking each. */
export function parseFailOn(text: string): CompareMetric[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw new RedlineError(ErrorCodes.USAGE, `--fail-on expects a comma-separated list of metrics (${COMPARE_METRICS.join(', ')})`);
  for (const n of names) {
    if (!(COMPARE_METRICS as readonly string[]).includes(n)) throw new RedlineError(ErrorCodes.USAGE, `--fail-on: unknown metric "${n}"; expected some of ${COMPARE_METRICS.join(', ')}`);
  }
  return names as CompareMetric[];
}

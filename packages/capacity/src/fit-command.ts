import { ErrorCodes, RedlineError } from '@redline/core';
import { parseSlo } from './slo.js';
import { fitUsl, fmt, type Interval, type UslDominance, type UslFit, type UslParams, type UslPoint } from './usl.js';
import { concurrencyForThroughput, predictBurnRates, predictLatencyMs, predictThroughput } from './usl-predict.js';
import { readUslCsv } from './usl-csv.js';

/** Options for {@link fitCommandResult} (what `redline capacity fit` passes through). */
export interface FitCommandOptions {
  /** Concurrency levels to predict throughput, latency (and burn rate with `slo`) at. */
  predictAt?: readonly number[];
  /** A throughput (per second) to find the needed concurrency for. */
  targetThroughput?: number;
  /** SLO expression such as `p(99)<100`, for burn-rate predictions at `predictAt` levels. */
  slo?: string;
  /** Think time between a client's requests, ms, for Little's-law latency. Default 0. */
  thinkTimeMs?: number;
  /** Bootstrap resamples (default 1000), confidence level (default 0.95) and seed (default 1). */
  bootstrapIterations?: number;
  level?: number;
  seed?: number;
}

/** An interval in JSON form: unbounded ends are `null`. */
export interface JsonInterval {
  estimate: number | null;
  low: number | null;
  high: number | null;
  level: number;
}

/** The JSON-able result of `redline capacity fit`; `Infinity` is written as `null`. */
export interface FitCommandResult {
  file: string;
  points: UslPoint[];
  converged: boolean;
  message: string;
  /** How λ is treated: always `"free"` (fitted, not pinned to X(1)). */
  lambdaMode: 'free';
  params: UslParams;
  r2: number;
  nMax: number | null;
  nPeak: number | null;
  xMax: number | null;
  dominant: UslDominance;
  coherencyCrossover: number | null;
  measuredMax: UslPoint;
  ci: Record<'sigma' | 'kappa' | 'lambda' | 'nMax' | 'xMax', JsonInterval> | null;
  bootstrap: { attempted: number; converged: number; method: string } | null;
  predictions: Array<{
    concurrency: number;
    throughput: number;
    latencyMs: number;
    burnRate?: number | null;
    meetsSlo?: boolean;
  }>;
  target: { throughput: number; concurrency: number | null } | null;
  slo: string | null;
}

function finite(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function jsonInterval(i: Interval): JsonInterval {
  return { estimate: finite(i.estimate), low: finite(i.low), high: finite(i.high), level: i.level };
}

/**
 * Reads a (concurrency, throughput) CSV, fits the USL and returns a JSON-able result with optional
 * predictions. Bad files throw REDLINE_ERR_BAD_DATA_FILE, a bad SLO REDLINE_ERR_INVALID_THRESHOLD,
 * bad options REDLINE_ERR_INVALID_ARGUMENT (all exit code 2). A fit that does not converge is not
 * an error: `converged` is false and `message` says so, with the measured maximum.
 */
export function fitCommandResult(file: string, options: FitCommandOptions = {}): FitCommandResult {
  const slo = options.slo === undefined ? null : parseSlo(options.slo);
  const predictAt = options.predictAt ?? [];
  for (const n of predictAt) {
    if (!Number.isFinite(n) || n <= 0) {
      throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `predictAt levels must be numbers > 0, got ${n}`);
    }
  }
  const points = readUslCsv(file);
  const fit = fitUsl(points, {
    ...(options.bootstrapIterations !== undefined && { bootstrapIterations: options.bootstrapIterations }),
    ...(options.level !== undefined && { level: options.level }),
    ...(options.seed !== undefined && { seed: options.seed }),
  });
  return fitToResult(file, fit, options, slo === null ? null : slo.expression);
}

function fitToResult(file: string, fit: UslFit, options: FitCommandOptions, sloText: string | null): FitCommandResult {
  const thinkTimeMs = options.thinkTimeMs ?? 0;
  const predictAt = fit.converged ? (options.predictAt ?? []) : [];
  const burn = sloText !== null && predictAt.length > 0 ? predictBurnRates(fit.params, parseSlo(sloText), predictAt, { thinkTimeMs }) : null;
  return {
    file,
    points: fit.points,
    converged: fit.converged,
    message: fit.message,
    lambdaMode: 'free',
    params: fit.params,
    r2: fit.r2,
    nMax: finite(fit.nMax),
    nPeak: finite(fit.nPeak),
    xMax: finite(fit.xMax),
    dominant: fit.dominant,
    coherencyCrossover: finite(fit.coherencyCrossover),
    measuredMax: fit.measuredMax,
    ci: fit.ci
      ? {
          sigma: jsonInterval(fit.ci.sigma),
          kappa: jsonInterval(fit.ci.kappa),
          lambda: jsonInterval(fit.ci.lambda),
          nMax: jsonInterval(fit.ci.nMax),
          xMax: jsonInterval(fit.ci.xMax),
        }
      : null,
    bootstrap: fit.bootstrap ? { attempted: fit.bootstrap.attempted, converged: fit.bootstrap.converged, method: fit.bootstrap.method } : null,
    predictions: predictAt.map((n, i) => ({
      concurrency: n,
      throughput: predictThroughput(fit.params, n),
      latencyMs: predictLatencyMs(fit.params, n, thinkTimeMs),
      ...(burn && { burnRate: finite(burn[i]!.burnRate), meetsSlo: burn[i]!.meetsSlo }),
    })),
    target:
      options.targetThroughput === undefined || !fit.converged
        ? null
        : { throughput: options.targetThroughput, concurrency: concurrencyForThroughput(fit.params, options.targetThroughput) },
    slo: sloText,
  };
}

function ciText(i: JsonInterval | undefined): string {
  if (!i) return '';
  return ` [${i.low === null ? '∞' : fmt(i.low)}, ${i.high === null ? '∞' : fmt(i.high)}] (${Math.round(i.level * 100)} %)`;
}

/** Renders a {@link FitCommandResult} as plain text lines for the terminal (no colour, ends with a newline). */
export function renderFitText(result: FitCommandResult): string {
  const out: string[] = [];
  out.push(`USL fit of ${result.points.length} points from ${result.file}`);
  if (!result.converged) {
    out.push(`  ${result.message}`);
    return `${out.join('\n')}\n`;
  }
  const ci = result.ci;
  out.push(`  σ (contention)   ${fmt(result.params.sigma)}${ciText(ci?.sigma)}`);
  out.push(`  κ (coherency)    ${fmt(result.params.kappa)}${ciText(ci?.kappa)}`);
  out.push(`  λ (one client)   ${fmt(result.params.lambda)}/s${ciText(ci?.lambda)}  (fitted, not pinned to X(1))`);
  out.push(`  N_max            ${result.nMax === null ? '∞ (no coherency penalty measured)' : fmt(result.nMax)}${ciText(ci?.nMax)}`);
  out.push(`  X_max            ${result.xMax === null ? '∞' : `${fmt(result.xMax)}/s`}${ciText(ci?.xMax)}`);
  out.push(`  R²               ${result.r2.toFixed(4)}`);
  const crossover = result.coherencyCrossover === null ? 'never' : `above N = ${fmt(result.coherencyCrossover)}`;
  out.push(
    `  dominant         ${result.dominant === 'none' ? 'neither (scales almost linearly)' : result.dominant} at the highest measured load; coherency overtakes contention ${crossover}`,
  );
  out.push(`  measured max     ${fmt(result.measuredMax.throughput)}/s at N = ${fmt(result.measuredMax.concurrency)}`);
  for (const p of result.predictions) {
    const burn = p.burnRate === undefined ? '' : `, burn rate ${p.burnRate === null ? '∞' : p.burnRate.toFixed(2)}${p.meetsSlo ? '' : ' (breaks SLO)'}`;
    out.push(`  at N = ${fmt(p.concurrency)}: ${fmt(p.throughput)}/s, mean latency ${fmt(p.latencyMs)} ms${burn}`);
  }
  if (result.target) {
    out.push(
      result.target.concurrency === null
        ? `  ${fmt(result.target.throughput)}/s is above what the model can reach (X_max)`
        : `  ${fmt(result.target.throughput)}/s needs N ≈ ${fmt(result.target.concurrency)}`,
    );
  }
  return `${out.join('\n')}\n`;
}

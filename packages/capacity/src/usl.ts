import { ErrorCodes, RedlineError, percentileOfSorted, seededRandom } from '@redline/core';
import { leastSquaresQr, levenbergMarquardt } from './levenberg-marquardt.js';

/** One measurement: throughput X (per second) observed at concurrency N. */
export interface UslPoint {
  /** Concurrency (clients, VUs, or mean in-flight requests); > 0. */
  concurrency: number;
  /** Completed operations per second; ≥ 0. */
  throughput: number;
}

/** The three Universal Scalability Law parameters. */
export interface UslParams {
  /** Contention (serial fraction), 0–1. */
  sigma: number;
  /** Coherency (crosstalk) penalty, ≥ 0. */
  kappa: number;
  /** Throughput of one client, per second. */
  lambda: number;
}

/** A confidence interval; `low`/`high` may be `Infinity` for N_max when κ can be 0. */
export interface Interval {
  estimate: number;
  low: number;
  high: number;
  /** Confidence level, e.g. 0.95. */
  level: number;
}

/** Which term of the USL denominator costs more at the highest measured concurrency. */
export type UslDominance = 'contention' | 'coherency' | 'none';

/** Result of {@link fitUsl}. */
export interface UslFit {
  /** Fitted parameters (σ, κ, λ all free). Meaningless when `converged` is false. */
  params: UslParams;
  converged: boolean;
  /** A sentence for people: how the fit ended (and why not, when it did not converge). */
  message: string;
  iterations: number;
  /** Sum of squared throughput residuals. */
  sse: number;
  /** Coefficient of determination of the fit on throughput. */
  r2: number;
  /**
   * Concurrency of peak throughput, floor(sqrt((1−σ)/κ)) as concurrency is a whole number;
   * `Infinity` when κ = 0 (throughput never falls).
   */
  nMax: number;
  /** The unrounded sqrt((1−σ)/κ); `Infinity` when κ = 0. */
  nPeak: number;
  /** X(nMax): the highest throughput the model predicts at whole concurrency; λ/σ when κ = 0. */
  xMax: number;
  /** Term that dominates the loss of linearity at the highest measured concurrency. */
  dominant: UslDominance;
  /** Concurrency above which coherency costs more than contention (σ/κ); `Infinity` when κ = 0. */
  coherencyCrossover: number;
  /** The highest measured throughput and its concurrency, reported whether or not the fit converged. */
  measuredMax: UslPoint;
  /** Bootstrap confidence intervals; absent when bootstrapping was disabled or the fit failed. */
  ci?: { sigma: Interval; kappa: Interval; lambda: Interval; nMax: Interval; xMax: Interval };
  /** Parameter sets of the converged bootstrap fits (for confidence bands); at most `bootstrapIterations`. */
  bootstrap?: { samples: UslParams[]; attempted: number; converged: number; method: string };
  points: UslPoint[];
}

/** Options for {@link fitUsl}. */
export interface UslFitOptions {
  /** Bootstrap resamples for the confidence intervals (0 disables them). Default 1000, max 20000. */
  bootstrapIterations?: number;
  /** Confidence level in (0, 1). Default 0.95. */
  level?: number;
  /** Seed of the bootstrap's random generator; the same seed gives the same intervals. Default 1. */
  seed?: number;
  /** LM iteration cap per fit. Default 500. */
  maxIterations?: number;
}

/** Minimum number of points {@link fitUsl} accepts (three parameters need redundancy to be trusted). */
export const MIN_USL_POINTS = 6;

/** Throughput the USL predicts at concurrency `n` (per second). */
export function uslThroughput(params: UslParams, n: number): number {
  const { sigma, kappa, lambda } = params;
  return (lambda * n) / (1 + sigma * (n - 1) + kappa * n * (n - 1));
}

function modelFor(ns: readonly number[]): (p: readonly number[]) => number[] {
  return (p) => ns.map((n) => uslThroughput({ sigma: p[0]!, kappa: p[1]!, lambda: p[2]! }, n));
}

function jacobianFor(ns: readonly number[]): (p: readonly number[]) => number[][] {
  return (p) =>
    ns.map((n) => {
      const [sigma, kappa, lambda] = [p[0]!, p[1]!, p[2]!];
      const d = 1 + sigma * (n - 1) + kappa * n * (n - 1);
      const common = (-lambda * n) / (d * d);
      return [common * (n - 1), common * n * (n - 1), n / d];
    });
}

const LOWER = [0, 0, Number.MIN_VALUE];
const UPPER = [1, Infinity, Infinity];

/**
 * Starting values from the linearised USL, N/X = 1/λ + (σ/λ)(N−1) + (κ/λ)N(N−1), an ordinary
 * least-squares problem; falls back to a neutral guess when the line is degenerate.
 */
function initialGuesses(points: readonly UslPoint[]): number[][] {
  const usable = points.filter((p) => p.throughput > 0);
  const guesses: number[][] = [];
  if (usable.length >= 3) {
    const coef = leastSquaresQr(
      usable.map((p) => [1, p.concurrency - 1, p.concurrency * (p.concurrency - 1)]),
      usable.map((p) => p.concurrency / p.throughput),
    );
    const [a, b, c] = [coef[0]!, coef[1]!, coef[2]!];
    if (a > 0 && Number.isFinite(a)) guesses.push([Math.min(1, Math.max(0, b / a)), Math.max(0, c / a), 1 / a]);
  }
  const first = [...usable].sort((x, y) => x.concurrency - y.concurrency)[0];
  const lambda0 = first ? first.throughput / first.concurrency : 1;
  guesses.push([0.05, 1e-4, lambda0], [0.3, 1e-2, lambda0]);
  return guesses;
}

interface RawFit {
  params: UslParams;
  sse: number;
  iterations: number;
  converged: boolean;
  reason: string;
}

function fitRaw(ns: readonly number[], xs: readonly number[], starts: readonly number[][], maxIterations: number): RawFit {
  let best: RawFit | undefined;
  for (const start of starts) {
    const r = levenbergMarquardt(xs, modelFor(ns), jacobianFor(ns), start, { lower: LOWER, upper: UPPER, maxIterations });
    const candidate: RawFit = {
      params: { sigma: r.params[0]!, kappa: r.params[1]!, lambda: r.params[2]! },
      sse: r.sse,
      iterations: r.iterations,
      converged: r.converged,
      reason: r.reason,
    };
    if (
      best === undefined ||
      (candidate.converged && !best.converged) ||
      (candidate.converged === best.converged && candidate.sse < best.sse)
    ) {
      best = candidate;
    }
  }
  return best!;
}

/** N_max, the unrounded peak, X_max for a parameter set (see {@link UslFit}). */
export function uslPeak(params: UslParams): { nMax: number; nPeak: number; xMax: number } {
  if (params.kappa <= 0) {
    return { nMax: Infinity, nPeak: Infinity, xMax: params.sigma > 0 ? params.lambda / params.sigma : Infinity };
  }
  const nPeak = Math.sqrt((1 - params.sigma) / params.kappa);
  const nMax = Math.max(1, Math.floor(nPeak));
  return { nMax, nPeak, xMax: uslThroughput(params, nMax) };
}

/** Validates measurement points, throwing REDLINE_ERR_INVALID_ARGUMENT with the offending index. */
export function validateUslPoints(points: readonly UslPoint[]): void {
  if (!Array.isArray(points) || points.length < MIN_USL_POINTS) {
    throw new RedlineError(
      ErrorCodes.INVALID_ARGUMENT,
      `a USL fit needs at least ${MIN_USL_POINTS} (concurrency, throughput) points, got ${Array.isArray(points) ? points.length : 0}`,
    );
  }
  points.forEach((p, i) => {
    if (!Number.isFinite(p.concurrency) || p.concurrency <= 0) {
      throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `point ${i}: concurrency must be a finite number > 0, got ${p.concurrency}`);
    }
    if (!Number.isFinite(p.throughput) || p.throughput < 0) {
      throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `point ${i}: throughput must be a finite number >= 0, got ${p.throughput}`);
    }
  });
  const distinct = new Set(points.map((p) => p.concurrency)).size;
  if (distinct < 3) {
    throw new RedlineError(
      ErrorCodes.INVALID_ARGUMENT,
      `a USL fit needs at least 3 distinct concurrency levels to determine σ, κ and λ, got ${distinct}`,
    );
  }
}

function validateOptions(options: UslFitOptions): Required<UslFitOptions> {
  const bootstrapIterations = options.bootstrapIterations ?? 1000;
  const level = options.level ?? 0.95;
  const seed = options.seed ?? 1;
  const maxIterations = options.maxIterations ?? 500;
  if (!Number.isInteger(bootstrapIterations) || bootstrapIterations < 0 || bootstrapIterations > 20_000) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `bootstrapIterations must be an integer from 0 to 20000, got ${bootstrapIterations}`);
  }
  if (!(level > 0 && level < 1)) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `level must be between 0 and 1 (exclusive), got ${level}`);
  }
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `maxIterations must be a positive integer, got ${maxIterations}`);
  }
  return { bootstrapIterations, level, seed, maxIterations };
}

function dominance(params: UslParams, nHigh: number): UslDominance {
  const contention = params.sigma * (nHigh - 1);
  const coherency = params.kappa * nHigh * (nHigh - 1);
  // Below a 1 % loss at the highest load the system still scales linearly: neither term matters.
  if (contention + coherency < 0.01) return 'none';
  return coherency > contention ? 'coherency' : 'contention';
}

function interval(values: number[], estimate: number, level: number): Interval {
  const sorted = [...values].sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return { estimate, low: quantile(sorted, alpha), high: quantile(sorted, 1 - alpha), level };
}

/** Interpolated quantile that stays `Infinity` (not NaN) when it falls among unbounded values. */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = q * (sorted.length - 1);
  const a = sorted[Math.floor(rank)]!;
  const b = sorted[Math.ceil(rank)]!;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return b;
  return percentileOfSorted(sorted, q * 100);
}

/**
 * Fits the Universal Scalability Law X(N) = λN / (1 + σ(N−1) + κN(N−1)) to measurements by
 * Levenberg–Marquardt least squares on throughput, with σ, κ and λ all free (λ is not pinned to
 * X(1)); σ is kept in [0, 1] and κ ≥ 0. Confidence intervals come from a residual bootstrap on
 * relative residuals (throughput noise grows with load), rescaled by √(n/(n−3)).
 * Fewer than {@link MIN_USL_POINTS} points, bad values or fewer than three distinct concurrency
 * levels throw REDLINE_ERR_INVALID_ARGUMENT. A fit that does not converge does not throw: it
 * returns `converged: false`, a message, and still the measured maximum.
 */
export function fitUsl(points: readonly UslPoint[], options: UslFitOptions = {}): UslFit {
  validateUslPoints(points);
  const opts = validateOptions(options);
  const pts = points.map((p) => ({ concurrency: p.concurrency, throughput: p.throughput }));
  const ns = pts.map((p) => p.concurrency);
  const xs = pts.map((p) => p.throughput);
  const measuredMax = pts.reduce((best, p) => (p.throughput > best.throughput ? p : best), pts[0]!);
  const nHigh = Math.max(...ns);

  const raw = fitRaw(ns, xs, initialGuesses(pts), opts.maxIterations);
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sst = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  const r2 = sst === 0 ? 0 : 1 - raw.sse / sst;
  const peak = uslPeak(raw.params);
  const base = {
    params: raw.params,
    converged: raw.converged,
    iterations: raw.iterations,
    sse: raw.sse,
    r2,
    ...peak,
    dominant: dominance(raw.params, nHigh),
    coherencyCrossover: raw.params.kappa > 0 ? raw.params.sigma / raw.params.kappa : Infinity,
    measuredMax,
    points: pts,
  };
  if (!raw.converged) {
    return {
      ...base,
      message: `the USL fit did not converge (${raw.reason}); the measured maximum is ${fmt(measuredMax.throughput)}/s at concurrency ${fmt(measuredMax.concurrency)}`,
    };
  }
  const fit: UslFit = { ...base, message: `converged after ${raw.iterations} iterations (${raw.reason})` };
  if (opts.bootstrapIterations > 0) Object.assign(fit, bootstrapUsl(ns, xs, raw.params, opts));
  return fit;
}

function bootstrapUsl(
  ns: readonly number[],
  xs: readonly number[],
  params: UslParams,
  opts: Required<UslFitOptions>,
): Pick<UslFit, 'ci' | 'bootstrap'> {
  const fitted = ns.map((n) => uslThroughput(params, n));
  const n = ns.length;
  const inflate = Math.sqrt(n / (n - 3));
  const rel = xs.map((x, i) => (fitted[i]! > 0 ? (x - fitted[i]!) / fitted[i]! : 0));
  const relMean = rel.reduce((a, b) => a + b, 0) / n;
  const centred = rel.map((e) => (e - relMean) * inflate);
  const rand = seededRandom(opts.seed);
  const start = [params.sigma, params.kappa, params.lambda];
  const samples: UslParams[] = [];
  for (let b = 0; b < opts.bootstrapIterations; b++) {
    const ys = fitted.map((f) => Math.max(0, f * (1 + centred[Math.floor(rand() * n)]!)));
    const r = fitRaw(ns, ys, [start], opts.maxIterations);
    if (r.converged && Number.isFinite(r.sse)) samples.push(r.params);
  }
  const peak = uslPeak(params);
  const peaks = samples.map(uslPeak);
  return {
    ci: {
      sigma: interval(samples.map((s) => s.sigma), params.sigma, opts.level),
      kappa: interval(samples.map((s) => s.kappa), params.kappa, opts.level),
      lambda: interval(samples.map((s) => s.lambda), params.lambda, opts.level),
      nMax: interval(peaks.map((p) => p.nMax), peak.nMax, opts.level),
      xMax: interval(peaks.map((p) => p.xMax), peak.xMax, opts.level),
    },
    bootstrap: {
      samples,
      attempted: opts.bootstrapIterations,
      converged: samples.length,
      method: 'residual bootstrap on relative residuals, rescaled by sqrt(n/(n-3)), percentile intervals',
    },
  };
}

/** Formats a number with up to 6 significant digits for messages. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(6)));
}

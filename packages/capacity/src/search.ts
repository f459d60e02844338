import { ErrorCodes, RedlineError, systemClock, type Clock } from '@redline/core';
import { meetsSlo, parseSlo, type Slo } from './slo.js';
import { fitUsl, fmt, type UslFit, type UslFitOptions, type UslPoint } from './usl.js';
import { measuredKnee } from './knee.js';

/** One load step to run: hold `level` for `warmupMs + durationMs`, measuring only after warm-up. */
export interface StepSpec {
  /** `open`: `level` is an arrival rate per second; `closed`: `level` is a number of VUs. */
  model: 'open' | 'closed';
  level: number;
  durationMs: number;
  warmupMs: number;
}

/** What a step runner measured over a step's steady-state window (warm-up excluded). */
export interface StepMeasurement {
  level: number;
  /** Requests per second that completed without error. */
  throughput: number;
  /** Latency in ms (from the intended send time in open models). */
  latency: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** Failed requests / all requests, 0–1. */
  errorRate: number;
  /** Mean number of requests in flight, measured by the generator. */
  concurrencyMean: number;
  /** True when the generator could not hold the intended load. */
  generatorLimited: boolean;
  /** Why the generator judged itself limited, in plain language (when it says). */
  generatorReasons?: string[];
  /** Run directory of the step, when the runner wrote one. */
  runDir?: string;
  /** Other latency percentiles in ms keyed by percentile (`"95"`, `"99.9"`), for SLOs on them. */
  percentiles?: Record<string, number>;
}

/** Runs one step; must honour `signal` by rejecting or returning early. */
export type StepRunner = (step: StepSpec, signal: AbortSignal) => Promise<StepMeasurement>;

/** Why a step was judged bad. */
export type StepProblem = 'slo' | 'errors' | 'plateau';

/** Why the search ended. */
export type SearchStopReason = StepProblem | 'max-level' | 'budget' | 'max-steps' | 'generator-limited' | 'aborted';

/** Little's-law consistency of a step: concurrency ≈ throughput × mean latency. */
export interface LittleCheck {
  /** throughput × mean latency (requests in flight). */
  expected: number;
  measured: number;
  /** |measured − expected| / expected (0 when both are 0). */
  deviation: number;
  ok: boolean;
}

/** One executed step with its verdict. */
export interface SearchStep {
  index: number;
  phase: 'ramp' | 'bisect';
  spec: StepSpec;
  measurement: StepMeasurement;
  /** Latency at the SLO percentile, ms. */
  sloLatencyMs: number;
  ok: boolean;
  problems: StepProblem[];
  little: LittleCheck;
}

/** Something the user should know about the search's evidence. */
export interface SearchFlag {
  kind: 'littles-law' | 'generator-limited' | 'lower-bound' | 'first-step-failed' | 'usl-not-converged' | 'usl-knee-implausible' | 'aborted';
  /** Step index the flag is about, when it is about one. */
  step?: number;
  message: string;
}

/** The capacity verdict: the highest level that met the SLO and the error budget. */
export interface MaxSustainable {
  level: number;
  throughput: number;
  p99Ms: number;
  /** Latency at the SLO's percentile, ms (equals p99Ms for a p(99) SLO). */
  sloLatencyMs: number;
  errorRate: number;
  step: number;
  /** True when the search stopped before any step failed, so the real limit is higher. */
  lowerBound: boolean;
}

/** Where throughput stops scaling. */
export interface Knee {
  /** `usl`: N_max of a converged USL fit on the steps; `measured`: the corner of the measured curve. */
  source: 'usl' | 'measured';
  /** Concurrency (mean in-flight requests) at the knee. */
  concurrency: number;
  /** Throughput per second at the knee. */
  throughput: number;
}

/** Result of {@link searchCapacity}. */
export interface SearchResult {
  model: 'open' | 'closed';
  slo: Slo;
  errorBudget: number;
  maxSustainable: MaxSustainable | null;
  stopReason: SearchStopReason;
  knee: Knee | null;
  /**
   * The corner of the measured (concurrency, throughput) curve, always computed: a USL fit smooths a
   * hard limit (a fixed pool of workers) into a rounded peak a little to the right of it, so both are kept.
   */
  measuredKnee: Knee | null;
  /** USL fit on the steps' (concurrencyMean, throughput), when there were at least six usable steps. */
  usl: UslFit | null;
  steps: SearchStep[];
  flags: SearchFlag[];
  /** Time charged against the budget: the larger of planned step time and wall-clock time, ms. */
  elapsedMs: number;
  budgetMs: number;
}

/** Progress after each step, for a live line. */
export interface SearchProgress {
  step: SearchStep;
  elapsedMs: number;
  budgetMs: number;
  /** Best level that passed so far, or null. */
  bestLevel: number | null;
}

/** Options for {@link searchCapacity}. */
export interface SearchOptions {
  model: 'open' | 'closed';
  /** SLO, parsed or as an expression (`p(99)<100`). */
  slo: Slo | string;
  /** Highest acceptable error rate of a step, 0–1. Default 0.01. */
  errorBudget?: number;
  /** First level (rate per second or VUs), > 0. */
  startLevel: number;
  /** Multiply the level by this each ramp step (> 1). Default 1.5 unless `increment` is given. */
  growthFactor?: number;
  /** Add this to the level each ramp step instead of multiplying (> 0). */
  increment?: number;
  /** Highest level to try. */
  maxLevel: number;
  /** Measured duration of each step, ms (> 0). */
  stepDurationMs: number;
  /** Warm-up before each step's measurement, ms (≥ 0). Default 0. */
  warmupMs?: number;
  /** Total time budget for all steps, ms; no step starts that would overrun it. */
  maxDurationMs: number;
  /** Hard cap on the number of steps (ramp + bisect). Default 50. */
  maxSteps?: number;
  /** Bisection iterations between the last good and first bad level. Default 4. */
  bisectIterations?: number;
  /** Stop bisecting when the bracket is narrower than this fraction of the good level. Default 0.02. */
  bisectResolution?: number;
  /**
   * A step is a plateau when throughput grew by less than this fraction of the relative growth of the
   * level since the last good step (0.25: a 50 % higher level must bring > 12.5 % more throughput). Default 0.25.
   */
  plateauRatio?: number;
  /** Open model: a step whose throughput is below (1 − this) × the rate does not keep up. Default 0.1. */
  keepUpTolerance?: number;
  /** How often a generator-limited step is measured again before the search stops. Default 1, max 5. */
  generatorRetries?: number;
  /** Allowed relative Little's-law deviation before a step is flagged. Default 0.1. */
  littleTolerance?: number;
  /** Options for the USL fit on the steps. Default 300 bootstrap iterations. */
  usl?: UslFitOptions;
  /** Called after every step. Errors thrown here abort the search. */
  onStep?: (progress: SearchProgress) => void;
  signal?: AbortSignal;
  /**
   * A step still running this long after the budget ran out is aborted (through the signal the
   * runner gets) and the search ends with `budget`. Default 10 % of `maxDurationMs`, at least 5 s.
   */
  budgetGraceMs?: number;
  clock?: Clock;
}

function invalid(message: string): RedlineError {
  return new RedlineError(ErrorCodes.INVALID_ARGUMENT, message);
}

interface Resolved extends Required<Omit<SearchOptions, 'slo' | 'onStep' | 'signal' | 'clock' | 'increment' | 'growthFactor' | 'usl' | 'budgetGraceMs'>> {
  slo: Slo;
  increment: number | null;
  growthFactor: number;
  usl: UslFitOptions;
}

function positive(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw invalid(`${name} must be a finite number > 0, got ${String(v)}`);
  return v;
}

function fraction(name: string, v: number, max = 1): number {
  if (!Number.isFinite(v) || v < 0 || v > max) throw invalid(`${name} must be between 0 and ${max}, got ${v}`);
  return v;
}

function resolveOptions(o: SearchOptions): Resolved {
  if (o.model !== 'open' && o.model !== 'closed') throw invalid(`model must be "open" or "closed", got ${String(o.model)}`);
  const slo = typeof o.slo === 'string' ? parseSlo(o.slo) : o.slo;
  const startLevel = positive('startLevel', o.startLevel);
  const maxLevel = positive('maxLevel', o.maxLevel);
  if (maxLevel < startLevel) throw invalid(`maxLevel (${maxLevel}) must be at least startLevel (${startLevel})`);
  if (o.growthFactor !== undefined && o.increment !== undefined) throw invalid('give either growthFactor or increment, not both');
  const growthFactor = o.growthFactor ?? 1.5;
  if (!(Number.isFinite(growthFactor) && growthFactor > 1)) throw invalid(`growthFactor must be a number > 1, got ${growthFactor}`);
  const increment = o.increment === undefined ? null : positive('increment', o.increment);
  const warmupMs = o.warmupMs ?? 0;
  if (!Number.isFinite(warmupMs) || warmupMs < 0) throw invalid(`warmupMs must be a finite number >= 0, got ${warmupMs}`);
  const maxSteps = o.maxSteps ?? 50;
  if (!Number.isInteger(maxSteps) || maxSteps < 1 || maxSteps > 1000) throw invalid(`maxSteps must be an integer from 1 to 1000, got ${maxSteps}`);
  const bisectIterations = o.bisectIterations ?? 4;
  if (!Number.isInteger(bisectIterations) || bisectIterations < 0 || bisectIterations > 20) {
    throw invalid(`bisectIterations must be an integer from 0 to 20, got ${bisectIterations}`);
  }
  const generatorRetries = o.generatorRetries ?? 1;
  if (!Number.isInteger(generatorRetries) || generatorRetries < 0 || generatorRetries > 5) {
    throw invalid(`generatorRetries must be an integer from 0 to 5, got ${generatorRetries}`);
  }
  return {
    model: o.model,
    generatorRetries,
    slo,
    errorBudget: fraction('errorBudget', o.errorBudget ?? 0.01),
    startLevel,
    growthFactor,
    increment,
    maxLevel,
    stepDurationMs: positive('stepDurationMs', o.stepDurationMs),
    warmupMs,
    maxDurationMs: positive('maxDurationMs', o.maxDurationMs),
    maxSteps,
    bisectIterations,
    bisectResolution: fraction('bisectResolution', o.bisectResolution ?? 0.02),
    plateauRatio: fraction('plateauRatio', o.plateauRatio ?? 0.25),
    keepUpTolerance: fraction('keepUpTolerance', o.keepUpTolerance ?? 0.1),
    littleTolerance: fraction('littleTolerance', o.littleTolerance ?? 0.1, 10),
    usl: o.usl ?? { bootstrapIterations: 300 },
  };
}

/**
 * Latency (ms) at percentile `p` of a step: p50/p90/p99/max (p100) directly, others from
 * `percentiles`. Throws REDLINE_ERR_INVALID_ARGUMENT when the runner did not report it.
 */
export function stepPercentileMs(m: StepMeasurement, p: number): number {
  const direct: Record<number, number> = { 50: m.latency.p50, 90: m.latency.p90, 99: m.latency.p99, 100: m.latency.max };
  const value = direct[p] ?? m.percentiles?.[String(p)];
  if (value === undefined) {
    throw invalid(`the step runner reported no p(${p}) latency; it must fill percentiles["${p}"] for this SLO`);
  }
  return value;
}

/** Checks Little's law on a step: in-flight concurrency ≈ throughput × mean latency (seconds). */
export function checkLittlesLaw(m: StepMeasurement, tolerance = 0.1): LittleCheck {
  const expected = m.throughput * (m.latency.mean / 1000);
  const measured = m.concurrencyMean;
  const deviation = expected === 0 ? (measured === 0 ? 0 : Infinity) : Math.abs(measured - expected) / expected;
  return { expected, measured, deviation, ok: deviation <= tolerance };
}

function judge(o: Resolved, m: StepMeasurement, level: number, reference: SearchStep | null): { sloLatencyMs: number; problems: StepProblem[] } {
  const problems: StepProblem[] = [];
  const sloLatencyMs = stepPercentileMs(m, o.slo.percentile);
  if (!meetsSlo(o.slo, sloLatencyMs)) problems.push('slo');
  if (m.errorRate > o.errorBudget) problems.push('errors');
  let plateau = o.model === 'open' && m.throughput < (1 - o.keepUpTolerance) * level;
  if (reference && level > reference.spec.level && reference.measurement.throughput > 0) {
    const levelGain = level / reference.spec.level - 1;
    const throughputGain = m.throughput / reference.measurement.throughput - 1;
    if (throughputGain < o.plateauRatio * levelGain) plateau = true;
  }
  if (plateau) problems.push('plateau');
  return { sloLatencyMs, problems };
}

function roundLevel(o: Resolved, level: number): number {
  return o.model === 'closed' ? Math.max(1, Math.round(level)) : Number(level.toPrecision(6));
}

/**
 * Finds the maximum sustainable load: raises the level step by step until a step breaks the SLO,
 * exceeds the error budget or stops adding throughput, then bisects between the last good and the
 * first bad level. Respects the time budget, the maximum level, a step cap and `signal`, so it always
 * ends by itself. Little's law is checked on every step; violations and generator-limited steps are
 * flagged. Bad options throw REDLINE_ERR_INVALID_ARGUMENT (a bad SLO REDLINE_ERR_INVALID_THRESHOLD);
 * errors from `runStep` propagate unless the search was aborted.
 */
export async function searchCapacity(runStep: StepRunner, options: SearchOptions): Promise<SearchResult> {
  const o = resolveOptions(options);
  const clock = options.clock ?? systemClock;
  const graceMs = options.budgetGraceMs ?? Math.max(5000, o.maxDurationMs * 0.1);
  if (!Number.isFinite(graceMs) || graceMs < 0) throw invalid(`budgetGraceMs must be a finite number >= 0, got ${graceMs}`);
  // The runner's signal fires on the caller's abort or when a step overruns the budget by the grace.
  const controller = new AbortController();
  const userSignal = options.signal;
  const onUserAbort = (): void => controller.abort(userSignal?.reason);
  if (userSignal?.aborted) onUserAbort();
  userSignal?.addEventListener('abort', onUserAbort, { once: true });
  let overran = false;
  const deadline = setTimeout(() => {
    overran = true;
    controller.abort(new RedlineError(ErrorCodes.TIMEOUT, `the capacity search overran its ${o.maxDurationMs} ms budget`));
  }, o.maxDurationMs + graceMs);
  deadline.unref();
  const signal = controller.signal;
  const stopped = (): SearchStopReason => (overran ? 'budget' : 'aborted');
  const startedMs = clock.now();
  const stepCostMs = o.warmupMs + o.stepDurationMs;
  let plannedMs = 0;
  const elapsed = (): number => Math.max(plannedMs, clock.now() - startedMs);
  const steps: SearchStep[] = [];
  const flags: SearchFlag[] = [];
  let good: SearchStep | null = null;
  let bad: SearchStep | null = null;
  let stopReason: SearchStopReason | null = null;

  /** Runs one step, or returns a stop reason when none may start. */
  const run = async (level: number, phase: SearchStep['phase'], reference: SearchStep | null): Promise<SearchStep | SearchStopReason> => {
    if (signal.aborted) return stopped();
    if (steps.length >= o.maxSteps) return 'max-steps';
    if (elapsed() + stepCostMs > o.maxDurationMs) return 'budget';
    const spec: StepSpec = { model: o.model, level, durationMs: o.stepDurationMs, warmupMs: o.warmupMs };
    let measurement: StepMeasurement;
    try {
      measurement = await runStep(spec, signal);
    } catch (err) {
      if (signal.aborted) return stopped();
      throw err;
    }
    plannedMs += stepCostMs;
    if (signal.aborted) return stopped();
    const { sloLatencyMs, problems } = judge(o, measurement, level, reference);
    const little = checkLittlesLaw(measurement, o.littleTolerance);
    const step: SearchStep = { index: steps.length, phase, spec, measurement, sloLatencyMs, ok: problems.length === 0, problems, little };
    steps.push(step);
    if (!little.ok) {
      flags.push({
        kind: 'littles-law',
        step: step.index,
        message: `step ${step.index + 1} (level ${fmt(level)}): measured concurrency ${fmt(little.measured)} differs from throughput × mean latency = ${fmt(little.expected)} by ${(little.deviation * 100).toFixed(0)} % (> ${(o.littleTolerance * 100).toFixed(0)} %); the generator or the measurement is off`,
      });
    }
    if (measurement.generatorLimited) {
      flags.push({
        kind: 'generator-limited',
        step: step.index,
        message: `step ${step.index + 1} (level ${fmt(level)}): the load generator could not hold the load, so this step measures the generator, not the target${measurement.generatorReasons?.length ? ` (${measurement.generatorReasons.join('; ')})` : ''}`,
      });
    }
    options.onStep?.({ step, elapsedMs: elapsed(), budgetMs: o.maxDurationMs, bestLevel: (step.ok && !measurement.generatorLimited ? step : good)?.spec.level ?? null });
    return step;
  };

  // A generator-limited step says nothing about the target; on a busy machine it is often a
  // passing disturbance, so the same level is measured again before the search gives up.
  const runRetrying = async (level: number, phase: SearchStep['phase'], reference: SearchStep | null): Promise<SearchStep | SearchStopReason> => {
    let outcome = await run(level, phase, reference);
    for (let retry = 0; retry < o.generatorRetries && typeof outcome !== 'string' && outcome.measurement.generatorLimited; retry++) {
      outcome = await run(level, phase, reference);
    }
    return outcome;
  };

  try {
    // Ramp.
    let level = roundLevel(o, o.startLevel);
    while (stopReason === null) {
      const outcome = await runRetrying(level, 'ramp', good);
      if (typeof outcome === 'string') {
        stopReason = outcome;
        break;
      }
      if (outcome.measurement.generatorLimited) {
        stopReason = 'generator-limited';
        break;
      }
      if (!outcome.ok) {
        bad = outcome;
        stopReason = outcome.problems[0]!;
        break;
      }
      good = outcome;
      if (level >= o.maxLevel) {
        stopReason = 'max-level';
        break;
      }
      let next = roundLevel(o, o.increment !== null ? level + o.increment : level * o.growthFactor);
      if (next <= level) next = level + 1;
      level = Math.min(next, roundLevel(o, o.maxLevel));
    }

    // Bisect between the last good and the first bad level.
    if (good && bad) {
      for (let i = 0; i < o.bisectIterations; i++) {
        const lo = good.spec.level;
        const hi = bad.spec.level;
        if (hi - lo <= o.bisectResolution * lo || (o.model === 'closed' && hi - lo <= 1)) break;
        const mid = roundLevel(o, (lo + hi) / 2);
        if (mid <= lo || mid >= hi) break;
        const outcome = await runRetrying(mid, 'bisect', good);
        if (typeof outcome === 'string') {
          if (outcome === 'aborted' || overran) stopReason = outcome;
          break;
        }
        if (outcome.measurement.generatorLimited) break;
        if (outcome.ok) good = outcome;
        else bad = outcome;
      }
    }

  } finally {
    clearTimeout(deadline);
    userSignal?.removeEventListener('abort', onUserAbort);
  }

  const finalReason: SearchStopReason = stopReason ?? 'max-steps';
  if (finalReason === 'aborted') flags.push({ kind: 'aborted', message: 'the search was aborted; the result covers the steps that completed' });
  if (overran) flags.push({ kind: 'aborted', message: `a step overran the ${o.maxDurationMs} ms budget by more than ${graceMs} ms and was aborted` });
  const lowerBound = bad === null;
  if (good && lowerBound) {
    flags.push({
      kind: 'lower-bound',
      message: `no step failed before the search stopped (${finalReason}); the real limit is above ${fmt(good.spec.level)}`,
    });
  }
  if (!good && steps[0]) {
    flags.push({
      kind: 'first-step-failed',
      step: 0,
      message: `the first step (level ${fmt(steps[0].spec.level)}) already failed (${steps[0].problems.join(', ') || finalReason}); lower the start level`,
    });
  }
  const maxSustainable: MaxSustainable | null = good
    ? {
        level: good.spec.level,
        throughput: good.measurement.throughput,
        p99Ms: good.measurement.latency.p99,
        sloLatencyMs: good.sloLatencyMs,
        errorRate: good.measurement.errorRate,
        step: good.index,
        lowerBound,
      }
    : null;
  const { knee, measured, usl } = findKnee(steps, o.usl, flags);
  return { model: o.model, slo: o.slo, errorBudget: o.errorBudget, maxSustainable, stopReason: finalReason, knee, measuredKnee: measured, usl, steps, flags, elapsedMs: elapsed(), budgetMs: o.maxDurationMs };
}

/** The USL knee is used only when its peak throughput is at most this multiple of the highest measured one. */
export const USL_KNEE_MAX_OVERSHOOT = 1.1;

function findKnee(
  steps: readonly SearchStep[],
  uslOptions: UslFitOptions,
  flags: SearchFlag[],
): { knee: Knee | null; measured: Knee | null; usl: UslFit | null } {
  const points: UslPoint[] = steps
    .filter((s) => !s.measurement.generatorLimited && s.measurement.concurrencyMean > 0 && Number.isFinite(s.measurement.concurrencyMean))
    .map((s) => ({ concurrency: s.measurement.concurrencyMean, throughput: s.measurement.throughput }))
    .sort((a, b) => a.concurrency - b.concurrency);
  const corner = measuredKnee(points);
  const measured: Knee | null = corner ? { source: 'measured', ...corner } : null;
  let usl: UslFit | null = null;
  if (points.length >= 6 && new Set(points.map((p) => p.concurrency)).size >= 3) {
    usl = fitUsl(points, uslOptions);
    if (!usl.converged) {
      flags.push({ kind: 'usl-not-converged', message: usl.message });
    } else if (Number.isFinite(usl.nMax) && usl.nMax <= points.at(-1)!.concurrency * 2) {
      // A USL peak far above every measured throughput is the model smoothing a hard limit, not a knee.
      const measuredMax = Math.max(...points.map((p) => p.throughput));
      if (usl.xMax <= measuredMax * USL_KNEE_MAX_OVERSHOOT) {
        return { knee: { source: 'usl', concurrency: usl.nMax, throughput: usl.xMax }, measured, usl };
      }
      flags.push({
        kind: 'usl-knee-implausible',
        message: `the USL peak (${fmt(usl.xMax)}/s at N=${fmt(usl.nMax)}) is more than ${Math.round((USL_KNEE_MAX_OVERSHOOT - 1) * 100)} % above the highest measured throughput (${fmt(measuredMax)}/s); the knee comes from the measured curve`,
      });
    }
  }
  return { knee: measured, measured, usl };
}

/** One terminal line for a finished step, e.g. for a live progress display. */
export function formatStepLine(progress: SearchProgress): string {
  const { step } = progress;
  const m = step.measurement;
  const verdict = m.generatorLimited ? 'GENERATOR-LIMITED' : step.ok ? 'ok' : `FAIL (${step.problems.join(', ')})`;
  const unit = step.spec.model === 'open' ? '/s' : ' VUs';
  return (
    `step ${step.index + 1} ${step.phase} ${fmt(step.spec.level)}${unit}: ` +
    `${fmt(m.throughput)}/s, p99 ${fmt(m.latency.p99)} ms, errors ${(m.errorRate * 100).toFixed(2)} %, ` +
    `in flight ${fmt(m.concurrencyMean)}${step.little.ok ? '' : ' (Little’s law off)'} — ${verdict}`
  );
}

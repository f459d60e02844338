import { ErrorCodes, LatencyHistogram, RedlineError, type RunResult } from '@redline/core';
import type { StepMeasurement, StepSpec } from './search.js';

/**
 * Turns a run's result into the measurement of a search step, over the seconds after warm-up only:
 * latency and error rate from every later second (merged per-second HDR histograms: exact percentiles
 * and mean; the drain after the planned end included), throughput and concurrency from the planned
 * seconds only, since the drain second is partial. In-flight concurrency is taken from `timeseries[].inFlight` when
 * the load engine writes it, otherwise from `vus` (exact for the closed model; in the open model busy
 * VUs equal in-flight requests only with one request per iteration).
 * `percentiles` adds entries to `StepMeasurement.percentiles` (e.g. `[95]` for a p(95) SLO).
 * Throws REDLINE_ERR_INVALID_ARGUMENT when no whole second is left after warm-up.
 */
export function measurementFromRunResult(
  result: RunResult,
  step: StepSpec,
  options: { percentiles?: readonly number[]; runDir?: string } = {},
): StepMeasurement {
  const warmupS = step.warmupMs / 1000;
  const endS = (step.warmupMs + step.durationMs) / 1000;
  const afterWarmup = result.timeseries.map((point, i) => ({ point, i })).filter(({ point }) => point.t - 1 >= warmupS - 1e-9);
  // Throughput and concurrency only over the planned seconds: the drain after the end is partial.
  const window = afterWarmup.filter(({ point }) => point.t <= endS + 1e-9);
  if (window.length === 0) {
    throw new RedlineError(
      ErrorCodes.INVALID_ARGUMENT,
      `the step at level ${step.level} has no measured seconds after its ${step.warmupMs} ms warm-up (run lasted ${result.timeseries.length} s)`,
    );
  }
  // Latency and errors over every second after warm-up, so requests that finish during the drain count.
  const encoded = afterWarmup.map(({ i }) => result.histograms.intervals[i]).filter((e): e is string => typeof e === 'string');
  const hist = LatencyHistogram.mergeEncoded(encoded);
  let requests = 0;
  let errors = 0;
  for (const { point } of afterWarmup) {
    requests += point.requests;
    errors += point.errors;
  }
  let completed = 0;
  let concurrencySum = 0;
  for (const { point } of window) {
    completed += point.requests - point.errors;
    const inFlight = (point as { inFlight?: unknown }).inFlight;
    concurrencySum += typeof inFlight === 'number' ? inFlight : point.vus;
  }
  const seconds = window.length;
  const percentiles: Record<string, number> = {};
  for (const p of options.percentiles ?? []) percentiles[String(p)] = hist.percentileMs(p);
  const measurement: StepMeasurement = {
    level: step.level,
    throughput: completed / seconds,
    latency: {
      mean: hist.meanMs,
      p50: hist.percentileMs(50),
      p90: hist.percentileMs(90),
      p99: hist.percentileMs(99),
      max: hist.maxMs,
    },
    errorRate: requests === 0 ? 0 : errors / requests,
    concurrencyMean: concurrencySum / seconds,
    generatorLimited: result.generator.limited,
  };
  if (result.generator.limited && result.generator.reasons?.length) measurement.generatorReasons = [...result.generator.reasons];
  if (Object.keys(percentiles).length > 0) measurement.percentiles = percentiles;
  if (options.runDir !== undefined) measurement.runDir = options.runDir;
  return measurement;
}

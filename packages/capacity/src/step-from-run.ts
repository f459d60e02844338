import { ErrorCodes, LatencyHistogram, RedlineError, type RunResult } from '@redline/core';
import type { StepMeasurement, StepSpec } from './search.js';

/** A k6-style scenario definition for one step, as `runLoad(definition, options)` takes it. */
export interface StepScenarioDefinition {
  scenarios: Record<string, Record<string, unknown>>;
}

/** What every step of a search sends; the level and duration come from the step. */
export interface StepScenarioBase {
  /** Requests of one iteration, e.g. `[{ method: 'GET', url: 'http://127.0.0.1:8080/' }]`. */
  requests: ReadonlyArray<Record<string, unknown>>;
  /** Open model: pre-allocated VUs as a multiple of the rate (default 0.1 × rate, at least 10). */
  preAllocatedVUsPerRate?: number;
  /** Open model: VU ceiling as a multiple of the rate (default 1 × rate, at least 50). */
  maxVUsPerRate?: number;
  /** Extra scenario fields passed through unchanged (tags, timeouts, ...). */
  extra?: Record<string, unknown>;
}

/**
 * Builds the scenario definition of one search step: `constant-arrival-rate` at `level` per second
 * for the open model, `constant-vus` with `level` VUs for the closed model, lasting warm-up plus
 * measurement. Durations are written as whole milliseconds (`12000ms`).
 */
export function stepScenario(step: StepSpec, base: StepScenarioBase): StepScenarioDefinition {
  const duration = `${Math.ceil(step.warmupMs + step.durationMs)}ms`;
  const common = { duration, requests: base.requests, ...base.extra };
  if (step.model === 'open') {
    const rate = step.level;
    return {
      scenarios: {
        capacity: {
          executor: 'constant-arrival-rate',
          rate,
          preAllocatedVUs: Math.max(10, Math.ceil(rate * (base.preAllocatedVUsPerRate ?? 0.1))),
          maxVUs: Math.max(50, Math.ceil(rate * (base.maxVUsPerRate ?? 1))),
          ...common,
        },
      },
    };
  }
  return { scenarios: { capacity: { executor: 'constant-vus', vus: Math.max(1, Math.round(step.level)), ...common } } };
}

/**
 * Turns a run's result into the measurement of a search step, over the seconds after warm-up only:
 * latency from the merged per-second HDR histograms (exact percentiles and mean), throughput and error
 * rate from the per-second counts. In-flight concurrency is taken from `timeseries[].inFlight` when
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
  const window = result.timeseries.map((point, i) => ({ point, i })).filter(({ point }) => point.t - 1 >= warmupS - 1e-9);
  if (window.length === 0) {
    throw new RedlineError(
      ErrorCodes.INVALID_ARGUMENT,
      `the step at level ${step.level} has no measured seconds after its ${step.warmupMs} ms warm-up (run lasted ${result.timeseries.length} s)`,
    );
  }
  const encoded = window.map(({ i }) => result.histograms.intervals[i]).filter((e): e is string => typeof e === 'string');
  const hist = LatencyHistogram.mergeEncoded(encoded);
  let requests = 0;
  let errors = 0;
  let concurrencySum = 0;
  for (const { point } of window) {
    requests += point.requests;
    errors += point.errors;
    const inFlight = (point as { inFlight?: unknown }).inFlight;
    concurrencySum += typeof inFlight === 'number' ? inFlight : point.vus;
  }
  const seconds = window.length;
  const percentiles: Record<string, number> = {};
  for (const p of options.percentiles ?? []) percentiles[String(p)] = hist.percentileMs(p);
  const measurement: StepMeasurement = {
    level: step.level,
    throughput: (requests - errors) / seconds,
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
  if (Object.keys(percentiles).length > 0) measurement.percentiles = percentiles;
  if (options.runDir !== undefined) measurement.runDir = options.runDir;
  return measurement;
}

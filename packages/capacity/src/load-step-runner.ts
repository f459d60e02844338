import { join } from 'node:path';
import { ErrorCodes, RedlineError } from '@redline/core';
import { LOAD_MODEL_FIELDS, resolvePlan, runLoad, writeRunDir, type RunLoadOptions, type ScenarioDefinition, type ScenarioSpec } from '@redline/load';
import type { StepMeasurement, StepRunner, StepSpec } from './search.js';
import { measurementFromRunResult } from './step-from-run.js';

/** Options for {@link loadStepRunner}. */
export interface LoadStepRunnerOptions {
  /**
   * The workload to scale: a scenario definition (as a scenario file exports it) with exactly one
   * scenario. Its requests or `exec`, headers, base URL, timeout and data are kept; its load-model
   * fields (executor, rate, vus, duration, stages, ...) are replaced by each step's, and its
   * thresholds are dropped so an abort-on-fail threshold cannot cut a step short.
   */
  definition: ScenarioDefinition;
  /** Names the definition in validation messages (a file path, or `command line`). */
  source?: string;
  /** Load-generator worker threads (see `runLoad`). */
  workers?: number;
  /** Extra latency percentiles to report for SLOs other than p50/p90/p99/p100, e.g. `[95]`. */
  percentiles?: readonly number[];
  /** When set, each step's run directory is written below it as `step-01-open-120`, ... */
  outDir?: string;
  /** Open model: VU ceiling as a multiple of the rate (default 1, at least 50 VUs). */
  maxVUsPerRate?: number;
  /** Passed to `runLoad` for a live per-second display. */
  onSecond?: RunLoadOptions['onSecond'];
}

/** A step replaces the scenario's load model and its start time (one step, from the start). */
const STEP_REPLACED_FIELDS = [...LOAD_MODEL_FIELDS, 'startTime'] as const;

const TOP_LEVEL_FIELDS = ['name', 'baseUrl', 'headers', 'timeout', 'insecure', 'tls', 'protocol', 'connections', 'maxStreams', 'data', 'tags'] as const;

/**
 * The scenario definition of one step: the base definition's single scenario with the load model of
 * the step (`constant-arrival-rate` for open, `constant-vus` for closed) lasting warm-up + measurement.
 * Throws REDLINE_ERR_INVALID_ARGUMENT when the definition has more than one scenario.
 */
export function stepDefinition(base: ScenarioDefinition, step: StepSpec, options: { maxVUsPerRate?: number } = {}): ScenarioDefinition {
  const entries = base.scenarios ? Object.entries(base.scenarios) : [[base.name ?? 'default', base] as [string, ScenarioSpec]];
  if (entries.length !== 1) {
    throw new RedlineError(
      ErrorCodes.INVALID_ARGUMENT,
      `a capacity search scales exactly one scenario, but the definition has ${entries.length} (${entries.map(([n]) => n).join(', ')})`,
    );
  }
  const [name, spec] = entries[0]!;
  const workload: Record<string, unknown> = { ...spec };
  for (const field of STEP_REPLACED_FIELDS) delete workload[field];
  if (!base.scenarios) {
    for (const field of TOP_LEVEL_FIELDS) delete workload[field];
    delete workload.thresholds;
    delete workload.scenarios;
  }
  const duration = `${Math.ceil(step.warmupMs + step.durationMs)}ms`;
  const load: ScenarioSpec =
    step.model === 'open'
      ? {
          executor: 'constant-arrival-rate',
          rate: step.level,
          preAllocatedVUs: Math.max(10, Math.ceil(step.level * 0.1)),
          maxVUs: Math.max(50, Math.ceil(step.level * (options.maxVUsPerRate ?? 1))),
          duration,
        }
      : { executor: 'constant-vus', vus: Math.max(1, Math.round(step.level)), duration };
  const top: ScenarioDefinition = {};
  for (const field of TOP_LEVEL_FIELDS) {
    if (base[field] !== undefined) (top as Record<string, unknown>)[field] = base[field];
  }
  return { ...top, scenarios: { [name]: { ...(workload as ScenarioSpec), ...load } } };
}

/**
 * A {@link StepRunner} that runs each step with the load engine (`runLoad`) and measures it with
 * {@link measurementFromRunResult} (warm-up seconds excluded). Aborting the signal stops the step's
 * run gracefully and rejects with the signal's reason. Definition errors surface from the first
 * step as REDLINE_ERR_INVALID_SCENARIO (or REDLINE_ERR_INVALID_ARGUMENT for several scenarios).
 */
export function loadStepRunner(options: LoadStepRunnerOptions): StepRunner {
  let index = 0;
  return async (step: StepSpec, signal: AbortSignal): Promise<StepMeasurement> => {
    index++;
    const definition = stepDefinition(options.definition, step, options);
    const plan = resolvePlan(definition, options.source ?? 'capacity scenario', {
      name: `${options.definition.name ?? 'capacity'}-step-${index}`,
      ...(options.workers !== undefined && { workers: options.workers }),
    });
    const result = await runLoad(plan, {
      signal,
      ...(options.workers !== undefined && { workers: options.workers }),
      ...(options.onSecond && { onSecond: options.onSecond }),
    });
    signal.throwIfAborted();
    let runDir: string | undefined;
    if (options.outDir !== undefined) {
      const label = `step-${String(index).padStart(2, '0')}-${step.model}-${Number(step.level.toPrecision(6))}`;
      runDir = await writeRunDir(result, join(options.outDir, label));
    }
    return measurementFromRunResult(result, step, {
      ...(options.percentiles && { percentiles: options.percentiles }),
      ...(runDir !== undefined && { runDir }),
    });
  };
}

import type { ResolvedScenarioConfig, ResolvedStage } from '@redline/core';
import type { ExecutorEnv } from '../vu.js';
import { perMsStages, rampingSchedule, runArrivals } from './arrival.js';

/** `ramping-arrival-rate`: the arrival rate follows the stages (iterations per `timeUnit`). */
export function runRampingArrivalRate(env: ExecutorEnv, scenario: ResolvedScenarioConfig): Promise<void> {
  const o = scenario.options as { startRate: number; timeUnitMs: number; stages: ResolvedStage[]; preAllocatedVUs: number; maxVUs: number };
  return runArrivals(env, rampingSchedule(o.startRate / o.timeUnitMs, perMsStages(o.stages, o.timeUnitMs)), o.preAllocatedVUs, o.maxVUs);
}

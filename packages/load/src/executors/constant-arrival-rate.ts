import type { ResolvedScenarioConfig } from '@redline/core';
import type { ExecutorEnv } from '../vu.js';
import { constantSchedule, runArrivals } from './arrival.js';

/** `constant-arrival-rate`: `rate` iterations per `timeUnit` for `duration`, whatever the latency. */
export function runConstantArrivalRate(env: ExecutorEnv, scenario: ResolvedScenarioConfig): Promise<void> {
  const o = scenario.options as { rate: number; timeUnitMs: number; durationMs: number; preAllocatedVUs: number; maxVUs: number };
  return runArrivals(env, constantSchedule(o.rate / o.timeUnitMs, o.durationMs), o.preAllocatedVUs, o.maxVUs);
}

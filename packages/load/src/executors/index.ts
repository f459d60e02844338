import type { ResolvedScenarioConfig } from '@redline/core';
import type { ExecutorEnv } from '../vu.js';
import type { ExecutorName } from './names.js';
import { runConstantArrivalRate } from './constant-arrival-rate.js';
import { runConstantVus } from './constant-vus.js';
import { runPerVuIterations } from './per-vu-iterations.js';
import { runRampingArrivalRate } from './ramping-arrival-rate.js';
import { runRampingVus } from './ramping-vus.js';
import { runSharedIterations } from './shared-iterations.js';

/** Load model name → implementation. */
export const executors: Record<ExecutorName, (env: ExecutorEnv, scenario: ResolvedScenarioConfig) => Promise<void>> = {
  'constant-vus': runConstantVus,
  'ramping-vus': runRampingVus,
  'per-vu-iterations': runPerVuIterations,
  'shared-iterations': runSharedIterations,
  'constant-arrival-rate': runConstantArrivalRate,
  'ramping-arrival-rate': runRampingArrivalRate,
};

export { EXECUTOR_NAMES, isOpenModel, type ExecutorName } from './names.js';

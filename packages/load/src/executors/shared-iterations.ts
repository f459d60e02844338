import type { ResolvedScenarioConfig } from '@redline/core';
import { engineNow } from '../engine-clock.js';
import { splitInt } from '../split.js';
import { loopVu, type ExecutorEnv } from '../vu.js';

/**
 * `shared-iterations`: VUs take iterations from one pool of `iterations` until it is empty. The
 * pool is a counter in shared memory, so workers share it exactly.
 */
export async function runSharedIterations(env: ExecutorEnv, scenario: ResolvedScenarioConfig): Promise<void> {
  const { vus, iterations, maxDurationMs } = scenario.options as { vus: number; iterations: number; maxDurationMs: number };
  const mine = splitInt(env.share.scale(vus), env.workerCount, env.workerIndex);
  const endAt = env.scenarioStartAt + maxDurationMs;
  const counter = env.sharedCounter;
  const pool = env.share.scale(iterations);
  await env.waitUntil(env.scenarioStartAt);
  if (env.stopping()) return;
  env.setVus(mine, mine);
  const take = (): boolean => !env.stopping() && engineNow() < endAt && Atomics.add(counter, 0, 1) < pool;
  await Promise.all(Array.from({ length: mine }, () => loopVu(env.newVu(), take)));
  env.setVus(0, mine);
}

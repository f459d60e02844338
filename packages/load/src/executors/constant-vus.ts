import type { ResolvedScenarioConfig } from '@redline/core';
import { engineNow } from '../engine-clock.js';
import { splitInt } from '../split.js';
import { loopVu, type ExecutorEnv } from '../vu.js';

/** `constant-vus`: a fixed number of VUs loop iterations back to back for a duration. */
export async function runConstantVus(env: ExecutorEnv, scenario: ResolvedScenarioConfig): Promise<void> {
  const { vus, durationMs } = scenario.options as { vus: number; durationMs: number };
  const mine = splitInt(env.share.scale(vus), env.workerCount, env.workerIndex);
  const endAt = env.scenarioStartAt + durationMs;
  await env.waitUntil(env.scenarioStartAt);
  if (env.stopping()) return;
  env.setVus(mine, mine);
  const keepGoing = (): boolean => !env.stopping() && engineNow() < endAt;
  await Promise.all(Array.from({ length: mine }, () => loopVu(env.newVu(), keepGoing)));
  env.setVus(0, mine);
}

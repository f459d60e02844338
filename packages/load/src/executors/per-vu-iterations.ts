import type { ResolvedScenarioConfig } from '@redline/core';
import { engineNow } from '../engine-clock.js';
import { splitInt } from '../split.js';
import { loopVu, type ExecutorEnv } from '../vu.js';

/** `per-vu-iterations`: each VU runs exactly `iterations` iterations (bounded by `maxDuration`). */
export async function runPerVuIterations(env: ExecutorEnv, scenario: ResolvedScenarioConfig): Promise<void> {
  const { vus, iterations, maxDurationMs } = scenario.options as { vus: number; iterations: number; maxDurationMs: number };
  const mine = splitInt(env.share.scale(vus), env.workerCount, env.workerIndex);
  const endAt = env.scenarioStartAt + maxDurationMs;
  await env.waitUntil(env.scenarioStartAt);
  if (env.stopping()) return;
  env.setVus(mine, mine);
  await Promise.all(
    Array.from({ length: mine }, () => {
      let left = iterations;
      return loopVu(env.newVu(), () => left-- > 0 && !env.stopping() && engineNow() < endAt);
    }),
  );
  env.setVus(0, mine);
}

import type { ResolvedScenarioConfig, ResolvedStage } from '@redline/core';
import { engineNow } from '../engine-clock.js';
import { splitInt } from '../split.js';
import { loopVu, type ExecutorEnv, type Vu } from '../vu.js';

const ADJUST_EVERY_MS = 50;

/** Target level at `elapsedMs` into piecewise-linear stages starting from `start`. */
export function stageTarget(start: number, stages: readonly ResolvedStage[], elapsedMs: number): number {
  let from = start;
  let t = elapsedMs;
  for (const s of stages) {
    if (t < s.durationMs) return from + ((s.target - from) * t) / s.durationMs;
    t -= s.durationMs;
    from = s.target;
  }
  return from;
}

/**
 * `ramping-vus`: the number of looping VUs follows the stages. Extra VUs finish their current
 * iteration before they stop (graceful ramp-down).
 */
export async function runRampingVus(env: ExecutorEnv, scenario: ResolvedScenarioConfig): Promise<void> {
  const { startVUs, stages } = scenario.options as { startVUs: number; stages: ResolvedStage[] };
  const totalMs = stages.reduce((a, s) => a + s.durationMs, 0);
  const endAt = env.scenarioStartAt + totalMs;
  await env.waitUntil(env.scenarioStartAt);
  const running: Array<{ vu: Vu; retire: boolean; done: Promise<void> }> = [];
  const idle: Vu[] = [];
  let allocated = 0;
  const loops: Array<Promise<void>> = [];
  while (!env.stopping()) {
    const now = engineNow();
    if (now >= endAt) break;
    const total = Math.round(stageTarget(startVUs, stages, now - env.scenarioStartAt));
    const want = splitInt(env.share.scale(total), env.workerCount, env.workerIndex);
    const live = running.filter((r) => !r.retire);
    for (let i = live.length; i < want; i++) {
      let vu = idle.pop();
      if (!vu) {
        vu = env.newVu();
        allocated++;
      }
      const slot = { vu, retire: false, done: Promise.resolve() };
      slot.done = loopVu(vu, () => !slot.retire && !env.stopping() && engineNow() < endAt).then(() => {
        running.splice(running.indexOf(slot), 1);
        idle.push(slot.vu);
        env.setVus(running.length, allocated);
      });
      running.push(slot);
      loops.push(slot.done);
    }
    for (let i = live.length - 1; i >= want; i--) live[i]!.retire = true;
    env.setVus(running.length, allocated);
    await env.waitUntil(Math.min(endAt, engineNow() + ADJUST_EVERY_MS));
  }
  await Promise.all(loops);
  env.setVus(0, allocated);
}

import type { ResolvedStage } from '@redline/core';
import { engineNow } from '../engine-clock.js';
import { splitInt } from '../split.js';
import type { ExecutorEnv, Vu } from '../vu.js';

/**
 * Offset (ms from scenario start) of global iteration k, or null past the end. Called with
 * increasing k only, so implementations may keep a cursor.
 */
export type ArrivalSchedule = (k: number) => number | null;

/** Iterations at a constant `ratePerMs` for `durationMs`. */
export function constantSchedule(ratePerMs: number, durationMs: number): ArrivalSchedule {
  return (k) => {
    const t = k / ratePerMs;
    return t < durationMs ? t : null;
  };
}

/**
 * Iterations whose rate ramps linearly through stages (rates in iterations per ms). Iteration k
 * starts when the integral of the rate reaches k, solved per stage from the quadratic.
 */
export function rampingSchedule(startRatePerMs: number, stages: ReadonlyArray<{ durationMs: number; ratePerMs: number }>): ArrivalSchedule {
  let stage = 0;
  let stageStartMs = 0;
  let stageStartCount = 0;
  let fromRate = startRatePerMs;
  return (k) => {
    while (stage < stages.length) {
      const s = stages[stage]!;
      const r0 = fromRate;
      const r1 = s.ratePerMs;
      const stageCount = ((r0 + r1) * s.durationMs) / 2;
      const need = k - stageStartCount;
      if (need < stageCount) {
        const a = (r1 - r0) / (2 * s.durationMs);
        const t = Math.abs(a) < 1e-15 ? need / r0 : (-r0 + Math.sqrt(r0 * r0 + 4 * a * need)) / (2 * a);
        return stageStartMs + t;
      }
      stageStartCount += stageCount;
      stageStartMs += s.durationMs;
      fromRate = r1;
      stage++;
    }
    return null;
  };
}

/** Converts stage targets (iterations per time unit) to per-ms rates. */
export function perMsStages(stages: readonly ResolvedStage[], timeUnitMs: number): Array<{ durationMs: number; ratePerMs: number }> {
  return stages.map((s) => ({ durationMs: s.durationMs, ratePerMs: s.target / timeUnitMs }));
}

/**
 * The open-model scheduler. Global iteration k belongs to worker k mod workerCount, so rates split
 * exactly. Each iteration takes a free VU (allocating up to maxVUs); when none is free it is
 * counted as dropped, never silently skipped. Latency is measured from the intended start.
 */
export async function runArrivals(env: ExecutorEnv, schedule: ArrivalSchedule, preAllocatedVUs: number, maxVUs: number): Promise<void> {
  const pre = splitInt(preAllocatedVUs, env.workerCount, env.workerIndex);
  const max = Math.max(1, splitInt(maxVUs, env.workerCount, env.workerIndex), pre);
  const idle: Vu[] = Array.from({ length: pre }, () => env.newVu());
  let allocated = pre;
  let busy = 0;
  let finishResolve!: () => void;
  const finished = new Promise<void>((r) => (finishResolve = r));
  let scheduleDone = false;
  const start = env.scenarioStartAt;
  await env.waitUntil(start);
  env.setVus(0, allocated);
  let k = env.workerIndex;
  let due = schedule(k);

  const maybeFinish = (): void => {
    if (scheduleDone && busy === 0) finishResolve();
  };
  const tick = (): void => {
    if (env.stopping()) due = null;
    const now = engineNow();
    while (due !== null && start + due <= now) {
      const intendedAt = start + due;
      const lag = now - intendedAt;
      env.recordLag(lag);
      let vu = idle.pop();
      if (!vu && allocated < max) {
        vu = env.newVu();
        allocated++;
      }
      if (!vu) env.countDropped();
      else {
        busy++;
        const v = vu;
        v.run(lag, () => {
          busy--;
          idle.push(v);
          maybeFinish();
        });
      }
      k += env.workerCount;
      due = schedule(k);
    }
    env.setVus(busy, allocated);
    if (due === null) {
      scheduleDone = true;
      maybeFinish();
      return;
    }
    // setTimeout never fires early; aiming 1 ms short keeps lag low without spinning the loop.
    const wait = start + due - engineNow();
    setTimeout(tick, wait > 2 ? Math.floor(wait - 1) : Math.max(0, Math.floor(wait)));
  };
  tick();
  await finished;
  env.setVus(0, allocated);
}


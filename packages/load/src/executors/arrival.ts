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

/** Iterations (per worker) that may wait for a free VU before further ones are dropped. */
const MAX_BACKLOG = 100_000;

/**
 * The open-model scheduler. Global iteration k belongs to worker k mod workerCount, so rates split
 * exactly. Each iteration takes a free VU (allocating up to maxVUs); when none is free it waits in a
 * bounded backlog and starts as soon as a VU frees up, its latency still measured from the intended
 * start (coordinated-omission correction: a stalled target shows in latency, not only in service
 * time). Iterations still waiting when the schedule ends, or that find the backlog full, are counted
 * as dropped, never silently skipped.
 */
export async function runArrivals(env: ExecutorEnv, schedule: ArrivalSchedule, preAllocatedVUs: number, maxVUs: number): Promise<void> {
  const share = env.share;
  const pre = splitInt(share.scale(preAllocatedVUs), env.workerCount, env.workerIndex);
  const max = Math.max(1, splitInt(share.scale(maxVUs), env.workerCount, env.workerIndex), pre);
  // This worker's j-th iteration is the instance's, whose global index the segment's stripe gives.
  const scheduleOf: ArrivalSchedule = share.full ? schedule : (j) => schedule(share.globalIndex(j));
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
  let due = scheduleOf(k);

  // Intended start times (engine ms) of iterations waiting for a VU; `head` is the next to start.
  let backlog: number[] = [];
  let head = 0;
  // An iteration that waited longer than the request timeout for a VU has not started on any
  // reasonable schedule: count it as dropped now, so drops show in the second they happen.
  const dropExpired = (now: number): void => {
    while (head < backlog.length && now - backlog[head]! > env.maxQueueWaitMs) {
      head++;
      env.countDropped();
    }
  };
  const dropBacklog = (): void => {
    for (let i = head; i < backlog.length; i++) env.countDropped();
    backlog = [];
    head = 0;
  };
  const maybeFinish = (): void => {
    if (scheduleDone && busy === 0) finishResolve();
  };
  const release = (v: Vu): void => {
    if (env.stopping()) dropBacklog();
    dropExpired(engineNow());
    if (head < backlog.length) {
      const intendedAt = backlog[head++]!;
      // Compact now and then so the array never holds more than twice the waiting entries.
      if (head === backlog.length || (head > 1024 && head * 2 > backlog.length)) {
        backlog = backlog.slice(head);
        head = 0;
      }
      start1(v, engineNow() - intendedAt);
      return;
    }
    busy--;
    idle.push(v);
    maybeFinish();
  };
  const start1 = (v: Vu, lagMs: number): void => {
    v.run(lagMs, () => release(v));
  };
  // Abandoned at the end of the graceful stop (a starved loop may not have ticked the schedule's last
  // iterations yet): those that were due never started, and count as dropped like the backlog.
  const dropDue = (now: number): void => {
    while (due !== null && start + due <= now) {
      env.countDropped();
      k += env.workerCount;
      due = scheduleOf(k);
    }
    due = null;
  };
  env.onAbandon(() => {
    dropDue(engineNow());
    dropBacklog();
  });
  const tick = (): void => {
    const now = engineNow();
    // Iterations already due when the run stops (a starved loop ticks late) never started: dropped.
    if (env.stopping()) dropDue(now);
    dropExpired(now);
    while (due !== null && start + due <= now) {
      const intendedAt = start + due;
      const lag = now - intendedAt;
      env.recordLag(lag);
      let vu = idle.pop();
      if (!vu && allocated < max) {
        vu = env.newVu();
        allocated++;
      }
      if (vu) {
        busy++;
        start1(vu, lag);
      } else if (backlog.length - head < MAX_BACKLOG) backlog.push(intendedAt);
      else env.countDropped();
      k += env.workerCount;
      due = scheduleOf(k);
    }
    env.setVus(busy, allocated);
    if (due === null) {
      // The schedule is over: iterations that never got a VU are dropped, not started late.
      dropBacklog();
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


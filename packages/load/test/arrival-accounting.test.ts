// The open-model scheduler accounts for every scheduled iteration: started, or counted as dropped —
// also those that were due while its event loop was starved when the scenario is abandoned or stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runArrivals, constantSchedule } from '../src/executors/arrival.ts';
import { engineNow } from '../src/engine-clock.ts';
import { FULL_SHARE } from '../src/segments.ts';
import type { ExecutorEnv, Vu } from '../src/vu.ts';

/** An env whose VUs never finish (so iterations pile into the backlog) and that counts what happens. */
function fakeEnv(stopping: () => boolean) {
  const counts = { started: 0, dropped: 0, intended: 0 };
  const hooks: (() => void)[] = [];
  let id = 0;
  const env: ExecutorEnv = {
    scenarioStartAt: engineNow(),
    workerIndex: 0,
    workerCount: 1,
    share: FULL_SHARE,
    newVu: (): Vu => ({ id: ++id, run: () => void counts.started++, close: () => undefined }),
    stopping,
    waitUntil: () => Promise.resolve(),
    countDropped: () => void counts.dropped++,
    onAbandon: (fn) => hooks.push(fn),
    recordLag: () => void counts.intended++,
    sharedCounter: new Int32Array(new SharedArrayBuffer(4)),
    setVus: () => undefined,
    maxQueueWaitMs: 60_000,
    scenarioSlice: {} as ExecutorEnv['scenarioSlice'],
  };
  return { env, counts, abandon: () => hooks.forEach((h) => h()) };
}

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test('abandoned while starved: iterations due but never ticked count as dropped, with the backlog', async () => {
  const { env, counts, abandon } = fakeEnv(() => false);
  // 1 per ms for 2 s, at most 5 VUs (which never finish).
  const done = runArrivals(env, constantSchedule(1, 2000), 1, 5);
  await new Promise((r) => setTimeout(r, 50));
  spin(300); // the loop is starved: about 300 iterations come due without a tick
  const at = engineNow() - env.scenarioStartAt;
  abandon();
  assert.equal(counts.started, 5);
  // Everything due by `at` is accounted for (±2 for the ms boundaries), nothing later is.
  assert.ok(Math.abs(counts.started + counts.dropped - at) <= 2, `started ${counts.started} + dropped ${counts.dropped} vs ${at.toFixed(1)} ms due`);
  assert.ok(counts.dropped >= 300, `dropped ${counts.dropped}`);
  void done;
});

test('stopped while starved: the iterations already due are dropped, the rest of the schedule is not counted', async () => {
  let stop = false;
  const { env, counts } = fakeEnv(() => stop);
  const done = runArrivals(env, constantSchedule(1, 2000), 1, 5);
  await new Promise((r) => setTimeout(r, 50));
  spin(200);
  stop = true;
  const at = engineNow() - env.scenarioStartAt;
  await new Promise((r) => setTimeout(r, 20)); // the next tick sees the stop
  assert.ok(Math.abs(counts.started + counts.dropped - at) <= 25, `started ${counts.started} + dropped ${counts.dropped} vs ${at.toFixed(1)} ms due`);
  assert.ok(counts.started + counts.dropped < 1000, 'the rest of the 2 s schedule is not counted');
  void done;
});

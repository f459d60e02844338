// The probe's own pauses (forced full GCs, heap snapshots) are its cost, not the target's: the real
// sampler and loop-delay meter leave a noted pause out of the window's loop delay, while a stall of
// the same length that the probe did not cause, or one that shares the window with a noted pause,
// is still seen; aggregation takes the pauses' time and CPU out of ELU and CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { aggregateSamples, type RawProbeSample } from '@redline/probe';
import { createSampler, type Sampler } from '../src/sampler.cjs';
import { realSamplerDeps } from './helpers/sampler-deps.ts';

const deps = realSamplerDeps();

/** Blocks the loop for `ms` inside a timer callback; notes it as the probe's own when `noted` is set. */
async function block(sampler: Sampler, ms: number, noted: boolean): Promise<void> {
  await new Promise<void>((resolve) => {
    setTimeout(() => {
      const t0 = performance.now();
      while (performance.now() - t0 < ms) {
        // the pause: nothing else runs meanwhile
      }
      if (noted) sampler.notePause(t0, performance.now(), { user: ms * 1000, system: 0 });
      resolve();
    }, 20);
  });
  // Let the loop-delay timer tick after the pause, as it does before the next window closes.
  await sleep(60);
}

/** One window around `run`: a fresh window first, so only what `run` does is in it. */
async function windowAround(sampler: Sampler, run: () => Promise<void>): Promise<RawProbeSample> {
  await sleep(40);
  sampler.take(0);
  await sleep(40);
  await run();
  return sampler.take(0);
}

test('a noted pause is left out of the loop delay; the same stall unnoted, or a longer one beside it, is seen', async () => {
  const sampler = createSampler(deps);
  try {
    // Margins are wide: a busy machine adds its own delays, but not hundreds of ms to a 10 ms timer.
    const noted = await windowAround(sampler, () => block(sampler, 600, true));
    assert.ok(noted.loopDelay !== null, 'the window observed the loop');
    assert.ok(noted.loopDelay.maxMs < 300, `a noted 600 ms pause still shows ${noted.loopDelay.maxMs} ms of loop delay`);
    assert.equal(noted.probePause?.count, 1);
    assert.ok((noted.probePause?.ms ?? 0) >= 600 && (noted.probePause?.ms ?? 0) < 1000, JSON.stringify(noted.probePause));
    assert.equal(noted.probePause?.userUs, 600_000);

    const stall = await windowAround(sampler, () => block(sampler, 600, false));
    assert.ok((stall.loopDelay?.maxMs ?? 0) >= 550, `a real 600 ms stall shows only ${stall.loopDelay?.maxMs} ms`);
    assert.equal(stall.probePause, undefined);

    // A 900 ms stall of the target's own and a noted 300 ms pause in one window: the stall stays visible.
    const both = await windowAround(sampler, async () => {
      await block(sampler, 900, false);
      await block(sampler, 300, true);
    });
    assert.ok((both.loopDelay?.maxMs ?? 0) >= 550, `the real stall beside a noted pause shows only ${both.loopDelay?.maxMs} ms`);
    assert.equal(both.probePause?.count, 1);
  } finally {
    sampler.stop();
  }
});

test('aggregation leaves the probe pauses out of ELU and CPU', () => {
  const T0 = 1_700_000_000_000;
  const window = (i: number, pause: RawProbeSample['probePause'] | undefined): RawProbeSample => ({
    pid: 1,
    thread: 'main',
    startEpochMs: T0 + i * 100,
    endEpochMs: T0 + (i + 1) * 100,
    // A loop 10 % busy at 0.1 core; in the window with a forced GC, the 40 ms outside the pause too.
    elu: pause ? { activeMs: 4 + pause.ms, idleMs: 36 } : { activeMs: 10, idleMs: 90 },
    loopDelay: { count: 9, minMs: 0, maxMs: 1, meanMs: 0.5, percentiles: [[0, 0], [50, 0.5], [100, 1]] },
    gc: {},
    heapAfterMajorGcBytes: null,
    heapUsedBytes: 1,
    heapTotalBytes: 1,
    externalBytes: 0,
    rssBytes: 1,
    // The GC's own CPU (all threads: twice its wall time) comes on top.
    cpu: pause ? { userUs: 4000 + pause.userUs, systemUs: pause.systemUs } : { userUs: 10_000, systemUs: 0 },
    activeResources: {},
    dropped: 0,
    ...(pause ? { probePause: pause } : {}),
  });
  const raw = Array.from({ length: 20 }, (_, i) => window(i, i === 4 ? { count: 1, ms: 60, userUs: 100_000, systemUs: 20_000 } : undefined));
  const [first, second] = aggregateSamples(raw, T0);
  assert.ok(first && second);
  // Without the correction second 1 would read ELU 0.15 and 0.21 cores.
  assert.equal(first.elu, 0.1);
  assert.equal(first.cpuUser + first.cpuSystem, 0.1);
  assert.equal(second.elu, 0.1);
  assert.equal(second.cpuUser, 0.1);
});

// The limiter's stallClock: latency a busy machine adds (the process waiting for a CPU) is taken out
// of the windows the algorithm sees; and runQueueClock, the Linux source of that time.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FlowErrorCodes, createLimiter, runQueueClock, type LatencyWindow } from '@redline/flow';

class FakeClock {
  t = 1000;
  now(): number {
    return this.t;
  }
}

describe('limiter stallClock', () => {
  it('scales each window by the share of it the process was not waiting for a CPU', async () => {
    const clock = new FakeClock();
    const stall = new FakeClock();
    stall.t = 500;
    const limiter = createLimiter({ algorithm: 'fixed', initial: 4, min: 1, max: 4, clock, stallClock: stall, windowMinMs: 10, windowMaxMs: 10, windowMinSamples: 1, statsIntervalMs: 0 });
    const windows: LatencyWindow[] = [];
    limiter.onLimit = (_limit, w) => windows.push(w);
    // Window 1: 20 ms, 10 of them stalled → a 20 ms call is seen as 10 ms.
    let permit = await limiter.acquire();
    clock.t += 20;
    stall.t += 10;
    permit.release();
    // Window 2: 40 ms, no stall → seen as it was.
    permit = await limiter.acquire();
    clock.t += 40;
    permit.release();
    // Window 3: 10 ms wholly stalled → floored at 5 % of the wall latency, never 0.
    permit = await limiter.acquire();
    clock.t += 10;
    stall.t += 10;
    permit.release();
    assert.deepEqual(windows.map((w) => [w.rttMs, w.minRttMs]), [[10, 10], [40, 40], [0.5, 0.5]]);
    // Deadlines stay on the wall clock: the mean latency for DEADLINE_UNREACHABLE is not scaled.
    assert.ok(limiter.snapshot().latencyMs > 10, `wall latency EMA ${limiter.snapshot().latencyMs}`);
    limiter.close();
  });

  it('refuses a stallClock without now() with a TypeError naming it', () => {
    assert.throws(() => createLimiter({ stallClock: {} as { now(): number } }), (err: Error & { code?: string }) => {
      assert.equal(err.name, 'TypeError');
      assert.equal(err.code, FlowErrorCodes.INVALID_OPTION);
      assert.equal(err.message, 'stallClock must be an object with now(), got [object Object]');
      return true;
    });
  });
});

describe('runQueueClock', () => {
  it('is undefined where the schedstat file does not exist', () => {
    assert.equal(runQueueClock('/nonexistent/schedstat'), undefined);
  });

  it('reads a finite, non-decreasing run delay on Linux (and is undefined elsewhere)', () => {
    const clock = runQueueClock();
    if (process.platform !== 'linux') {
      assert.equal(clock, undefined);
      return;
    }
    assert.ok(clock, '/proc/thread-self/schedstat is readable');
    const a = clock.now();
    let x = 0;
    for (let i = 0; i < 2e6; i++) x += i % 7;
    const b = clock.now();
    assert.ok(Number.isFinite(a) && a >= 0 && x > 0, `run delay ${a} ms`);
    assert.ok(b >= a, `non-decreasing: ${a} → ${b}`);
  });
});

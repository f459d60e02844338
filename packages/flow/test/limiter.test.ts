import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { FLOW_STATS_CHANNEL, FlowErrorCodes, createLimiter, isFlowError, type FlowStatsMessage, type LimiterOptions } from '@redline/flow';

class FakeClock {
  t = 0;
  now(): number {
    return this.t;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

async function rejection(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    assert.ok(isFlowError(err), `expected a FlowError, got ${String(err)}`);
    return { code: err.code, message: err.message };
  }
  assert.fail('expected a rejection');
}

const fixed = (extra: LimiterOptions = {}): LimiterOptions => ({ algorithm: 'fixed', initial: 1, min: 1, max: 1, statsIntervalMs: 0, ...extra });

describe('limiter queue and rejections', () => {
  it('runs up to the limit at once and queues the rest in FIFO order', async () => {
    const limiter = createLimiter(fixed({ initial: 2, max: 2 }));
    const gates = [deferred(), deferred(), deferred(), deferred()];
    const order: number[] = [];
    const runs = gates.map((g, i) => limiter.run(async () => { order.push(i); await g.promise; return i; }));
    await Promise.resolve();
    assert.deepEqual(order, [0, 1]);
    assert.equal(limiter.inFlight, 2);
    assert.equal(limiter.queued, 2);
    gates[1]!.resolve();
    await runs[1];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(order, [0, 1, 2]);
    for (const g of gates) g.resolve();
    assert.deepEqual(await Promise.all(runs), [0, 1, 2, 3]);
    limiter.close();
  });

  it('rejects at once with QUEUE_FULL when the queue is full, without calling fn', async () => {
    const limiter = createLimiter(fixed({ maxQueue: 1 }));
    const gate = deferred();
    const first = limiter.run(() => gate.promise);
    const second = limiter.run(() => gate.promise);
    let called = false;
    const third = rejection(limiter.run(() => { called = true; }));
    const err = await third;
    assert.equal(err.code, FlowErrorCodes.QUEUE_FULL);
    assert.match(err.message, /queue full \(1 waiting, limit 1\)/);
    assert.equal(called, false);
    gate.resolve();
    await Promise.all([first, second]);
    limiter.close();
  });

  it('rejects a deadline already past with DEADLINE_PAST even when a slot is free', async () => {
    const clock = new FakeClock();
    clock.t = 500;
    const limiter = createLimiter(fixed({ clock }));
    const err = await rejection(limiter.run(() => 1, { deadline: 400 }));
    assert.equal(err.code, FlowErrorCodes.DEADLINE_PAST);
    assert.match(err.message, /deadline passed 100 ms ago/);
    const zero = await rejection(limiter.run(() => 1, { timeoutMs: 0 }));
    assert.equal(zero.code, FlowErrorCodes.DEADLINE_PAST);
    limiter.close();
  });

  it('rejects at once with DEADLINE_UNREACHABLE when the expected wait plus service overruns the deadline', async () => {
    const clock = new FakeClock();
    const limiter = createLimiter(fixed({ clock }));
    // Teach it a 100 ms latency.
    const p = limiter.run(async () => { clock.t += 100; });
    await p;
    const gate = deferred();
    const busy = limiter.run(() => gate.promise);
    // Queue position 1 with limit 1: about 100 ms of wait and 100 ms of service.
    const err = await rejection(limiter.run(() => 1, { timeoutMs: 150 }));
    assert.equal(err.code, FlowErrorCodes.DEADLINE_UNREACHABLE);
    assert.match(err.message, /unreachable: about 200 ms/);
    const ok = limiter.run(() => 2, { timeoutMs: 250 });
    gate.resolve();
    await busy;
    assert.equal(await ok, 2);
    limiter.close();
  });

  it('counts queue time against the deadline: a call that waited past it is rejected with DEADLINE_EXCEEDED', async () => {
    const clock = new FakeClock();
    const limiter = createLimiter(fixed({ clock }));
    const gate = deferred();
    const busy = limiter.run(() => gate.promise);
    let called = false;
    const waiting = rejection(limiter.run(() => { called = true; }, { timeoutMs: 50 }));
    clock.t += 60;
    gate.resolve();
    await busy;
    const err = await waiting;
    assert.equal(err.code, FlowErrorCodes.DEADLINE_EXCEEDED);
    assert.match(err.message, /after 60 ms in the queue/);
    assert.equal(called, false);
    limiter.close();
  });

  it('sweeps expired calls out of the queue on a timer while the slot stays busy', async () => {
    const limiter = createLimiter(fixed());
    const gate = deferred();
    const busy = limiter.run(() => gate.promise);
    const err = await rejection(limiter.run(() => 1, { timeoutMs: 20 }));
    assert.equal(err.code, FlowErrorCodes.DEADLINE_EXCEEDED);
    assert.equal(limiter.queued, 0);
    gate.resolve();
    await busy;
    limiter.close();
  });

  it('serves higher priority first and lets it evict the lowest priority from a full queue', async () => {
    const limiter = createLimiter(fixed({ maxQueue: 2 }));
    const gate = deferred();
    const order: string[] = [];
    const busy = limiter.run(() => gate.promise);
    const low1 = limiter.run(() => order.push('low1'), { priority: 0 });
    const low2 = rejection(limiter.run(() => order.push('low2'), { priority: 0 }));
    const high = limiter.run(() => order.push('high'), { priority: 5 });
    const evicted = await low2;
    assert.equal(evicted.code, FlowErrorCodes.QUEUE_FULL);
    assert.match(evicted.message, /evicted .* higher priority 5/);
    gate.resolve();
    await Promise.all([busy, low1, high]);
    assert.deepEqual(order, ['high', 'low1']);
    limiter.close();
  });

  it('serves the newest first under LIFO', async () => {
    const limiter = createLimiter(fixed({ lifo: true }));
    const gate = deferred();
    const order: number[] = [];
    const busy = limiter.run(() => gate.promise);
    const runs = [1, 2, 3].map((i) => limiter.run(() => order.push(i)));
    gate.resolve();
    await Promise.all([busy, ...runs]);
    assert.deepEqual(order, [3, 2, 1]);
    limiter.close();
  });

  it("switches to LIFO only while more calls wait than the limit under lifo: 'overload'", async () => {
    const limiter = createLimiter(fixed({ lifo: 'overload' }));
    const gate = deferred();
    const order: number[] = [];
    const busy = limiter.run(() => gate.promise);
    const runs = [1, 2, 3].map((i) => limiter.run(() => order.push(i)));
    gate.resolve();
    await Promise.all([busy, ...runs]);
    // 3 waiting > limit 1 → newest (3); then 2 waiting > 1 → newest (2); then 1 waiting → FIFO.
    assert.deepEqual(order, [3, 2, 1]);
    limiter.close();
  });

  it('passes fn rejections through and keeps counting', async () => {
    const limiter = createLimiter(fixed());
    await assert.rejects(limiter.run(() => Promise.reject(new Error('boom'))), /boom/);
    await assert.rejects(limiter.run(() => { throw new Error('sync'); }), /sync/);
    assert.equal(await limiter.run(() => 7), 7);
    assert.equal(limiter.inFlight, 0);
    limiter.close();
  });

  it('rejects queued calls with CLOSED on close()', async () => {
    const limiter = createLimiter(fixed());
    const gate = deferred();
    const busy = limiter.run(() => gate.promise);
    const queued = rejection(limiter.run(() => 1));
    limiter.close();
    assert.equal((await queued).code, FlowErrorCodes.CLOSED);
    assert.equal((await rejection(limiter.run(() => 1))).code, FlowErrorCodes.CLOSED);
    gate.resolve();
    await busy;
  });
});

describe('limiter options', () => {
  const cases: [LimiterOptions, RegExp, string][] = [
    [{ algorithm: 'magic' as 'fixed' }, /^algorithm must be one of 'gradient2', 'vegas', 'aimd', 'fixed', got "magic"$/, 'RangeError'],
    [{ min: 0 }, /^min must be an integer ≥ 1, got 0$/, 'RangeError'],
    [{ min: 10, max: 5 }, /^max must be an integer ≥ min \(10\), got 5$/, 'RangeError'],
    [{ initial: 5000 }, /^initial must be an integer in \[1, 1000\], got 5000$/, 'RangeError'],
    [{ maxQueue: -1 }, /^maxQueue must be an integer ≥ 0, got -1$/, 'RangeError'],
    [{ lifo: 'sometimes' as 'overload' }, /^lifo must be true, false or 'overload'/, 'RangeError'],
    [{ gradient2: { smoothing: 0 } }, /^gradient2\.smoothing must be a finite number in \(0, 1\], got 0$/, 'RangeError'],
    [{ algorithm: 'aimd', aimd: { backoffRatio: 1 } }, /^aimd\.backoffRatio must be a finite number in \[0\.5, 1\)/, 'RangeError'],
    [{ algorithm: 'vegas', vegas: { beta: 1 } }, /^vegas\.beta must be a finite number ≥ 3, got 1$/, 'RangeError'],
    [{ clock: {} as { now(): number } }, /^clock must be an object with now\(\)/, 'TypeError'],
    [{ isDrop: 3 as unknown as () => boolean }, /^isDrop must be a function, got 3$/, 'TypeError'],
  ];
  for (const [options, message, type] of cases) {
    it(`throws a ${type} naming the option for ${JSON.stringify(options)}`, () => {
      assert.throws(() => createLimiter(options), (err: Error & { code?: string }) => {
        assert.equal(err.name, type);
        assert.equal(err.code, FlowErrorCodes.INVALID_OPTION);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  it('validates per-call options', async () => {
    const limiter = createLimiter(fixed());
    assert.throws(() => limiter.run(() => 1, { priority: Number.NaN }), /^RangeError: priority must be a finite number, got NaN$/);
    assert.throws(() => limiter.run(() => 1, { deadline: Number.NaN }), /deadline must be a number/);
    limiter.close();
  });
});

describe('limiter metrics', () => {
  it('publishes per-interval stats on redline:flow:stats', async () => {
    const messages: FlowStatsMessage[] = [];
    const listener = (m: unknown): void => {
      const message = m as FlowStatsMessage;
      if (message.name === 'metrics-test') messages.push(message);
    };
    diagnosticsChannel.subscribe(FLOW_STATS_CHANNEL, listener);
    try {
      const limiter = createLimiter({ name: 'metrics-test', algorithm: 'fixed', initial: 1, max: 1, maxQueue: 0, statsIntervalMs: 30 });
      const gate = deferred();
      const busy = limiter.run(() => gate.promise);
      await rejection(limiter.run(() => 1));
      await new Promise((r) => setTimeout(r, 45));
      gate.resolve();
      await busy;
      await new Promise((r) => setTimeout(r, 40));
      limiter.close();
      assert.ok(messages.length >= 2, `messages: ${messages.length}`);
      const first = messages[0]!;
      assert.ok(Math.abs(first.at - Date.now()) < 5000);
      assert.equal(first.values.limit, 1);
      assert.equal(first.values.inFlight, 1);
      assert.equal(first.values.admitted, 1);
      assert.equal(first.values.rejected, 1);
      assert.equal(first.values.rejectedQueueFull, 1);
      const later = messages.find((m) => m.values.latencyMs !== undefined)!;
      assert.ok(later.values.latencyMs! >= 30, `latency ${later.values.latencyMs}`);
    } finally {
      diagnosticsChannel.unsubscribe(FLOW_STATS_CHANNEL, listener);
    }
  });
});

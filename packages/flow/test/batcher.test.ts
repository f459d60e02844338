import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FlowErrorCodes, createBatcher, isFlowError, type BatcherOptions } from '@redline/flow';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class FakeClock {
  t = 0;
  now(): number {
    return this.t;
  }
}

describe('batcher', () => {
  it('resolves one promise per item with its result, flushing full batches by size', async () => {
    const sizes: number[] = [];
    const b = createBatcher<number, number>({ handler: (xs) => { sizes.push(xs.length); return xs.map((x) => x * 2); }, maxBatch: 3, maxWaitMs: 1000, statsIntervalMs: 0 });
    const results = await Promise.all([1, 2, 3, 4, 5, 6].map((x) => b.add(x)));
    assert.deepEqual(results, [2, 4, 6, 8, 10, 12]);
    assert.deepEqual(sizes, [3, 3]);
    assert.equal(b.snapshot().flushes.size, 2);
    assert.equal(b.snapshot().fillRatio, 1);
    await b.close();
  });

  it('flushes a partial batch after maxWaitMs, with its fill ratio', async () => {
    const b = createBatcher<number, number>({ handler: (xs) => xs, maxBatch: 10, maxWaitMs: 5, statsIntervalMs: 0 });
    assert.deepEqual(await Promise.all([b.add(1), b.add(2)]), [1, 2]);
    const s = b.snapshot();
    assert.equal(s.flushes.time, 1);
    assert.equal(s.fillRatio, 0.2);
    await b.close();
  });

  it('flushes early for an item deadline sooner than maxWaitMs', async () => {
    const b = createBatcher<number, number>({ handler: (xs) => xs, maxBatch: 10, maxWaitMs: 10_000, statsIntervalMs: 0 });
    const t0 = performance.now();
    assert.equal(await b.add(1, { timeoutMs: 20 }), 1);
    assert.ok(performance.now() - t0 < 5000);
    assert.equal(b.snapshot().flushes.deadline, 1);
    await b.close();
  });

  it('rejects each item of a batch whose handler throws with the cause, and goes on with the next batch', async () => {
    let call = 0;
    const b = createBatcher<string, string>({
      handler: async (xs) => {
        call++;
        if (call === 1) throw new Error('connection reset');
        return xs.map((x) => x.toUpperCase());
      },
      maxBatch: 2,
      statsIntervalMs: 0,
    });
    const first = await Promise.allSettled([b.add('a'), b.add('b')]);
    for (const r of first) {
      assert.equal(r.status, 'rejected');
      const err = (r as PromiseRejectedResult).reason as Error & { code?: string; cause?: unknown };
      assert.ok(isFlowError(err, FlowErrorCodes.BATCH_FAILED));
      assert.match(err.message, /the handler failed for a batch of 2: connection reset/);
      assert.equal((err.cause as Error).message, 'connection reset');
    }
    assert.deepEqual(await Promise.all([b.add('c'), b.add('d')]), ['C', 'D']);
    assert.equal(b.snapshot().failedBatches, 1);
    await b.close();
  });

  it('rejects every item when the handler returns the wrong number of results', async () => {
    const b = createBatcher<number, number>({ handler: () => [1], maxBatch: 2, statsIntervalMs: 0 });
    const settled = await Promise.allSettled([b.add(1), b.add(2)]);
    for (const r of settled) {
      const err = (r as PromiseRejectedResult).reason as Error & { cause?: Error };
      assert.ok(isFlowError(err, FlowErrorCodes.BATCH_FAILED));
      assert.match(err.cause!.message, /one result per item \(2\), got 1 results/);
    }
    await b.close();
  });

  it('rejects a past deadline, a full queue and a closed batcher at once', async () => {
    const clock = new FakeClock();
    clock.t = 100;
    let release!: () => void;
    const b = createBatcher<number, void>({ handler: () => new Promise<void>((r) => (release = r)), maxBatch: 1, maxPending: 1, clock, statsIntervalMs: 0 });
    await assert.rejects(b.add(1, { deadline: 50 }), (e) => isFlowError(e, FlowErrorCodes.DEADLINE_PAST) && e.message === 'batcher default: deadline passed 50 ms ago');
    const running = b.add(1); // dispatched at once (a full batch of 1)
    const pending = b.add(2);
    await assert.rejects(b.add(3), (e) => isFlowError(e, FlowErrorCodes.QUEUE_FULL) && /1 items already pending/.test(e.message));
    release();
    await running;
    await sleep(0);
    release();
    await pending;
    await b.close();
    await assert.rejects(b.add(4), (e) => isFlowError(e, FlowErrorCodes.CLOSED));
  });

  it('grows the batch by the additive step after full batches within the target and backs off by 0.9 over it (Clipper AIMD)', async () => {
    const clock = new FakeClock();
    // Latency model: 1 ms per item, so the target of 20 ms is met up to 20 items.
    const b = createBatcher<number, void>({
      handler: async (xs) => {
        clock.t += xs.length;
      },
      maxBatch: 64,
      throughputGuard: 0,
      targetLatencyMs: 20,
      additiveIncrease: 4,
      initialBatch: 4,
      maxWaitMs: 1000,
      clock,
      statsIntervalMs: 0,
    });
    const trajectory: number[] = [];
    b.onBatch = (info) => trajectory.push(info.nextSize);
    for (let round = 0; round < 8; round++) {
      await Promise.all(Array.from({ length: b.batchSize }, (_, i) => b.add(i)));
    }
    // 4 → 8 → 12 → 16 → 20 (20 ms is within) → 24 (24 ms over) → floor(24·0.9)=21 (21 ms over) → floor(21·0.9)=18
    assert.deepEqual(trajectory, [8, 12, 16, 20, 24, 21, 18, 22]);
    await b.close();
  });

  it('steps back instead of growing once a bigger full batch processes fewer items per ms (throughput guard)', async () => {
    const clock = new FakeClock();
    // Latency model: 1 ms per item up to 16 items, 2 ms per item beyond: the rate halves past 16.
    const b = createBatcher<number, void>({
      handler: async (xs) => {
        clock.t += xs.length * (xs.length <= 16 ? 1 : 2);
      },
      maxBatch: 64,
      targetLatencyMs: 1000,
      additiveIncrease: 4,
      initialBatch: 8,
      maxWaitMs: 1000,
      clock,
      statsIntervalMs: 0,
    });
    const trajectory: number[] = [];
    b.onBatch = (info) => trajectory.push(info.nextSize);
    for (let round = 0; round < 6; round++) await Promise.all(Array.from({ length: b.batchSize }, (_, i) => b.add(i)));
    assert.deepEqual(trajectory, [12, 16, 20, 16, 20, 16]);
    await b.close();
  });

  const bad: [Partial<BatcherOptions<number, number>>, RegExp, string][] = [
    [{ throughputGuard: 2 }, /^throughputGuard must be a finite number in \[0, 1\], got 2$/, 'RangeError'],
    [{ handler: undefined as unknown as () => void }, /^handler must be a function, got undefined$/, 'TypeError'],
    [{ maxBatch: 0 }, /^maxBatch must be an integer ≥ 1, got 0$/, 'RangeError'],
    [{ maxWaitMs: -1 }, /^maxWaitMs must be a finite number ≥ 0, got -1$/, 'RangeError'],
    [{ targetLatencyMs: 0 }, /^targetLatencyMs must be a finite number > 0, got 0$/, 'RangeError'],
    [{ minBatch: 200, maxBatch: 100 }, /^minBatch must be an integer in \[1, 100\], got 200$/, 'RangeError'],
    [{ backoffRatio: 1 }, /^backoffRatio must be a finite number in \[0\.1, 1\)/, 'RangeError'],
  ];
  for (const [options, message, type] of bad) {
    it(`throws a ${type} naming the option for ${JSON.stringify(options)}`, () => {
      assert.throws(() => createBatcher({ handler: (xs: number[]) => xs, ...options } as BatcherOptions<number, number>), (err: Error & { code?: string }) => {
        assert.equal(err.name, type);
        assert.equal(err.code, FlowErrorCodes.INVALID_OPTION);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});

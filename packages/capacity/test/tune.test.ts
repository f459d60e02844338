import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes, isRedlineError } from '@redline/core';
import { checkStageModule, ladder, measureStage, parseSlo } from '@redline/capacity';

test('checkStageModule names the first missing export with REDLINE_ERR_INVALID_SCENARIO', () => {
  const fn = (): void => {};
  assert.throws(() => checkStageModule({ setup: fn, records: fn }, 'stage.ts'), (err: unknown) => {
    assert.ok(isRedlineError(err, ErrorCodes.INVALID_SCENARIO));
    assert.equal(err.message, 'stage.ts does not export stage(): a stage module exports setup(), stage(batch) and records()');
    return true;
  });
  assert.throws(() => checkStageModule({ setup: fn, stage: fn, records: [] }, 'stage.ts'), /stage\.ts exports a object as records\(\)/);
  assert.doesNotThrow(() => checkStageModule({ setup: fn, stage: fn, records: fn }, 'stage.ts'));
});

test('ladder gives powers of two up to the maximum', () => {
  assert.deepEqual(ladder(1), [1]);
  assert.deepEqual(ladder(8), [1, 2, 4, 8]);
  assert.deepEqual(ladder(100), [1, 2, 4, 8, 16, 32, 64, 100]);
});

test('measureStage hands the stage batches of the configured size and counts every record', async () => {
  const sizes: number[] = [];
  const stage = {
    setup() {},
    stage: async (batch: number[]) => {
      sizes.push(batch.length);
      await new Promise((r) => setImmediate(r));
    },
    *records() {
      for (let i = 0; i < 400; i++) yield i;
    },
  };
  const m = await measureStage(stage, { batchSize: 8, concurrency: 2 }, { slo: parseSlo('p(99)<5000'), durationMs: 5000 });
  assert.equal(m.records, 400, 'a finite source ends the measurement early, every record done');
  assert.equal(sizes.reduce((a, b) => a + b, 0), 400);
  assert.ok(sizes.every((s) => s <= 8));
  assert.ok(sizes.filter((s) => s === 8).length >= 45, `mostly full batches: ${sizes.join(',')}`);
  assert.equal(m.ok, true);
});

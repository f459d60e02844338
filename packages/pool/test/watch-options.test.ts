import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DurationHistogram, PoolWatchError, watchPool } from '@redline/pool';

describe('watchPool bad input', () => {
  it('rejects an object that is no known pool with REDLINE_ERR_POOL_UNSUPPORTED', () => {
    for (const bad of [{}, null, 42, { connect() {} }]) {
      assert.throws(
        () => watchPool(bad),
        (err: unknown) => err instanceof PoolWatchError && err.code === 'REDLINE_ERR_POOL_UNSUPPORTED' && /pg\.Pool, mysql2 pools, tarn/.test(err.message),
      );
    }
  });

  it('rejects bad options with REDLINE_ERR_POOL_OPTION naming the option', () => {
    const cases: Array<[object, RegExp]> = [
      [{ leakMs: -1 }, /^leakMs must be a number of ms >= 0/],
      [{ leakMs: Number.NaN }, /^leakMs/],
      [{ intervalMs: 10 }, /^intervalMs must be a number of ms in 100\.\.60000, got 10$/],
      [{ name: '' }, /^name must be a non-empty string$/],
    ];
    for (const [opts, message] of cases) {
      assert.throws(() => watchPool({}, opts), (err: unknown) => err instanceof PoolWatchError && err.code === 'REDLINE_ERR_POOL_OPTION' && message.test(err.message));
    }
  });
});

describe('DurationHistogram', () => {
  it('gives percentiles within 2.5 % and the exact max and mean', () => {
    const h = new DurationHistogram();
    for (let i = 1; i <= 1000; i++) h.record(i);
    assert.equal(h.count, 1000);
    assert.equal(h.maxMs, 1000);
    assert.equal(h.mean(), 500.5);
    for (const [q, want] of [[0.5, 500], [0.9, 900], [0.99, 990]] as const) {
      const got = h.quantile(q);
      assert.ok(Math.abs(got - want) / want < 0.025, `q${q}: ${got}`);
    }
    h.reset();
    assert.equal(h.quantile(0.5), 0);
  });
});

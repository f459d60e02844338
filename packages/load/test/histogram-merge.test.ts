import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { LatencyHistogram } from '@redline/core';
import { resolvePlan, runLoad } from '@redline/load';
import { startTestServer, type TestServer } from './fixtures/test-server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv.close();
});

const PERCENTILES = [0, 50, 75, 90, 95, 99, 99.9, 100];

describe('histogram merge across workers', () => {
  it('merged per-second histograms equal the run histogram; counts add up', async () => {
    const plan = resolvePlan(
      {
        baseUrl: srv.url,
        executor: 'constant-arrival-rate',
        rate: 100,
        duration: '3s',
        requests: [
          { url: '/sleep?ms=1', name: 'fast', weight: 3 },
          { url: '/sleep?ms=8', name: 'mid', weight: 2 },
          { url: '/sleep?ms=25', name: 'slow', weight: 1 },
        ],
      },
      'merge.test.ts',
    );
    const r = await runLoad(plan, { workers: 2 });
    assert.equal(r.environment.workers, 2);
    assert.ok(r.summary.requests >= 299 && r.summary.requests <= 301, `requests ${r.summary.requests}`);
    assert.equal(r.histograms.intervals.length, r.timeseries.length);

    const whole = LatencyHistogram.decode(r.histograms.latency);
    const merged = LatencyHistogram.mergeEncoded(r.histograms.intervals);
    assert.equal(merged.count, whole.count);
    assert.equal(whole.count, r.summary.requests);
    for (const p of PERCENTILES) assert.equal(merged.percentileMs(p), whole.percentileMs(p), `p${p}`);
    assert.equal(merged.maxMs, whole.maxMs);
    assert.deepEqual(merged.summary(), r.summary.latency);

    // Per-second counts add up to the totals.
    assert.equal(r.timeseries.reduce((a, p) => a + p.requests, 0), r.summary.requests);
    assert.equal(r.timeseries.reduce((a, p) => a + p.iterations, 0), r.summary.iterations);
    r.histograms.intervals.forEach((enc, i) => {
      const h = LatencyHistogram.decode(enc);
      assert.equal(h.count, r.timeseries[i]!.requests, `second ${i + 1}`);
      assert.equal(h.percentileMs(99), r.timeseries[i]!.latency?.p99, `second ${i + 1} p99`);
    });

    // By-name histograms partition the total exactly.
    const names = Object.keys(r.histograms.byName).sort();
    assert.deepEqual(names, ['fast', 'mid', 'slow']);
    const byName = LatencyHistogram.mergeEncoded(names.map((n) => r.histograms.byName[n]!.latency));
    assert.equal(byName.count, whole.count);
    for (const p of PERCENTILES) assert.equal(byName.percentileMs(p), whole.percentileMs(p), `by-name p${p}`);
    assert.equal(
      names.reduce((a, n) => a + r.summary.byName[n]!.requests, 0),
      r.summary.requests,
    );
    // The weights and delays show: slow requests are slower than fast ones at the median.
    assert.ok(r.summary.byName.slow!.serviceTime!.p50 >= 25, `slow p50 ${r.summary.byName.slow!.serviceTime!.p50}`);
    assert.ok(r.summary.byName.fast!.serviceTime!.p50 < r.summary.byName.slow!.serviceTime!.p50);
    assert.ok(r.summary.byName.fast!.requests > r.summary.byName.slow!.requests);
  });

  it('a histogram split in two and merged equals one holding every sample', () => {
    const one = new LatencyHistogram();
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    let x = 12345;
    for (let i = 0; i < 20_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      const us = 50 + (x % 2_000_000);
      one.recordUs(us);
      (i % 2 === 0 ? a : b).recordUs(us);
    }
    const merged = LatencyHistogram.decode(a.encode()).merge(LatencyHistogram.decode(b.encode()));
    assert.equal(merged.count, 20_000);
    for (const p of [...PERCENTILES, 99.99]) assert.equal(merged.percentileMs(p), one.percentileMs(p), `p${p}`);
    assert.deepEqual(merged.summary(), one.summary());
  });
});

import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isRedlineError, seededRandom } from '@redline/core';
import {
  concurrencyForThroughput,
  fitUsl,
  parseSlo,
  predictBurnRates,
  predictLatencyMs,
  predictThroughput,
  uslThroughput,
  type UslParams,
  type UslPoint,
} from '../src/index.ts';

const SDM91 = new URL('./fixtures/sdm91.csv', import.meta.url);

function sdm91(): UslPoint[] {
  return readFileSync(SDM91, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const [n, x] = line.split(',');
      return { concurrency: Number(n), throughput: Number(x) };
    });
}

function sig4(value: number): number {
  return Number(value.toPrecision(4));
}

function synthetic(truth: UslParams, seed: number, noise: number): UslPoint[] {
  const rand = seededRandom(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return [1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 80, 100].map((n) => ({
    concurrency: n,
    throughput: uslThroughput(truth, n) * (1 + noise * gauss()),
  }));
}

describe('fitUsl', () => {
  it('reproduces the published SDM91 fit (codahale/usl) to four significant figures', () => {
    const fit = fitUsl(sdm91(), { bootstrapIterations: 200 });
    assert.equal(fit.converged, true, fit.message);
    assert.equal(sig4(fit.params.sigma), sig4(0.0277299));
    assert.equal(sig4(fit.params.kappa), sig4(0.000104343));
    assert.equal(sig4(fit.params.lambda), sig4(89.9878));
    assert.equal(fit.nMax, 96);
    assert.equal(sig4(fit.xMax), sig4(1883.77));
    // Within the measured range (N ≤ 216) the serial fraction costs more than crosstalk.
    assert.equal(fit.dominant, 'contention');
    assert.ok(fit.coherencyCrossover > 216);
    assert.deepEqual(fit.measuredMax, { concurrency: 72, throughput: 1853 });
  });

  it('recovers known parameters from noisy synthetic data within the reported confidence intervals', () => {
    const truth = { sigma: 0.05, kappa: 0.0002, lambda: 100 };
    const fit = fitUsl(synthetic(truth, 2024, 0.03), { seed: 7, bootstrapIterations: 600 });
    assert.equal(fit.converged, true, fit.message);
    const ci = fit.ci;
    assert.ok(ci, 'confidence intervals are reported');
    for (const key of ['sigma', 'kappa', 'lambda'] as const) {
      assert.ok(ci[key].low <= truth[key] && truth[key] <= ci[key].high, `${key}=${truth[key]} in [${ci[key].low}, ${ci[key].high}]`);
      assert.ok(ci[key].low < ci[key].high, `${key} interval has width`);
    }
    const truePeak = Math.floor(Math.sqrt((1 - truth.sigma) / truth.kappa));
    assert.ok(ci.nMax.low <= truePeak && truePeak <= ci.nMax.high, `N_max ${truePeak} in [${ci.nMax.low}, ${ci.nMax.high}]`);
    // At N = 100 the true contention term σ(N−1) = 4.95 exceeds the coherency term κN(N−1) = 1.98.
    assert.equal(fit.dominant, 'contention');
  });

  it('says coherency dominates when crosstalk costs more than contention at the highest load', () => {
    const fit = fitUsl(synthetic({ sigma: 0.01, kappa: 0.001, lambda: 20 }, 5, 0.02), { bootstrapIterations: 0 });
    assert.equal(fit.dominant, 'coherency');
    assert.ok(fit.coherencyCrossover < 100);
  });

  it('covers the true σ, κ, λ, N_max and X_max in at least 80 % of 95 % intervals over many noisy data sets', () => {
    const truth = { sigma: 0.02, kappa: 0.0005, lambda: 50 };
    const nMax = Math.floor(Math.sqrt((1 - truth.sigma) / truth.kappa));
    const expected = { ...truth, nMax, xMax: uslThroughput(truth, nMax) };
    const keys = ['sigma', 'kappa', 'lambda', 'nMax', 'xMax'] as const;
    const covered = Object.fromEntries(keys.map((k) => [k, 0])) as Record<(typeof keys)[number], number>;
    const runs = 12;
    for (let seed = 1; seed <= runs; seed++) {
      const fit = fitUsl(synthetic(truth, seed * 101, 0.05), { seed, bootstrapIterations: 300 });
      for (const key of keys) {
        if (fit.ci && fit.ci[key].low <= expected[key] && expected[key] <= fit.ci[key].high) covered[key]++;
      }
    }
    for (const key of keys) assert.ok(covered[key] / runs >= 0.8, `${key} coverage ${covered[key]}/${runs}`);
  });

  it('gives the same intervals for the same seed', () => {
    const a = fitUsl(sdm91(), { seed: 3, bootstrapIterations: 100 });
    const b = fitUsl(sdm91(), { seed: 3, bootstrapIterations: 100 });
    assert.deepEqual(a.ci, b.ci);
  });

  it('says when the fit does not converge and still reports the measured maximum', () => {
    const fit = fitUsl(sdm91(), { maxIterations: 1 });
    assert.equal(fit.converged, false);
    assert.match(fit.message, /^the USL fit did not converge \(no convergence after 1 iterations\); the measured maximum is 1853\/s at concurrency 72$/);
    assert.deepEqual(fit.measuredMax, { concurrency: 72, throughput: 1853 });
    assert.equal(fit.ci, undefined);
  });

  it('reports κ = 0 and an unbounded N_max for linear scaling', () => {
    const points = [1, 2, 4, 8, 16, 32].map((n) => ({ concurrency: n, throughput: 10 * n }));
    const fit = fitUsl(points, { bootstrapIterations: 0 });
    assert.equal(fit.converged, true);
    assert.ok(Math.abs(fit.params.lambda - 10) < 1e-6);
    assert.equal(fit.params.kappa, 0);
    assert.equal(fit.nMax, Infinity);
    assert.equal(fit.dominant, 'none');
  });

  it('rejects fewer than six points', () => {
    assert.throws(
      () => fitUsl(sdm91().slice(0, 5)),
      (err: unknown) =>
        isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') &&
        err.message === 'a USL fit needs at least 6 (concurrency, throughput) points, got 5',
    );
  });

  it('rejects negative and non-numeric values', () => {
    const neg = sdm91();
    neg[2] = { concurrency: 36, throughput: -1 };
    assert.throws(
      () => fitUsl(neg),
      (err: unknown) =>
        isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') && err.message === 'point 2: throughput must be a finite number >= 0, got -1',
    );
    const nan = sdm91();
    nan[0] = { concurrency: Number.NaN, throughput: 65 };
    assert.throws(
      () => fitUsl(nan),
      (err: unknown) =>
        isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') && err.message === 'point 0: concurrency must be a finite number > 0, got NaN',
    );
  });

  it('rejects data with fewer than three distinct concurrency levels', () => {
    const points = [1, 1, 1, 2, 2, 2].map((n) => ({ concurrency: n, throughput: n * 10 }));
    assert.throws(
      () => fitUsl(points),
      (err: unknown) =>
        isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') &&
        err.message === 'a USL fit needs at least 3 distinct concurrency levels to determine σ, κ and λ, got 2',
    );
  });

  it('rejects bad options with the option name', () => {
    assert.throws(
      () => fitUsl(sdm91(), { level: 1.5 }),
      (err: unknown) => isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') && err.message === 'level must be between 0 and 1 (exclusive), got 1.5',
    );
  });
});

describe('USL predictions', () => {
  const params = { sigma: 0.0277299, kappa: 0.000104343, lambda: 89.9878 };

  it('predicts throughput and Little-law latency at a concurrency', () => {
    const x = predictThroughput(params, 50);
    assert.equal(x, uslThroughput(params, 50));
    assert.ok(Math.abs(predictLatencyMs(params, 50) - (50 / x) * 1000) < 1e-9);
    assert.ok(Math.abs(predictLatencyMs(params, 50, 10) - ((50 / x) * 1000 - 10)) < 1e-9);
  });

  it('finds the concurrency for a target throughput on the rising side, or null above the peak', () => {
    const n = concurrencyForThroughput(params, 1500);
    assert.ok(n !== null);
    assert.ok(Math.abs(uslThroughput(params, n) - 1500) < 1e-6);
    assert.ok(n < Math.sqrt((1 - params.sigma) / params.kappa));
    assert.equal(concurrencyForThroughput(params, 5000), null);
    const linear = { sigma: 0, kappa: 0, lambda: 10 };
    assert.ok(Math.abs(concurrencyForThroughput(linear, 250)! - 25) < 1e-9);
  });

  it('predicts burn rates that rise with load and cross 1 where the SLO breaks', () => {
    const slo = parseSlo('p(99)<100');
    const rows = predictBurnRates(params, slo, [1, 10, 50, 96, 150, 200]);
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i]!.burnRate >= rows[i - 1]!.burnRate);
    for (const row of rows) {
      const expected = Math.exp(-100 / row.meanLatencyMs) / 0.01;
      assert.ok(Math.abs(row.burnRate - expected) < 1e-9);
      assert.equal(row.meetsSlo, row.burnRate < 1);
    }
    assert.equal(rows[0]!.meetsSlo, true);
    assert.equal(rows.at(-1)!.meetsSlo, false);
  });

  it('rejects a non-positive concurrency', () => {
    assert.throws(
      () => predictThroughput(params, 0),
      (err: unknown) => isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') && err.message === 'concurrency must be a finite number > 0, got 0',
    );
  });
});

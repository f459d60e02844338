import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompareResult } from '../src/index.ts';
import { noiseTrial, regressedMetrics, startWorkServer, type WorkServer } from './helpers/noise-runs.ts';

// The short version of bench/compare-noise.bench.ts: real runs of the load engine against real
// servers (own processes, port 0), 3 runs a side, interleaved. Two servers that do the same thing
// must not be called regressed; a server whose requests take 3× as long must be. The effect is large
// because run-to-run noise on a shared CI machine is large (p50 ±20–50 % between runs at load
// average 20); bench/compare-noise.bench.ts measures the rates over 20 repetitions with 15 %.
describe('compare on real runs, 3 a side', () => {
  let base: WorkServer;
  let same: WorkServer;
  let slow: WorkServer;
  let results: Record<string, CompareResult>;
  before(async () => {
    [base, same, slow] = await Promise.all([startWorkServer({ delayMs: 20 }), startWorkServer({ delayMs: 20 }), startWorkServer({ delayMs: 60 })]);
    const root = mkdtempSync(join(tmpdir(), 'redline-real-noise-'));
    results = await noiseTrial({ root, base, candidates: { same, slow }, runsPerSide: 3, ratePerSec: 40, durationS: 2, seed: 7 });
  });
  after(async () => {
    await Promise.all([base?.close(), same?.close(), slow?.close()]);
  });

  it('compares runs against servers on different ports without --force, counting 3 runs a side', () => {
    const cmp = results.same!;
    assert.equal(cmp.forced, false);
    const p50 = cmp.metrics.find((m) => m.metric === 'p50')!;
    assert.equal(p50.samples.baseRuns, 3);
    assert.equal(p50.samples.candidateRuns, 3);
    assert.ok(p50.base > 19 && p50.base < 200, `base p50 ${p50.base} ms`);
  });

  it('does not call two identical servers regressed', () => {
    assert.deepEqual(regressedMetrics(results.same!), [], JSON.stringify(results.same!.metrics.map((m) => [m.metric, m.change, m.ci])));
  });

  it('calls a server whose requests take 3× as long regressed on p50', () => {
    const cmp = results.slow!;
    const p50 = cmp.metrics.find((m) => m.metric === 'p50')!;
    assert.ok(p50.change > 0.5, `p50 change ${p50.change}`);
    assert.ok(regressedMetrics(cmp).includes('p50'), JSON.stringify(cmp.metrics.map((m) => [m.metric, m.change, m.ci, m.verdict])));
  });
});

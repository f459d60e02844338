import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareRuns } from '../src/index.ts';
import { runDirFactory } from './helpers/run-dirs.ts';
import { syntheticRun } from './helpers/synthetic-run.ts';

const runDir = runDirFactory('redline-noise-');

describe('compareRuns on runs drawn from identical distributions', () => {
  it('says "no change" for every metric in at least 95 of 100 random seeds', async (t) => {
    const flagged: Record<string, number> = {};
    let unchanged = 0;
    for (let seed = 1; seed <= 100; seed++) {
      // Same load, latency, error rate and target behaviour; only the random draws differ.
      const shape = { durationS: 30, ratePerSec: 200, jitterRate: true, stall: false, withFindings: false, names: ['GET /'] } as const;
      const base = await runDir(`b${seed}`, syntheticRun({ ...shape, seed: 1000 + seed }));
      const cand = await runDir(`c${seed}`, syntheticRun({ ...shape, seed: 5000 + seed }));
      const cmp = await compareRuns([base], [cand], { seed });
      assert.equal(cmp.metrics.length, 10);
      const changed = cmp.metrics.filter((m) => m.verdict !== 'no change');
      for (const m of changed) flagged[m.metric] = (flagged[m.metric] ?? 0) + 1;
      if (changed.length === 0) unchanged++;
    }
    t.diagnostic(`identical runs: ${unchanged}/100 no change; flagged ${JSON.stringify(flagged)}`);
    assert.ok(unchanged >= 95, `only ${unchanged}/100 comparisons said no change; flagged: ${JSON.stringify(flagged)}`);
  });
});

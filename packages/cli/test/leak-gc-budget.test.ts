// The forced-GC pause budget: a target whose collections cost little gets one at every moment, one
// whose collections cost much waits cost / 1.5 % for the next (the leak rule's first five go at their
// moments while each costs ≤ 2 % of the run and all ≤ 5 %), and a heap whose first collection would
// take over 2 % of the run gets none. A stand-in target answers the GCs
// (the budget is runner-side policy; the real probe's GCs are in leak-rate and leak-demo tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { FullGcResult, HeapSnapshotResult, RawProbeSample } from '@redline/probe/host';
import { LeakEvidence, forcedGcCostMs, forcedGcSpacingMs } from '../src/leak-evidence.js';

function standIn(gc: { pauseMs: number; cpuMs: number }, heapUsedBytes: number): { calls: number; target: ConstructorParameters<typeof LeakEvidence>[0] } {
  const state = { calls: 0, target: null as unknown as ConstructorParameters<typeof LeakEvidence>[0] };
  const sample = { thread: 'main', startEpochMs: 0, endEpochMs: 0, heapUsedBytes, heapAfterMajorGcBytes: null, gc: {} } as unknown as RawProbeSample;
  state.target = {
    samples: () => [sample],
    collectGarbage: async (): Promise<FullGcResult> => {
      state.calls += 1;
      return { atEpochMs: Date.now(), heapUsedBytes, ...gc };
    },
    writeHeapSnapshot: async (): Promise<HeapSnapshotResult> => {
      throw new Error('no snapshots in this test');
    },
  };
  return state;
}

test('forced GCs keep to the pause budget: cheap ones at every moment, costly ones spaced out, none on a heap too big', async () => {
  const plannedMs = 4000; // moments at 0.625, 1.875 and 3.125 s (every 1.25 s)
  const arms = {
    cheap: standIn({ pauseMs: 8, cpuMs: 12 }, 10 * 2 ** 20),
    // 90 ms of CPU, over 2 % of the run: the next may come only 6 s later, after the run.
    costly: standIn({ pauseMs: 300, cpuMs: 90 }, 10 * 2 ** 20),
    // A 500 MB heap: its first full GC (~500 ms) would be more than 2 % of a 4 s run.
    huge: standIn({ pauseMs: 8, cpuMs: 8 }, 500 * 2 ** 20),
  };
  const events: string[] = [];
  const runs = Object.values(arms).map((arm) => {
    const e = new LeakEvidence(arm.target, plannedMs, { snapshots: 'off' }, (m) => events.push(m));
    e.start(Date.now());
    return e;
  });
  await new Promise((r) => setTimeout(r, plannedMs));
  for (const e of runs) await e.stop();
  assert.equal(arms.cheap.calls, 3);
  assert.equal(arms.costly.calls, 1);
  assert.equal(arms.huge.calls, 0);
  assert.ok(events.some((m) => /^forced full GCs spaced out so that their pauses stay a small share of the run \(next in \d+\.\d s\)$/.test(m)), events.join('\n'));
  assert.ok(events.includes('no forced full GCs: on this heap one would pause the target for more than 2 % of the run'), events.join('\n'));
  // The cost is the pause, or the CPU when a busy machine stretched the pause.
  assert.equal(forcedGcCostMs({ pauseMs: 300, cpuMs: 90 }), 90);
  assert.equal(forcedGcCostMs({ pauseMs: 8, cpuMs: 12 }), 8);
  assert.equal(forcedGcCostMs({ pauseMs: 40 }), 40);
  // Spacing: none for the rule's first five while each costs ≤ 2 % of the run and all ≤ 5 %; cost / 1.5 % otherwise.
  assert.equal(forcedGcSpacingMs([20, 20, 20, 20], 10_000), 0);
  assert.equal(Math.round(forcedGcSpacingMs([20, 20, 20, 20, 20], 10_000)), 1333);
  assert.equal(Math.round(forcedGcSpacingMs([150, 150, 150], 10_000)), 10_000);
  assert.equal(Math.round(forcedGcSpacingMs([250], 10_000)), 16_667);
});

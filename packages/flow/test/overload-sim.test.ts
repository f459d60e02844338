// The limiter on the overload experiment in simulation (test-support/flow-sim.ts): a virtual clock,
// a one-core service whose requests share the CPU, Poisson arrivals at 0.5×, 1×, 2×, 3×, 4× and back
// to 0.5× of its maximum sustainable rate. On a dedicated core the demo's limiter configuration must
// reach the targets; the same service without a limiter must not (so the test can fail).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LimiterOptions } from '@redline/flow';
import { overloadSteps, simulateOverload, verdict } from '../../../test-support/flow-sim.ts';

// The demo's limiter (packages/demo/src/limiter.ts).
const demo: LimiterOptions = { name: 'demo', algorithm: 'gradient2', min: 1, max: 64, initial: 4, maxQueue: 0, gradient2: { queueSize: 1 } };
// 4 ms of CPU per request: 250/s at most; the simulated search finds ~229/s under p(99)<250.
const MAX_RATE = 225;

describe('overload in simulation, on a dedicated core', () => {
  it('gradient2 keeps 3× goodput ≥ 90 % of peak, admitted p99 ≤ 2× unloaded, recovery ≤ 5 s', async () => {
    const r = await simulateOverload({ steps: overloadSteps(MAX_RATE, 3000, 6000), limiter: demo, sloMs: 250, machine: { share: 1 }, seed: 3 });
    const v = verdict(r);
    const detail = JSON.stringify(r.steps.map((s) => ({ goodput: s.goodput, p99: s.admittedP99Ms, limit: s.meanLimit })));
    assert.ok(v.goodputShareAt3 >= 0.9, `goodput at 3× ${v.goodputShareAt3} of peak: ${detail}`);
    assert.ok(v.p99RatioAt3 <= 2, `admitted p99 at 3× ${v.p99RatioAt3}× unloaded: ${detail}`);
    assert.ok(v.recoverySeconds !== null && v.recoverySeconds <= 5, `recovery ${v.recoverySeconds} s`);
    assert.ok(r.steps[3]!.refused > 0, 'the excess was refused');
  });

  it('without a limiter the same service loses its goodput at 3×', async () => {
    const r = await simulateOverload({ steps: overloadSteps(MAX_RATE, 3000, 6000), limiter: null, sloMs: 250, machine: { share: 1 }, seed: 3 });
    const v = verdict(r);
    assert.ok(v.goodputShareAt3 < 0.5, `goodput at 3× ${v.goodputShareAt3} of peak`);
    assert.ok(r.steps[3]!.timeouts + r.steps[3]!.dropped > 0, 'requests timed out or could not be sent');
  });
});

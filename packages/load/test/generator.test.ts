import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolvePlan, runLoad, type IterationContext } from '@redline/load';

describe('generator self-check', () => {
  it('marks a run generatorLimited when its own event loop cannot keep the schedule', async () => {
    // Each iteration burns 25 ms of CPU on the generator's thread; 50 per second need 1.25 s of CPU
    // per second, so the generator, not any target, is the limit (no requests: nothing else to blame).
    // The verdict ignores the first and last second and wants at least two bad steady seconds.
    const plan = resolvePlan(
      {
        executor: 'constant-arrival-rate',
        rate: 50,
        duration: '4s',
        maxVUs: 1000,
        exec: (ctx: IterationContext) => {
          const until = performance.now() + 25;
          while (performance.now() < until) ctx.vars.spin = ((ctx.vars.spin as number | undefined) ?? 0) + 1;
        },
      },
      'generator.test.ts',
    );
    const r = await runLoad(plan, { workers: 0 });
    assert.equal(r.generator.limited, true);
    assert.ok(r.generator.reasons.length >= 1);
    assert.ok(r.generator.reasons.some((s) => s.includes('event loop') || s.includes('started late')), r.generator.reasons.join(' | '));
    assert.ok(r.generator.eluMax >= 0.9, `elu max ${r.generator.eluMax}`);
    assert.ok(r.generator.scheduleLagMs.max > 100, `lag max ${r.generator.scheduleLagMs.max}`);
    // Every scheduled iteration is accounted for, late or not: 50/s × 4 s.
    const intended = r.generator.seconds.reduce((a, x) => a + (x.intendedRate ?? 0), 0);
    assert.equal(intended, 200);
    assert.equal(r.summary.iterations + r.summary.iterationsDropped, 200);
    assert.ok(r.generator.seconds.length >= 4, `seconds ${r.generator.seconds.length}`);
  });
});

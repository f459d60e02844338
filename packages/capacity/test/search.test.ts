import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRedlineError } from '@redline/core';
import {
  formatStepLine,
  searchCapacity,
  uslThroughput,
  type SearchOptions,
  type SearchProgress,
  type StepMeasurement,
  type StepRunner,
} from '../src/index.ts';
import { queueSimRunner, responseQuantileMs, trueMaxRate } from './fixtures/queue-sim.ts';

const SERVERS = 8;
const SERVICE_MS = 20; // capacity 400/s

function openOptions(overrides: Partial<SearchOptions> = {}): SearchOptions {
  return {
    model: 'open',
    slo: 'p(99)<100',
    startLevel: 50,
    growthFactor: 1.5,
    maxLevel: 5000,
    stepDurationMs: 10_000,
    warmupMs: 2_000,
    maxDurationMs: 600_000,
    ...overrides,
  };
}

describe('searchCapacity against a simulated M/M/c queue', () => {
  it('finds the maximum sustainable rate within 10 % of the true value and below it', async () => {
    const truth = trueMaxRate(SERVERS, SERVICE_MS, 0.99, 100);
    const progress: SearchProgress[] = [];
    const result = await searchCapacity(queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS }), openOptions({ onStep: (p) => progress.push(p) }));
    assert.ok(result.maxSustainable, 'a sustainable rate was found');
    const found = result.maxSustainable.level;
    assert.ok(found <= truth, `found ${found} <= true ${truth}`);
    assert.ok(found >= truth * 0.9, `found ${found} within 10 % of ${truth}`);
    assert.equal(result.stopReason, 'slo');
    assert.equal(result.maxSustainable.lowerBound, false);
    // The evidence is the measured step's numbers.
    const evidence = result.steps[result.maxSustainable.step]!;
    assert.equal(result.maxSustainable.p99Ms, evidence.measurement.latency.p99);
    assert.ok(result.maxSustainable.p99Ms < 100);
    assert.equal(result.maxSustainable.errorRate, 0);
    assert.ok(result.steps.some((s) => s.phase === 'bisect'), 'bisection ran');
    assert.ok(result.steps.filter((s) => s.phase === 'bisect').length <= 4);
    // Every step honoured Little's law, so nothing is flagged.
    assert.deepEqual(result.flags.filter((f) => f.kind === 'littles-law'), []);
    assert.equal(progress.length, result.steps.length);
    assert.match(formatStepLine(progress[0]!), /^step 1 ramp 50\/s: 50\/s, p99 [\d.]+ ms, errors 0\.00 %, in flight [\d.]+ — ok$/);
    assert.ok(result.elapsedMs <= result.budgetMs);
    assert.ok(result.knee, 'a knee is reported');
    // Throughput cannot pass the 400/s capacity; the USL's smooth peak may sit a little above it.
    assert.ok(Math.abs(result.knee.throughput - 400) <= 40, `knee throughput ${result.knee.throughput}`);
    assert.ok(result.measuredKnee && result.measuredKnee.throughput <= 400 * 1.001);
  });

  it('stays within 10 % with noisy measurements', async () => {
    const truth = trueMaxRate(SERVERS, SERVICE_MS, 0.99, 100);
    const result = await searchCapacity(queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS, noise: 0.03, seed: 9 }), openOptions({ littleTolerance: 0.2 }));
    assert.ok(result.maxSustainable);
    assert.ok(Math.abs(result.maxSustainable.level - truth) / truth <= 0.1, `found ${result.maxSustainable.level} vs ${truth}`);
  });

  it('stops at a plateau in the closed model and puts the knee at the number of servers', async () => {
    const result = await searchCapacity(queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS }), {
      model: 'closed',
      slo: 'p(99)<10s',
      startLevel: 1,
      growthFactor: 1.5,
      maxLevel: 200,
      stepDurationMs: 5_000,
      maxDurationMs: 600_000,
    });
    assert.equal(result.stopReason, 'plateau');
    assert.equal(result.maxSustainable?.level, SERVERS);
    // The measured curve bends exactly at the number of servers; the USL rounds that corner off
    // and puts its peak somewhat later, never earlier.
    assert.equal(result.measuredKnee?.concurrency, SERVERS);
    assert.ok(result.knee && result.knee.concurrency >= SERVERS && result.knee.concurrency <= 2 * SERVERS, `knee at ${result.knee?.concurrency}`);
    assert.ok(result.steps.every((s) => Number.isInteger(s.spec.level)));
  });

  it('stops when errors exceed the budget', async () => {
    const runner = queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS, errorRate: (level) => (level > 150 ? 0.05 : 0.001) });
    const result = await searchCapacity(runner, openOptions({ errorBudget: 0.01 }));
    assert.equal(result.stopReason, 'errors');
    assert.ok(result.maxSustainable && result.maxSustainable.level <= 150);
    assert.ok(result.maxSustainable.level > 150 * 0.9);
  });

  it('respects the total time budget and reports a lower bound', async () => {
    const runner = queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS });
    const result = await searchCapacity(runner, openOptions({ maxDurationMs: 30_000 }));
    assert.equal(result.stopReason, 'budget');
    assert.equal(runner.calls.length, 2); // two 12 s steps fit into 30 s, a third does not
    assert.ok(result.elapsedMs <= 30_000);
    assert.equal(result.maxSustainable?.lowerBound, true);
    assert.ok(result.flags.some((f) => f.kind === 'lower-bound'));
  });

  it('stops at the maximum level', async () => {
    const result = await searchCapacity(queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS }), openOptions({ maxLevel: 100, increment: 20, growthFactor: undefined }));
    assert.equal(result.stopReason, 'max-level');
    assert.deepEqual(result.steps.map((s) => s.spec.level), [50, 70, 90, 100]);
    assert.equal(result.maxSustainable?.level, 100);
  });

  it("flags steps that violate Little's law", async () => {
    const sim = queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS });
    const skewed: StepRunner = async (step, signal) => {
      const m = await sim(step, signal);
      return step.level > 100 ? { ...m, concurrencyMean: m.concurrencyMean * 1.5 } : m;
    };
    const result = await searchCapacity(skewed, openOptions());
    const flagged = result.flags.filter((f) => f.kind === 'littles-law');
    assert.ok(flagged.length > 0);
    for (const f of flagged) {
      const step = result.steps[f.step!]!;
      assert.ok(step.spec.level > 100);
      assert.equal(step.little.ok, false);
      assert.ok(Math.abs(step.little.deviation - 0.5) < 1e-9);
    }
    assert.ok(result.steps.filter((s) => s.spec.level <= 100).every((s) => s.little.ok));
  });

  it('stops when the generator is the limit and does not blame the target', async () => {
    const sim = queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS });
    const limited: StepRunner = async (step, signal) => ({ ...(await sim(step, signal)), generatorLimited: step.level > 100, generatorReasons: ['event loop busy'] });
    const result = await searchCapacity(limited, openOptions());
    assert.equal(result.stopReason, 'generator-limited');
    assert.equal(result.maxSustainable?.level, 75);
    assert.equal(result.maxSustainable?.lowerBound, true);
    // The limited level was measured twice (one retry) before the search gave up.
    assert.deepEqual(result.steps.map((s) => s.spec.level), [50, 75, 112.5, 112.5]);
    const flag = result.flags.find((f) => f.kind === 'generator-limited' && f.step === 2);
    assert.equal(flag?.message, 'step 3 (level 112.5): the load generator could not hold the load, so this step measures the generator, not the target (event loop busy)');
  });

  it('measures a level again when the generator was limited only once', async () => {
    const sim = queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS });
    let calls = 0;
    const flaky: StepRunner = async (step, signal) => ({ ...(await sim(step, signal)), generatorLimited: ++calls === 2 });
    const result = await searchCapacity(flaky, openOptions());
    assert.equal(result.stopReason, 'slo');
    assert.equal(result.steps[1]!.measurement.generatorLimited, true);
    assert.equal(result.steps[2]!.spec.level, result.steps[1]!.spec.level);
    assert.ok(result.maxSustainable && result.maxSustainable.level > 250);
  });

  it('reports no sustainable rate when the first step already fails', async () => {
    const result = await searchCapacity(queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS }), openOptions({ startLevel: 500 }));
    assert.equal(result.maxSustainable, null);
    assert.equal(result.steps.length, 1);
    const flag = result.flags.find((f) => f.kind === 'first-step-failed');
    assert.equal(flag?.message, 'the first step (level 500) already failed (slo, plateau); lower the start level');
  });

  it('ends promptly when aborted', async () => {
    const controller = new AbortController();
    const sim = queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS });
    const runner: StepRunner = async (step, signal) => {
      if (sim.calls.length === 2) controller.abort();
      return sim(step, signal);
    };
    const result = await searchCapacity(runner, openOptions({ signal: controller.signal }));
    assert.equal(result.stopReason, 'aborted');
    assert.equal(result.steps.length, 2);
    assert.ok(result.flags.some((f) => f.kind === 'aborted'));
  });

  it('aborts a step that overruns the budget and ends with budget', async () => {
    let sawAbort = false;
    const hanging: StepRunner = (_step, signal) =>
      new Promise((_resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('runner ignored the abort')), 5000);
        signal.addEventListener('abort', () => {
          sawAbort = true;
          clearTimeout(timer);
          reject(signal.reason as Error);
        });
      });
    const result = await searchCapacity(hanging, openOptions({ stepDurationMs: 100, warmupMs: 0, maxDurationMs: 200, budgetGraceMs: 50 }));
    assert.equal(sawAbort, true);
    assert.equal(result.stopReason, 'budget');
    assert.equal(result.steps.length, 0);
    assert.ok(result.flags.some((f) => f.message === 'a step overran the 200 ms budget by more than 50 ms and was aborted'));
  });

  it('takes the knee from a USL fit when there are six or more steps', async () => {
    const truth = { sigma: 0.03, kappa: 0.0004, lambda: 100 };
    const runner: StepRunner = async (step) => {
      const x = uslThroughput(truth, step.level);
      const mean = (step.level / x) * 1000;
      const m: StepMeasurement = {
        level: step.level,
        throughput: x,
        latency: { mean, p50: mean, p90: mean * 1.2, p99: mean * 1.5, max: mean * 2 },
        errorRate: 0,
        concurrencyMean: step.level,
        generatorLimited: false,
      };
      return m;
    };
    const result = await searchCapacity(runner, { model: 'closed', slo: 'p(99)<1s', startLevel: 2, increment: 6, maxLevel: 200, stepDurationMs: 1000, maxDurationMs: 3_600_000, plateauRatio: 0.1 });
    assert.ok(result.usl && result.usl.converged);
    assert.equal(result.knee?.source, 'usl');
    const trueNMax = Math.floor(Math.sqrt((1 - truth.sigma) / truth.kappa));
    assert.ok(Math.abs(result.knee.concurrency - trueNMax) <= 1, `knee ${result.knee.concurrency} vs ${trueNMax}`);
  });

  it('falls back to the measured knee when the USL peak overshoots every measurement', async () => {
    // A hard 200/s limit: in flight grows steeply past it while throughput stays flat.
    const runner: StepRunner = async (step) => {
      const x = Math.min(step.level, 200);
      const concurrency = step.level < 200 ? step.level * 0.051 : 10.2 + (step.level - 200) * 1.6;
      const mean = (concurrency / x) * 1000;
      return { level: step.level, throughput: x, latency: { mean, p50: mean, p90: mean * 1.1, p99: mean * 1.3, max: mean * 1.5 }, errorRate: 0, concurrencyMean: concurrency, generatorLimited: false };
    };
    const result = await searchCapacity(runner, openOptions({ slo: 'p(99)<150', maxLevel: 400, usl: { bootstrapIterations: 0 } }));
    assert.ok(result.usl?.converged && result.usl.xMax > 220, `USL X_max ${result.usl?.xMax}`);
    assert.equal(result.knee?.source, 'measured');
    assert.equal(result.knee?.throughput, 200);
    const flag = result.flags.find((f) => f.kind === 'usl-knee-implausible');
    assert.match(flag?.message ?? '', /^the USL peak \([\d.]+\/s at N=\d+\) is more than 10 % above the highest measured throughput \(200\/s\); the knee comes from the measured curve$/);
  });

  it('rejects bad options with a clear message', async () => {
    const runner = queueSimRunner({ servers: 1, serviceMs: 1 });
    const cases: Array<[Partial<SearchOptions>, string, string]> = [
      [{ startLevel: 0 }, 'REDLINE_ERR_INVALID_ARGUMENT', 'startLevel must be a finite number > 0, got 0'],
      [{ maxLevel: 10 }, 'REDLINE_ERR_INVALID_ARGUMENT', 'maxLevel (10) must be at least startLevel (50)'],
      [{ growthFactor: 1 }, 'REDLINE_ERR_INVALID_ARGUMENT', 'growthFactor must be a number > 1, got 1'],
      [{ increment: 5 }, 'REDLINE_ERR_INVALID_ARGUMENT', 'give either growthFactor or increment, not both'],
      [{ errorBudget: 2 }, 'REDLINE_ERR_INVALID_ARGUMENT', 'errorBudget must be between 0 and 1, got 2'],
      [{ maxDurationMs: -1 }, 'REDLINE_ERR_INVALID_ARGUMENT', 'maxDurationMs must be a finite number > 0, got -1'],
      [{ slo: 'p(99) under 100' }, 'REDLINE_ERR_INVALID_THRESHOLD', 'invalid SLO "p(99) under 100": expected p(<percentile>)<<limit>, such as p(99)<100 or p(99.9)<=250ms (limit in ms unless a unit us, ms or s is given)'],
    ];
    for (const [override, code, message] of cases) {
      await assert.rejects(searchCapacity(runner, openOptions(override)), (err: unknown) => isRedlineError(err) && err.code === code && err.message === message);
    }
    assert.equal(runner.calls.length, 0);
  });

  it('asks for a percentile the runner did not report', async () => {
    const runner = queueSimRunner({ servers: SERVERS, serviceMs: SERVICE_MS });
    await assert.rejects(
      searchCapacity(runner, openOptions({ slo: 'p(95)<100' })),
      (err: unknown) =>
        isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') &&
        err.message === 'the step runner reported no p(95) latency; it must fill percentiles["95"] for this SLO',
    );
  });

  it('the simulator agrees with itself: the true max rate meets the SLO just barely', () => {
    const truth = trueMaxRate(SERVERS, SERVICE_MS, 0.99, 100);
    assert.ok(responseQuantileMs(SERVERS, SERVICE_MS, truth * 0.999, 0.99) < 100);
    assert.ok(responseQuantileMs(SERVERS, SERVICE_MS, truth * 1.01, 0.99) > 100);
  });
});

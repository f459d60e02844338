import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunResult } from '@redline/core';
import { resolvePlan, runLoad, type ScenarioDefinition } from '@redline/load';
import { startTestServer, type TestServer } from './fixtures/test-server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv.close();
});

/** Runs a definition against the test server; `path` is a unique route so counts do not mix. */
async function run(def: ScenarioDefinition, workers = 1): Promise<RunResult> {
  return runLoad(resolvePlan({ baseUrl: srv.url, ...def }, 'schedules.test.ts'), { workers });
}

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} not within ${expected} ± ${tolerance}`);
}

describe('closed models', () => {
  it('constant-vus keeps the VU count for the duration', async () => {
    srv.behaviour.delayMs = 20;
    const r = await run({ executor: 'constant-vus', vus: 3, duration: '2s', requests: [{ url: '/cv' }] });
    srv.behaviour.delayMs = 0;
    assert.equal(r.status, 'completed');
    assert.equal(r.summary.vusMax, 3);
    assert.equal(r.timeseries[0]!.vus, 3);
    // 3 VUs × 2 s ÷ ≥ 20 ms per request: at most 300, and far more than one round.
    assert.ok(r.summary.iterations <= 300 && r.summary.iterations > 60, `iterations ${r.summary.iterations}`);
    assert.equal(srv.hits('/cv'), r.summary.requests);
    assert.equal(r.summary.requests, r.summary.iterations);
    // Requests stop at the planned end (in-flight ones drain briefly).
    assert.ok(r.summary.durationMs >= 1950 && r.summary.durationMs < 3000, `duration ${r.summary.durationMs}`);
    assert.equal(r.summary.errors, 0);
    assert.equal(r.summary.latency!.count, r.summary.requests);
  });

  it('constant-vus splits VUs across two workers and sums them back', async () => {
    srv.behaviour.delayMs = 20;
    const r = await run({ executor: 'constant-vus', vus: 3, duration: '1.5s', requests: [{ url: '/cv2' }] }, 2);
    srv.behaviour.delayMs = 0;
    assert.equal(r.summary.vusMax, 3);
    assert.equal(r.timeseries[0]!.vus, 3);
    assert.equal(srv.hits('/cv2'), r.summary.requests);
  });

  it('ramping-vus follows the stages', async () => {
    // 50 ms per request: the VU count, not the CPU, bounds the request rate (~20/s per VU).
    srv.behaviour.delayMs = 50;
    const r = await run({
      executor: 'ramping-vus',
      startVUs: 0,
      stages: [
        { duration: '1s', target: 2 },
        { duration: '1.5s', target: 2 },
        { duration: '100ms', target: 5 },
        { duration: '1.4s', target: 5 },
      ],
      requests: [{ url: '/rv' }],
    });
    srv.behaviour.delayMs = 0;
    const vus = r.timeseries.map((p) => p.vus);
    assert.ok(vus.length >= 4, `series ${JSON.stringify(vus)}`);
    assert.ok(vus[0]! >= 1 && vus[0]! <= 2, `t=1 ${vus[0]}`);
    assert.equal(vus[1], 2, `t=2 ${JSON.stringify(vus)}`);
    assert.equal(vus[2], 5, `t=3 ${JSON.stringify(vus)}`);
    assert.equal(r.summary.vusMax, 5);
    // More VUs, more requests per second.
    assert.ok(r.timeseries[2]!.requests > r.timeseries[1]!.requests * 1.5, JSON.stringify(r.timeseries.map((p) => p.requests)));
  });

  it('per-vu-iterations runs exactly vus × iterations', async () => {
    const r = await run({ executor: 'per-vu-iterations', vus: 3, iterations: 7, requests: [{ url: '/pvu' }] });
    assert.equal(srv.hits('/pvu'), 21);
    assert.equal(r.summary.iterations, 21);
    assert.equal(r.summary.requests, 21);
    assert.equal(r.summary.vusMax, 3);
  });

  it('per-vu-iterations splits VUs across workers exactly', async () => {
    const r = await run({ executor: 'per-vu-iterations', vus: 3, iterations: 5, requests: [{ url: '/pvu2' }] }, 2);
    assert.equal(srv.hits('/pvu2'), 15);
    assert.equal(r.summary.iterations, 15);
    assert.equal(r.summary.vusMax, 3);
    assert.equal(r.environment.workers, 2);
  });

  it('maxDuration cuts iteration-count models short', async () => {
    const shared = await run({ executor: 'shared-iterations', vus: 1, iterations: 1000, maxDuration: '600ms', requests: [{ url: '/sleep?ms=50&cut=shared' }] });
    const perVu = await run({ executor: 'per-vu-iterations', vus: 2, iterations: 1000, maxDuration: '600ms', requests: [{ url: '/sleep?ms=50&cut=pervu' }] });
    for (const r of [shared, perVu]) {
      assert.equal(r.status, 'completed');
      assert.ok(r.summary.iterations >= 3 && r.summary.iterations <= 30, `iterations ${r.summary.iterations}`);
      assert.ok(r.summary.durationMs < 2500, `duration ${r.summary.durationMs}`);
    }
  });

  it('shared-iterations runs exactly N in total, on one thread and on two workers', async () => {
    const one = await run({ executor: 'shared-iterations', vus: 4, iterations: 50, requests: [{ url: '/si1' }] }, 0);
    assert.equal(srv.hits('/si1'), 50);
    assert.equal(one.summary.iterations, 50);
    const two = await run({ executor: 'shared-iterations', vus: 3, iterations: 41, requests: [{ url: '/si2' }] }, 2);
    assert.equal(srv.hits('/si2'), 41);
    assert.equal(two.summary.iterations, 41);
    assert.equal(two.summary.requests, 41);
  });
});

describe('open models', () => {
  it('constant-arrival-rate sends rate × duration, evenly per second', async () => {
    const before = srv.requests.length;
    const r = await run({ executor: 'constant-arrival-rate', rate: 50, duration: '3s', requests: [{ url: '/car' }] });
    near(srv.hits('/car'), 150, 1, 'requests at the server');
    near(r.summary.iterations, 150, 1, 'iterations');
    assert.equal(r.summary.iterationsDropped, 0);
    // A send that starts late moves it by its lateness, which the generator measures itself (a starved
    // worker on a busy machine ticked 200+ ms late once): counts and times may differ from the plan by
    // what that lateness moves (50/s × late), no more. On a quiet machine that is nothing.
    const lateMs = r.generator.scheduleLagMs.max;
    assert.ok(lateMs < 1000, `the generator ticked ${lateMs} ms late: a third of the run, not a schedule`);
    const moved = Math.ceil((50 * lateMs) / 1000);
    const perSecond = r.timeseries.slice(0, 3).map((p) => p.requests);
    for (const n of perSecond) near(n, 50, 5 + moved, `per-second ${JSON.stringify(perSecond)}, sends up to ${lateMs} ms late`);
    for (const p of r.timeseries.slice(0, 3)) near(p.intendedRate ?? -1, 50, 2, 'intended rate');
    for (const g of r.generator.seconds.slice(0, 3)) near(g.achievedRate, 50, 5 + moved, 'achieved rate');
    // The arrivals are spread over the 3 s, not bunched: first to last 2.98 s as scheduled.
    const seen = srv.requests.slice(before).filter((q) => q.url === '/car');
    const spanMs = seen.at(-1)!.atMs - seen[0]!.atMs;
    near(spanMs, 2980, 100 + lateMs, `span at the server (the generator's sends were at most ${lateMs.toFixed(1)} ms late)`);
  });

  it('constant-arrival-rate splits the rate across two workers exactly', async () => {
    const r = await run({ executor: 'constant-arrival-rate', rate: 40, duration: '2s', requests: [{ url: '/car2' }] }, 2);
    near(srv.hits('/car2'), 80, 1, 'requests at the server');
    near(r.summary.iterations, 80, 1, 'iterations');
  });

  it('ramping-arrival-rate sends the integral of the rate, rising each second', async () => {
    const r = await run({
      executor: 'ramping-arrival-rate',
      startRate: 0,
      stages: [
        { duration: '2s', target: 60 },
        { duration: '1s', target: 60 },
      ],
      requests: [{ url: '/rar' }],
    });
    // ∫ = ½·2 s·60/s + 1 s·60/s = 120
    near(srv.hits('/rar'), 120, 2, 'requests at the server');
    const perSecond = r.timeseries.slice(0, 3).map((p) => p.requests);
    // Expected per second: 15, 45, 60.
    near(perSecond[0]!, 15, 5, `second 1 of ${JSON.stringify(perSecond)}`);
    near(perSecond[1]!, 45, 6, `second 2 of ${JSON.stringify(perSecond)}`);
    near(perSecond[2]!, 60, 6, `second 3 of ${JSON.stringify(perSecond)}`);
    assert.ok(perSecond[0]! < perSecond[1]! && perSecond[1]! < perSecond[2]!, JSON.stringify(perSecond));
  });

  it('ramping-arrival-rate splits the integral across two workers exactly', async () => {
    const r = await run(
      {
        executor: 'ramping-arrival-rate',
        startRate: 20,
        stages: [{ duration: '2s', target: 60 }],
        requests: [{ url: '/rar2' }],
      },
      2,
    );
    // ∫ = 2 s × (20 + 60)/2 per s = 80
    near(srv.hits('/rar2'), 80, 2, 'requests at the server');
    assert.equal(r.summary.iterations, srv.hits('/rar2'));
  });

  it('counts iterations dropped when maxVUs is exhausted', async () => {
    srv.behaviour.delayMs = 200;
    const r = await run({ executor: 'constant-arrival-rate', rate: 50, duration: '2s', preAllocatedVUs: 1, maxVUs: 2, requests: [{ url: '/drop' }] });
    srv.behaviour.delayMs = 0;
    // Two VUs at ≥ 200 ms each can start at most ~10 iterations per second; the rest are dropped.
    assert.ok(r.summary.iterationsDropped >= 70, `dropped ${r.summary.iterationsDropped}`);
    near(r.summary.iterations + r.summary.iterationsDropped, 100, 1, 'started + dropped');
    assert.equal(srv.hits('/drop'), r.summary.iterations);
    assert.equal(r.summary.byScenario.default!.iterationsDropped, r.summary.iterationsDropped);
    assert.equal(
      r.timeseries.reduce((a, p) => a + p.iterationsDropped, 0),
      r.summary.iterationsDropped,
    );
    assert.equal(r.summary.vusMax, 2);
    // The generator's own view: far fewer iterations ran per second than were intended.
    for (const g of r.generator.seconds) assert.ok(g.achievedRate >= 0 && g.achievedRate <= 15, JSON.stringify(g));
    assert.ok(r.generator.seconds.some((g) => (g.intendedRate ?? 0) >= 40), JSON.stringify(r.generator.seconds));
  });
});

describe('several scenarios', () => {
  it('runs named scenarios with their own model, start offset and tags', async () => {
    const before = srv.requests.length;
    const r = await run({
      tags: { suite: 'schedules' },
      scenarios: {
        browse: { executor: 'constant-arrival-rate', rate: 20, duration: '2s', tags: { kind: 'read' }, requests: [{ url: '/sc-a' }] },
        buy: { executor: 'per-vu-iterations', vus: 2, iterations: 3, startTime: '1s', tags: { kind: 'write' }, requests: [{ url: '/sc-b', method: 'POST', body: { item: 1 } }] },
      },
    });
    near(srv.hits('/sc-a'), 40, 1, 'browse requests');
    assert.equal(srv.hits('/sc-b'), 6);
    const seen = srv.requests.slice(before);
    const firstA = seen.find((q) => q.url === '/sc-a')!.atMs;
    const firstB = seen.find((q) => q.url === '/sc-b')!.atMs;
    assert.ok(firstB - firstA >= 950, `buy started ${firstB - firstA} ms after browse`);
    assert.equal(seen.find((q) => q.url === '/sc-b')!.body, '{"item":1}');
    near(r.summary.byScenario.browse!.iterations, 40, 1, 'browse iterations');
    assert.equal(r.summary.byScenario.buy!.iterations, 6);
    assert.equal(r.summary.byScenario.buy!.requests, 6);
    const [browse, buy] = r.config.scenarios;
    assert.equal(browse!.startMs, 0);
    assert.equal(buy!.startMs, 1000);
    assert.deepEqual(browse!.tags, { kind: 'read' });
    assert.deepEqual(buy!.tags, { kind: 'write' });
    assert.deepEqual(r.config.tags, { suite: 'schedules' });
    assert.equal(r.summary.byName['POST /sc-b']!.requests, 6);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunResult } from '@redline/core';
import { resolvePlan, runLoad, type HttpResponse, type IterationContext, type ScenarioDefinition } from '@redline/load';
import { closedPort, startTestServer, type TestServer } from './fixtures/test-server.ts';

let srv: TestServer;
let refusedUrl: string;
before(async () => {
  srv = await startTestServer();
  refusedUrl = `http://127.0.0.1:${await closedPort()}/nobody-home`;
});
after(async () => {
  await srv.close();
});

function run(def: ScenarioDefinition, workers = 1): Promise<RunResult> {
  return runLoad(resolvePlan(def, 'network-errors.test.ts'), { workers });
}

describe('errors are counted by kind and never crash the run', () => {
  it('connection refused', async () => {
    const r = await run({ executor: 'constant-arrival-rate', rate: 20, duration: '1s', requests: [{ url: refusedUrl }] });
    assert.equal(r.status, 'completed');
    assert.equal(r.summary.requests, 20);
    assert.equal(r.summary.errors, 20);
    assert.deepEqual(r.summary.errorsByKind, { connect_refused: 20 });
    assert.equal(r.summary.byStatusClass.error!.requests, 20);
    assert.deepEqual(r.timeseries[0]!.errorsByKind, { connect_refused: 20 });
    // No response in the second: it has no latency (a chart gap), not 0 ms.
    assert.equal(r.timeseries[0]!.latency, null);
    assert.equal(r.timeseries[0]!.serviceTime, null);
  });

  it('timeouts, with the configured timeout', async () => {
    const t0 = performance.now();
    const r = await run({ timeout: '300ms', executor: 'per-vu-iterations', vus: 2, iterations: 2, requests: [{ url: `${srv.url}/hang` }] });
    assert.ok(performance.now() - t0 < 5000);
    assert.equal(r.config.timeoutMs, 300);
    assert.deepEqual(r.summary.errorsByKind, { timeout: 4 });
    // A timed-out request took at least the timeout; dropping it would flatter the tail.
    assert.equal(r.summary.serviceTime!.count, 4);
    assert.ok(r.summary.serviceTime!.min >= 299, `min ${r.summary.serviceTime!.min}`);
    assert.ok(r.summary.serviceTime!.max < 1000, `max ${r.summary.serviceTime!.max}`);
  });

  it('the default timeout is 30 s', () => {
    assert.equal(resolvePlan({ vus: 1, duration: '1s', requests: [{ url: refusedUrl }] }, 'x').config.timeoutMs, 30_000);
  });

  it('connection resets', async () => {
    const r = await run({ executor: 'per-vu-iterations', vus: 2, iterations: 3, requests: [{ url: `${srv.url}/reset` }] });
    assert.equal(r.status, 'completed');
    assert.deepEqual(r.summary.errorsByKind, { reset: 6 });
    assert.equal(srv.hits('/reset'), 6);
  });

  it('HTTP 4xx and 5xx', async () => {
    const r = await run(
      {
        baseUrl: srv.url,
        executor: 'per-vu-iterations',
        vus: 1,
        iterations: 9,
        requests: [{ url: '/status/404' }, { url: '/status/500' }, { url: '/status/200' }],
      },
      2,
    );
    // Round-robin per VU; with workers: 2 and one VU the single VU does all nine.
    assert.equal(r.summary.requests, 9);
    assert.deepEqual(r.summary.errorsByKind, { http_4xx: 3, http_5xx: 3 });
    assert.equal(r.summary.errors, 6);
    assert.equal(r.summary.byStatusClass['4xx']!.requests, 3);
    assert.equal(r.summary.byStatusClass['5xx']!.requests, 3);
    assert.equal(r.summary.byStatusClass['2xx']!.requests, 3);
    assert.equal(r.summary.byName['GET /status/500']!.errors, 3);
    // Answered requests, errors or not, have latencies.
    assert.equal(r.summary.latency!.count, 9);
  });

  it('DNS failure', async () => {
    // `.invalid` never resolves (RFC 2606); the resolver answers NXDOMAIN locally. Should it hang
    // instead, the request times out: either way the run ends and counts the error.
    const t0 = performance.now();
    const r = await run({ timeout: '3s', executor: 'per-vu-iterations', vus: 1, iterations: 2, requests: [{ url: 'http://no-such-host.invalid/' }] });
    assert.ok(performance.now() - t0 < 10_000);
    assert.equal(r.summary.errors, 2);
    const kinds = Object.keys(r.summary.errorsByKind);
    assert.ok(kinds.length === 1 && (kinds[0] === 'dns' || kinds[0] === 'timeout'), JSON.stringify(r.summary.errorsByKind));
  });

  it('a mix of every kind in one run, on two workers', async () => {
    const r = await run(
      {
        timeout: '300ms',
        executor: 'constant-arrival-rate',
        rate: 40,
        duration: '1s',
        requests: [{ url: refusedUrl }, { url: `${srv.url}/hang` }, { url: `${srv.url}/reset` }, { url: `${srv.url}/status/503` }, { url: `${srv.url}/ok` }],
      },
      2,
    );
    assert.equal(r.status, 'completed');
    assert.equal(r.summary.requests, 40);
    assert.deepEqual(r.summary.errorsByKind, { connect_refused: 8, timeout: 8, reset: 8, http_5xx: 8 });
    assert.equal(r.summary.errors, 32);
    assert.equal(r.summary.byStatusClass['2xx']!.requests, 8);
  });

  it('scripted requests resolve with status 0 and the error kind instead of throwing', async () => {
    const got: HttpResponse[] = [];
    const r = await runLoad(
      resolvePlan(
        {
          timeout: '300ms',
          executor: 'per-vu-iterations',
          vus: 1,
          iterations: 1,
          exec: async (ctx: IterationContext) => {
            got.push(await ctx.http.get(refusedUrl));
            got.push(await ctx.http.get(`${srv.url}/hang`));
            got.push(await ctx.http.get(`${srv.url}/reset`));
            got.push(await ctx.http.get(`${srv.url}/ok`));
          },
        },
        'network-errors.test.ts',
      ),
      { workers: 0 },
    );
    assert.deepEqual(
      got.map((g) => [g.status, g.ok, g.error]),
      [
        [0, false, 'connect_refused'],
        [0, false, 'timeout'],
        [0, false, 'reset'],
        [200, true, null],
      ],
    );
    assert.equal(r.summary.iterationErrors, 0);
    assert.deepEqual(r.summary.errorsByKind, { connect_refused: 1, timeout: 1, reset: 1 });
  });
});

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PROFILE_NAMES, expandProfile, quickPlan, runLoad } from '@redline/load';
import { startTestServer, type TestServer } from './fixtures/test-server.ts';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');
let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv.close();
});

describe('quick mode', () => {
  it('--rate runs an open model with method, headers and a body file', async () => {
    const plan = await quickPlan({
      url: `${srv.url}/echo?q=1`,
      rate: '30/s',
      duration: '1s',
      method: 'put',
      headers: { 'x-run': 'quick', authorization: 'Bearer t' },
      body: `@${join(FIXTURES, 'body.json')}`,
      timeout: '2s',
    });
    const [s] = plan.config.scenarios;
    assert.equal(s!.executor, 'constant-arrival-rate');
    assert.equal((s!.options as { rate: number }).rate, 30);
    assert.equal(plan.config.timeoutMs, 2000);
    assert.equal(plan.config.name, `127.0.0.1:${srv.port}`);
    const before = srv.requests.length;
    const r = await runLoad(plan, { workers: 1 });
    assert.equal(r.summary.requests, 30);
    const seen = srv.requests.slice(before);
    assert.equal(seen.length, 30);
    for (const q of seen) {
      assert.equal(q.method, 'PUT');
      assert.equal(q.url, '/echo?q=1');
      assert.equal(q.headers['x-run'], 'quick');
      assert.equal(q.headers.authorization, 'Bearer t');
      assert.equal(q.headers['content-type'], 'application/json');
      assert.equal(q.body, '{"order":42,"items":["a","b"]}\n');
    }
  });

  it('--vus runs a closed model; a body defaults the method to POST', async () => {
    const plan = await quickPlan({ url: `${srv.url}/echo`, vus: 2, duration: '1s', body: 'hello' });
    assert.equal(plan.config.scenarios[0]!.executor, 'constant-vus');
    const r = await runLoad(plan, { workers: 1 });
    assert.ok(r.summary.requests > 10, `requests ${r.summary.requests}`);
    assert.equal(r.summary.vusMax, 2);
    assert.ok(r.summary.byName['POST /echo'], JSON.stringify(Object.keys(r.summary.byName)));
    assert.equal(srv.requests.at(-1)!.body, 'hello');
  });

  it('defaults to 10 VUs for 10 s', async () => {
    const plan = await quickPlan({ url: `${srv.url}/ok` });
    assert.deepEqual(plan.config.scenarios[0]!.options, { vus: 10, durationMs: 10_000 });
  });

  it('--profile expands to stages from the base rate and the duration', async () => {
    const plan = await quickPlan({ url: `${srv.url}/ok`, rate: 100, duration: '10s', profile: 'load' });
    const [s] = plan.config.scenarios;
    assert.equal(s!.executor, 'ramping-arrival-rate');
    assert.deepEqual((s!.options as { stages: unknown }).stages, [
      { durationMs: 1000, target: 100 },
      { durationMs: 8000, target: 100 },
      { durationMs: 1000, target: 0 },
    ]);
    const closed = await quickPlan({ url: `${srv.url}/ok`, vus: 10, duration: '20s', profile: 'spike' });
    assert.equal(closed.config.scenarios[0]!.executor, 'ramping-vus');
  });

  it('every profile covers the whole duration', () => {
    for (const name of PROFILE_NAMES) {
      const { stages } = expandProfile(name, 50, 60_000, true);
      assert.equal(stages.reduce((a, s) => a + s.durationMs, 0), 60_000, name);
      assert.ok(stages.every((s) => Number.isInteger(s.target) && s.target >= 0), name);
    }
    assert.equal(Math.max(...expandProfile('breakpoint', 50, 60_000, false).stages.map((s) => s.target)), 500);
    assert.equal(Math.max(...expandProfile('spike', 50, 60_000, false).stages.map((s) => s.target)), 200);
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readRunResult } from '@redline/core';
import { resolvePlan, startLoad, writeRunDir, type IterationContext } from '@redline/load';
import { startTestServer, type TestServer } from './fixtures/test-server.ts';

let srv: TestServer;
let dir: string;
before(async () => {
  srv = await startTestServer();
  dir = await mkdtemp(join(tmpdir(), 'redline-interrupt-'));
});
after(async () => {
  await srv.close();
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('graceful interrupt', () => {
  it('stop() mid-run yields an interrupted partial result, written atomically', async () => {
    const plan = resolvePlan({ name: 'interrupt me', executor: 'constant-arrival-rate', rate: 50, duration: '20s', requests: [{ url: `${srv.url}/ok` }] }, 'interrupt.test.ts');
    const run = startLoad(plan, { workers: 1 });
    await run.started;
    await sleep(1500);
    run.stop();
    const r = await run.result;
    assert.equal(r.status, 'interrupted');
    assert.ok(r.summary.durationMs >= 1400 && r.summary.durationMs < 5000, `duration ${r.summary.durationMs}`);
    // About 1.5 s of a 50/s schedule: partial, but real data.
    assert.ok(r.summary.requests >= 50 && r.summary.requests <= 100, `requests ${r.summary.requests}`);
    assert.equal(r.summary.errors, 0);
    assert.ok(r.timeseries.length >= 1);
    assert.equal(r.timeseries.reduce((a, p) => a + p.requests, 0), r.summary.requests);
    // The result is complete enough to re-report: config, environment and histograms are there.
    assert.equal(r.config.scenarios[0]!.executor, 'constant-arrival-rate');
    assert.ok(r.histograms.latency.length > 0);

    const out = await writeRunDir(r, join(dir, 'run1'));
    assert.equal(out, join(dir, 'run1'));
    assert.deepEqual(await readdir(out), ['result.json'], 'no temporary file left behind');
    const back = await readRunResult(out);
    assert.deepEqual(back, JSON.parse(JSON.stringify(r)));
    assert.equal(back.status, 'interrupted');
  });

  it('writes under .redline/runs/<timestamp>-<name> by default', async () => {
    const plan = resolvePlan({ name: 'Default Dir', executor: 'per-vu-iterations', vus: 1, iterations: 2, requests: [{ url: `${srv.url}/ok` }] }, 'interrupt.test.ts');
    const r = await startLoad(plan, { workers: 0 }).result;
    const out = await writeRunDir(r, undefined, dir);
    assert.match(out, /\.redline\/runs\/\d{8}-\d{6}-default-dir$/);
    assert.equal((await readRunResult(out)).summary.requests, 2);
  });

  it('lets in-flight requests finish and starts no new iterations', async () => {
    const before = srv.hits('/sleep');
    const plan = resolvePlan({ executor: 'constant-vus', vus: 3, duration: '20s', requests: [{ url: `${srv.url}/sleep?ms=400` }] }, 'interrupt.test.ts');
    const run = startLoad(plan, { workers: 1 });
    await run.started;
    await sleep(1000);
    run.stop();
    const stoppedHits = srv.hits('/sleep') - before;
    const r = await run.result;
    assert.equal(r.status, 'interrupted');
    // Every request that was sent got its answer: none was cut off.
    assert.equal(r.summary.errors, 0);
    const sent = srv.hits('/sleep') - before;
    assert.equal(r.summary.requests, sent);
    // stop() reaches the worker thread by message: at most one request per VU may start in between.
    assert.ok(sent <= stoppedHits + 3, `sent ${sent} after ${stoppedHits} at stop()`);
    assert.ok(r.summary.requests >= 6 && r.summary.requests <= 12, `requests ${r.summary.requests}`);
  });

  it('an AbortSignal stops the run like stop()', async () => {
    const ac = new AbortController();
    const plan = resolvePlan({ executor: 'constant-arrival-rate', rate: 20, duration: '20s', requests: [{ url: `${srv.url}/ok` }] }, 'interrupt.test.ts');
    const run = startLoad(plan, { workers: 0, signal: ac.signal });
    await run.started;
    await sleep(700);
    ac.abort();
    const r = await run.result;
    assert.equal(r.status, 'interrupted');
    assert.ok(r.summary.requests > 5 && r.summary.requests < 40, `requests ${r.summary.requests}`);
  });
});

describe('stop before the start', () => {
  it('stop() right after startLoad() ends with no requests, status interrupted', async () => {
    const before = srv.hits('/early');
    const run = startLoad(resolvePlan({ executor: 'constant-vus', vus: 2, duration: '10s', requests: [{ url: `${srv.url}/early` }] }, 'interrupt.test.ts'), { workers: 1 });
    run.stop();
    const r = await run.result;
    assert.equal(r.status, 'interrupted');
    assert.equal(r.summary.requests, 0);
    assert.equal(srv.hits('/early') - before, 0);
    assert.ok(r.summary.durationMs < 3000, `duration ${r.summary.durationMs}`);
  });

  it('abort() while scripted VUs sleep returns at once', async () => {
    const run = startLoad(
      resolvePlan(
        {
          executor: 'constant-vus',
          vus: 2,
          duration: '20s',
          exec: async (ctx: IterationContext) => {
            await ctx.http.get(`${srv.url}/ok`);
            await ctx.sleep('10s');
          },
        },
        'interrupt.test.ts',
      ),
      { workers: 0 },
    );
    await run.started;
    await sleep(500);
    const t0 = performance.now();
    run.abort();
    const r = await run.result;
    assert.ok(performance.now() - t0 < 3000, `abort took ${performance.now() - t0} ms`);
    assert.equal(r.status, 'interrupted');
    assert.equal(r.summary.requests, 2);
  });
});

describe('hard stop', () => {
  it('abort() stops at once and still yields a result', async () => {
    const plan = resolvePlan({ executor: 'constant-vus', vus: 2, duration: '20s', requests: [{ url: `${srv.url}/hang` }] }, 'interrupt.test.ts');
    const run = startLoad(plan, { workers: 1 });
    await run.started;
    await sleep(800);
    const t0 = performance.now();
    run.abort();
    const r = await run.result;
    const tookMs = performance.now() - t0;
    assert.ok(tookMs < 3000, `abort took ${tookMs} ms`);
    assert.equal(r.status, 'interrupted');
    assert.ok(r.summary.durationMs < 4000, `duration ${r.summary.durationMs}`);
    // Requests that never got an answer are counted as interrupted, never as answered: no latency.
    assert.equal(r.summary.latency, undefined);
    assert.equal(r.summary.requests, 2);
    assert.deepEqual(r.summary.errorsByKind, { interrupted: 2 });
    const out = await writeRunDir(r, join(dir, 'aborted'));
    assert.equal((await readRunResult(out)).status, 'interrupted');
  });

  it('a second stop, abort() after stop(), cuts the grace period short', async () => {
    const plan = resolvePlan({ executor: 'constant-vus', vus: 2, duration: '20s', gracefulStop: '10s', requests: [{ url: `${srv.url}/hang` }] }, 'interrupt.test.ts');
    const run = startLoad(plan, { workers: 1 });
    await run.started;
    await sleep(500);
    run.stop();
    await sleep(500);
    const t0 = performance.now();
    run.abort();
    const r = await run.result;
    assert.ok(performance.now() - t0 < 3000, 'abort did not wait for the 10 s grace period');
    assert.equal(r.status, 'interrupted');
  });
});

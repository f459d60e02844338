import assert from 'node:assert/strict';
import { join } from 'node:path';
import { beforeEach, describe, it } from 'node:test';
import { ErrorCodes, exitCodeFor } from '@redline/core';
import { planFromFile, resolvePlan, runLoad, startLoad, type IterationContext, type ScenarioDefinition } from '@redline/load';
import { FIXTURES, useTestServer } from './fixtures/test-server.ts';

const srv = useTestServer();
beforeEach(() => {
  srv.requests.length = 0;
});

function plan(def: Partial<ScenarioDefinition>) {
  return resolvePlan({ baseUrl: srv.url, executor: 'per-vu-iterations', vus: 2, iterations: 2, exec: async (ctx: IterationContext) => void (await ctx.http.get('/ok')), ...def }, 'lifecycle.test.ts');
}

function echoed(): Array<{ query: string; body: Record<string, unknown> }> {
  return srv.requests.filter((q) => q.url.startsWith('/echo')).map((q) => ({ query: q.url.slice(5), body: q.body ? (JSON.parse(q.body) as Record<string, unknown>) : {} }));
}

describe('setup() and teardown()', () => {
  it('hands setup data to every VU in every worker thread and to teardown, and does not count their requests', async () => {
    const r = await runLoad(await planFromFile(join(FIXTURES, 'lifecycle-scenario.ts')), { workers: 2 });
    const seen = echoed();
    assert.equal(seen[0]!.query, '?from=setup');
    assert.equal(seen.at(-1)!.query, '?from=teardown');
    assert.deepEqual(seen.at(-1)!.body, { token: 'tok-setup' });
    const vuPosts = seen.slice(1, -1);
    assert.equal(vuPosts.length, 8);
    // VU ids interleave across workers (worker w has ids w+1, w+1+2, …): both workers took part.
    assert.deepEqual([...new Set(vuPosts.map((p) => p.body.vu))].sort(), [1, 2, 3, 4]);
    for (const p of vuPosts) assert.deepEqual({ ...p.body, vu: 0 }, { vu: 0, token: 'tok-setup', when: '1970-01-01T00:00:00.000Z', tag: 'v' });
    assert.equal(r.summary.requests, 8);
    assert.equal(r.warnings, undefined);
  });

  it('gives each VU its own copy of the data', async () => {
    const lengths: Array<[number, number]> = [];
    await runLoad(
      plan({
        setup: () => ({ list: [1, 2, 3] }),
        exec: async (ctx) => {
          const list = (ctx.data as { list: number[] }).list;
          lengths.push([ctx.vu, list.length]);
          list.push(ctx.iteration);
          await ctx.http.get('/ok');
        },
      }),
      { workers: 0 },
    );
    assert.deepEqual(lengths.sort(), [
      [1, 3],
      [1, 4],
      [2, 3],
      [2, 4],
    ]);
  });

  it('a setup that throws ends the run before any load, with REDLINE_ERR_SETUP_FAILED (exit 1), and no teardown', async () => {
    let tornDown = false;
    const run = startLoad(plan({ setup: () => Promise.reject(new Error('login refused')), teardown: () => void (tornDown = true) }), { workers: 0 });
    await assert.rejects(run.result, (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.SETUP_FAILED);
      assert.equal(err.message, 'setup() failed: login refused; no load was sent');
      assert.equal(exitCodeFor(err), 1);
      return true;
    });
    await assert.rejects(run.started, { code: ErrorCodes.SETUP_FAILED });
    assert.equal(srv.requests.length, 0);
    assert.equal(tornDown, false);
  });

  it('refuses setup data that cannot be structured-cloned, naming what failed', async () => {
    await assert.rejects(runLoad(plan({ setup: () => ({ token: 'x', refresh: () => 'y' }) }), { workers: 0 }), (err: Error & { code?: string; details?: Record<string, unknown> }) => {
      assert.equal(err.code, ErrorCodes.SETUP_FAILED);
      assert.match(err.message, /^setup\(\) returned data that cannot be handed to VUs: .*could not be cloned.*; return plain data \(objects, arrays, strings, numbers, Maps, Dates\), not functions, symbols or sockets; no load was sent$/);
      assert.equal(err.details?.reason, 'not_cloneable');
      return true;
    });
    assert.equal(srv.requests.length, 0);
  });

  it('a setup that outlives setupTimeout fails the run before any load', async () => {
    const p = plan({ setupTimeout: '200ms', setup: async (ctx) => void (await ctx.sleep('30s')) });
    await assert.rejects(runLoad(p, { workers: 0 }), { code: ErrorCodes.SETUP_FAILED, message: 'setup() did not finish within 200 ms (setupTimeout); no load was sent' });
    assert.equal(srv.requests.length, 0);
  });

  it('a teardown that throws is a warning; the results are kept', async () => {
    const r = await runLoad(plan({ teardown: () => { throw new Error('cleanup 503'); } }), { workers: 0 });
    assert.equal(r.summary.requests, 4);
    assert.deepEqual(r.warnings, ['teardown() failed: cleanup 503']);
  });

  it('teardown runs with the data after an abort', async () => {
    let got: unknown = null;
    const run = startLoad(
      plan({ executor: 'constant-vus', vus: 1, duration: '30s', iterations: undefined, setup: () => ({ id: 42 }), teardown: (data) => void (got = data), exec: async (ctx) => void (await ctx.http.get('/sleep?ms=20')) }),
      { workers: 0 },
    );
    await run.started;
    await new Promise((r) => setTimeout(r, 300));
    run.abort();
    const r = await run.result;
    assert.equal(r.status, 'interrupted');
    assert.deepEqual(got, { id: 42 });
  });

  it('rejects a setup that is not a function and a setupTimeout of 0', () => {
    assert.throws(() => plan({ setup: 'login' as never }), { code: ErrorCodes.INVALID_SCENARIO, message: 'lifecycle.test.ts: setup: expected a function (ctx) => data' });
    assert.throws(() => plan({ setupTimeout: 0 }), { code: ErrorCodes.INVALID_SCENARIO, message: 'lifecycle.test.ts: setupTimeout: expected a positive duration' });
  });
});

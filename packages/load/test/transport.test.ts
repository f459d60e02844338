import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunResult } from '@redline/core';
import { resolvePlan, runLoad, type HttpResponse, type IterationContext, type RequestSpec } from '@redline/load';
import { startTestServer, type TestServer } from './fixtures/test-server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv.close();
});

/** One VU, `n` iterations of static requests, with a short timeout so a framing bug shows as errors. */
function staticRun(requests: RequestSpec[], n: number): Promise<RunResult> {
  return runLoad(resolvePlan({ baseUrl: srv.url, timeout: '2s', executor: 'per-vu-iterations', vus: 1, iterations: n, requests }, 'transport.test.ts'), { workers: 1 });
}

describe('HTTP/1.1 framing on the fast path', () => {
  it('reuses one keep-alive connection across content-length and chunked responses', async () => {
    const before = srv.connections();
    const r = await staticRun([{ url: '/ok' }, { url: '/chunked' }, { url: '/no-content' }], 30);
    assert.equal(r.summary.requests, 30);
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(srv.connections() - before, 1);
    assert.equal(r.summary.byStatusClass['2xx']!.requests, 30);
  });

  it('reads large chunked bodies split across TCP segments', async () => {
    const before = srv.connections();
    const r = await staticRun([{ url: '/big' }, { url: '/ok' }], 10);
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(srv.connections() - before, 1);
    assert.ok(r.summary.dataReceivedBytes > 5_000_000, `received ${r.summary.dataReceivedBytes}`);
  });

  it('HEAD responses carry a length but no body', async () => {
    const before = srv.connections();
    const r = await staticRun([{ url: '/ok', method: 'HEAD' }], 10);
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(r.summary.requests, 10);
    assert.ok(r.summary.serviceTime!.max < 1000, `max ${r.summary.serviceTime!.max}`);
    assert.equal(srv.connections() - before, 1);
  });

  it('reconnects after Connection: close and reads close-delimited bodies', async () => {
    const before = srv.connections();
    const r = await staticRun([{ url: '/close' }, { url: '/until-close' }], 10);
    assert.equal(r.summary.requests, 10);
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(srv.connections() - before, 10);
  });
});

describe('HTTP/1.1 framing in scripts', () => {
  it('returns bodies of every framing and none for HEAD and 204', async () => {
    const got: Record<string, HttpResponse> = {};
    const r = await runLoad(
      resolvePlan(
        {
          baseUrl: srv.url,
          timeout: '2s',
          executor: 'per-vu-iterations',
          vus: 1,
          iterations: 1,
          exec: async (ctx: IterationContext) => {
            got.head = await ctx.http.request('HEAD', '/ok');
            got.noContent = await ctx.http.get('/no-content');
            got.untilClose = await ctx.http.get('/until-close');
            got.chunked = await ctx.http.get('/chunked');
            got.ok = await ctx.http.get('/ok');
            got.big = await ctx.http.get('/big');
          },
        },
        'transport.test.ts',
      ),
      { workers: 0 },
    );
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.deepEqual([got.head!.status, got.head!.text(), got.head!.headers['content-length']], [200, '', '11']);
    assert.deepEqual([got.noContent!.status, got.noContent!.text()], [204, '']);
    assert.deepEqual([got.untilClose!.status, got.untilClose!.text()], [200, 'body-until-close']);
    assert.equal(got.chunked!.text(), 'part1-part2-part3');
    assert.deepEqual(got.ok!.json(), { ok: true });
    assert.equal(got.big!.text().length, 1_000_000);
    assert.ok(/^x+$/.test(got.big!.text()));
    // A fresh connection reports its setup time; a reused one reports none.
    assert.ok(got.head!.timings.connectingMs > 0, JSON.stringify(got.head!.timings));
    assert.equal(got.noContent!.timings.connectingMs, 0);
  });
});

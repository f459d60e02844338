import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CookieJar, planFromFile, resolvePlan, runLoad, type HttpResponse, type IterationContext } from '@redline/load';
import { FIXTURES, useTestServer } from './fixtures/test-server.ts';

const srv = useTestServer();

/** Runs one scripted iteration function `iterations` times on one VU, in this thread. */
async function script(exec: (ctx: IterationContext) => Promise<void>, iterations = 1, vus = 1) {
  const plan = resolvePlan({ baseUrl: srv.url, executor: 'per-vu-iterations', vus, iterations, exec }, 'scripted.test.ts');
  return runLoad(plan, { workers: 0 });
}

function seenQuery(path: string): Array<Record<string, string>> {
  return srv.requests.filter((q) => q.url.startsWith(`${path}?`)).map((q) => Object.fromEntries(new URL(q.url, 'http://x').searchParams));
}

describe('ctx.http', () => {
  it('get/post/put/patch/delete/request with status, headers, text, json and timings', async () => {
    const got: Record<string, HttpResponse> = {};
    const r = await script(async (ctx) => {
      got.get = await ctx.http.get('/echo?a=1', { headers: { 'x-custom': 'yes' } });
      got.post = await ctx.http.post('/echo', { hello: 'world' });
      got.put = await ctx.http.put(`${srv.url}/echo`, 'plain text', { headers: { 'content-type': 'text/plain' } });
      got.patch = await ctx.http.patch('/echo', Buffer.from('bytes'));
      got.delete = await ctx.http.delete('/echo', { name: 'remove' });
      got.options = await ctx.http.request('options', '/echo');
      got.chunked = await ctx.http.get('/chunked');
      got.close = await ctx.http.get('/close');
      got.after = await ctx.http.get('/ok');
      got.notFound = await ctx.http.get('/status/404');
      got.unavailable = await ctx.http.get('/status/503');
    });
    const echo = (res: HttpResponse | undefined) => res!.json<{ method: string; headers: Record<string, string>; body: string; query: Record<string, string> }>();
    assert.equal(got.get!.status, 200);
    assert.equal(got.get!.ok, true);
    assert.equal(got.get!.error, null);
    assert.equal(got.get!.headers['x-echo'], 'yes');
    assert.equal(got.get!.headers['content-type'], 'application/json');
    assert.equal(echo(got.get).headers['x-custom'], 'yes');
    assert.deepEqual(echo(got.get).query, { a: '1' });
    assert.equal(got.get!.url, `${srv.url}/echo?a=1`);
    assert.equal(echo(got.post).method, 'POST');
    assert.equal(echo(got.post).body, '{"hello":"world"}');
    assert.equal(echo(got.post).headers['content-type'], 'application/json');
    assert.equal(echo(got.put).method, 'PUT');
    assert.equal(echo(got.put).body, 'plain text');
    assert.equal(echo(got.put).headers['content-type'], 'text/plain');
    assert.equal(echo(got.patch).method, 'PATCH');
    assert.equal(echo(got.patch).body, 'bytes');
    assert.equal(echo(got.delete).method, 'DELETE');
    assert.equal(echo(got.options).method, 'OPTIONS');
    assert.equal(got.chunked!.text(), 'part1-part2-part3');
    // The chunked body arrives over ≥ 10 ms after the first byte.
    assert.ok(got.chunked!.timings.receivingMs >= 5, `receiving ${got.chunked!.timings.receivingMs}`);
    assert.equal(got.close!.status, 200);
    assert.equal(got.after!.status, 200, 'a request after Connection: close opens a new connection');
    assert.equal(got.notFound!.status, 404);
    assert.equal(got.notFound!.ok, false);
    assert.equal(got.unavailable!.status, 503);
    for (const res of Object.values(got)) {
      const t = res.timings;
      assert.ok(t.durationMs > 0 && t.waitingMs >= 0 && t.receivingMs >= 0 && t.connectingMs >= 0, JSON.stringify(t));
      assert.ok(t.waitingMs + t.receivingMs <= t.durationMs + 0.001, JSON.stringify(t));
    }
    assert.equal(r.summary.requests, 11);
    assert.equal(r.summary.errors, 2);
    assert.deepEqual(r.summary.errorsByKind, { http_4xx: 1, http_5xx: 1 });
    assert.equal(r.summary.byName['remove']!.requests, 1);
    assert.equal(r.summary.byName['GET /echo']!.requests, 1);
    assert.equal(r.summary.byName['OPTIONS /echo']!.requests, 1);
    assert.equal(r.summary.byStatusClass['2xx']!.requests, 9);
    assert.equal(r.summary.iterations, 1);
    assert.equal(r.summary.iterationErrors, 0);
  });

  it('counts checks by name, a throwing predicate as a failure', async () => {
    const r = await script(async (ctx) => {
      const res = await ctx.http.get('/ok');
      const all = ctx.check(res, {
        'is 200': (x) => x.status === 200,
        'has body': (x) => x.json<{ ok: boolean }>().ok,
        'is 201': (x) => x.status === 201,
        throws: () => {
          throw new Error('boom');
        },
      });
      ctx.check(all, { 'all passed': (v) => v === true });
    }, 5);
    assert.equal(r.summary.checks.passes, 10);
    assert.equal(r.summary.checks.fails, 15);
    assert.deepEqual(r.summary.checks.byName, {
      'is 200': { passes: 5, fails: 0 },
      'has body': { passes: 5, fails: 0 },
      'is 201': { passes: 0, fails: 5 },
      throws: { passes: 0, fails: 5 },
      'all passed': { passes: 0, fails: 5 },
    });
  });

  it('an iteration that throws is counted and the run goes on', async () => {
    const r = await script(async (ctx) => {
      await ctx.http.get('/ok');
      if (ctx.iteration % 2 === 1) throw new Error('script bug');
    }, 6);
    assert.equal(r.status, 'completed');
    assert.equal(r.summary.requests, 6);
    assert.equal(r.summary.iterationErrors, 3);
    assert.ok(r.warnings?.some((w) => w.includes('script bug')), JSON.stringify(r.warnings));
  });

  it('a malformed URL in a script fails that iteration with the URL error', async () => {
    const plan = resolvePlan(
      {
        executor: 'per-vu-iterations',
        vus: 1,
        iterations: 2,
        exec: async (ctx: IterationContext) => {
          await ctx.http.get('/no-base-url');
        },
      },
      'scripted.test.ts',
    );
    const r = await runLoad(plan, { workers: 0 });
    assert.equal(r.summary.iterationErrors, 2);
    assert.equal(r.summary.requests, 0);
    assert.deepEqual(r.warnings, [
      'iterations failed: invalid URL "/no-base-url": expected an absolute http:// or https:// URL such as http://127.0.0.1:8080/',
      'no request was made: all 2 iterations failed before sending one, so the run measured nothing',
    ]);
  });

  it('applies scenario-wide headers to static and scripted requests; request headers win', async () => {
    const before = srv.requests.length;
    const def = { baseUrl: srv.url, headers: { 'x-team': 'perf', 'x-over': 'scenario' }, executor: 'per-vu-iterations' as const, vus: 1, iterations: 1 };
    await runLoad(resolvePlan({ ...def, requests: [{ url: '/echo?static', headers: { 'x-over': 'request' } }] }, 'scripted.test.ts'), { workers: 1 });
    await script(async (ctx) => {
      await ctx.http.get('/echo?scripted', { headers: { 'x-over': 'request' } });
    });
    const seen = srv.requests.slice(before).filter((q) => q.url.startsWith('/echo?'));
    assert.equal(seen.length, 2);
    assert.deepEqual([seen[0]!.headers['x-team'], seen[0]!.headers['x-over']], ['perf', 'request']);
    // script() sets no scenario headers: only the request's own.
    assert.deepEqual([seen[1]!.headers['x-team'], seen[1]!.headers['x-over']], [undefined, 'request']);
    const r = await runLoad(
      resolvePlan(
        {
          ...def,
          exec: async (ctx: IterationContext) => {
            await ctx.http.get('/echo?scripted2');
          },
        },
        'scripted.test.ts',
      ),
      { workers: 0 },
    );
    assert.equal(r.summary.requests, 1);
    const last = srv.requests.at(-1)!;
    assert.equal(last.url, '/echo?scripted2');
    assert.deepEqual([last.headers['x-team'], last.headers['x-over'], last.headers['user-agent']], ['perf', 'scenario', 'redline/0.1']);
  });

  it('ctx.vars persists per VU across iterations', async () => {
    const counts: Array<[number, number]> = [];
    await script(
      async (ctx) => {
        ctx.vars.n = ((ctx.vars.n as number | undefined) ?? 0) + 1;
        if (ctx.iteration === 2) counts.push([ctx.vu, ctx.vars.n as number]);
      },
      3,
      2,
    );
    assert.deepEqual(counts.sort(), [
      [1, 3],
      [2, 3],
    ]);
  });

  it('keeps one cookie jar per VU', async () => {
    const seen: Array<{ vu: number; cookie: string | null; jar: Record<string, string> }> = [];
    await script(
      async (ctx) => {
        if (ctx.iteration === 0) await ctx.http.get(`/set-cookie?sid=vu${ctx.vu}&theme=dark`);
        else {
          const res = await ctx.http.get('/cookies');
          seen.push({ vu: ctx.vu, cookie: res.json<{ cookie: string | null }>().cookie, jar: ctx.http.cookies.get(new URL(`${srv.url}/`)) });
        }
      },
      2,
      3,
    );
    assert.equal(seen.length, 3);
    assert.deepEqual(seen.map((s) => s.vu).sort(), [1, 2, 3]);
    for (const s of seen) {
      assert.equal(s.cookie, `sid=vu${s.vu}; theme=dark`);
      assert.deepEqual(s.jar, { sid: `vu${s.vu}`, theme: 'dark' });
    }
  });

  it('cookie jar honours path, domain, Max-Age deletion and its size bound', () => {
    const jar = new CookieJar(2);
    const url = new URL('http://api.example.test/app/x');
    // c sets Path=/: without it the default path is the request's directory (/app, RFC 6265 §5.1.4).
    jar.store(url, ['a=1; Path=/app', 'b=2; Path=/other', 'c=3; Domain=.example.test; Path=/']);
    // Bound of 2: the oldest ("a") went when "c" came.
    assert.equal(jar.header(url), 'c=3');
    assert.equal(jar.header(new URL('http://api.example.test/other/y')), 'b=2; c=3');
    assert.equal(jar.header(new URL('http://www.example.test/')), 'c=3');
    assert.equal(jar.header(new URL('http://elsewhere.test/')), null);
    jar.store(url, ['c=gone; Domain=example.test; Path=/; Max-Age=0']);
    assert.equal(jar.header(new URL('http://www.example.test/')), null);
  });
});

describe('ctx.vu, ctx.iteration and scenario files', () => {
  it('runs a .ts scenario directly in two workers with global VU ids and per-VU iterations', async () => {
    const plan = await planFromFile(join(FIXTURES, 'vu-scenario.ts'));
    const r = await runLoad(plan, { workers: 2 });
    assert.equal(r.environment.workers, 2);
    assert.equal(r.name, 'vu-ids');
    const bodies = srv.requests.filter((q) => q.url === '/echo' && q.body.includes('"scenario":"vu-ids"')).map((q) => JSON.parse(q.body) as { vu: number; iteration: number });
    assert.equal(bodies.length, 12);
    const byVu = new Map<number, number[]>();
    for (const b of bodies) byVu.set(b.vu, [...(byVu.get(b.vu) ?? []), b.iteration]);
    assert.deepEqual([...byVu.keys()].sort(), [1, 2, 3]);
    for (const its of byVu.values()) assert.deepEqual(its.sort(), [0, 1, 2, 3]);
    assert.equal(r.summary.iterations, 12);
    assert.deepEqual(r.summary.checks.byName, { 'echo ok': { passes: 12, fails: 0 }, 'echoed vu': { passes: 12, fails: 0 } });
  });

  it('runs a .mjs scenario with a scripted and a static scenario', async () => {
    const plan = await planFromFile(join(FIXTURES, 'multi-scenario.mjs'));
    const r = await runLoad(plan, { workers: 1 });
    assert.equal(r.summary.byScenario.scripted!.iterations, 10);
    assert.equal(r.summary.byScenario.static!.iterations, 5);
    assert.equal(r.summary.byName['mjs']!.requests, 10);
    assert.equal(r.summary.byName['mjs-static']!.requests, 5);
    assert.deepEqual(r.summary.checks.byName, { 'mjs ok': { passes: 10, fails: 0 } });
    assert.deepEqual(
      r.thresholds.map((t) => [t.metric, t.expression, t.ok]),
      [
        ['http.errors', 'rate<0.5', true],
        ['checks{check:mjs ok}', 'rate==1', true],
      ],
    );
  });
});

describe('data feeders', () => {
  const feedRun = async (workers: number): Promise<Array<Record<string, string>>> => {
    const before = seenQuery('/echo').length;
    const r = await runLoad(await planFromFile(join(FIXTURES, 'feed-scenario.ts')), { workers });
    assert.equal(r.summary.iterations, 30);
    assert.equal(r.summary.checks.passes, 30);
    return seenQuery('/echo').slice(before).filter((q) => q.user !== undefined);
  };

  for (const workers of [1, 2]) {
    it(`hands CSV rows out in one sequence across VUs (${workers} worker${workers > 1 ? 's' : ''}) and JSON-lines rows at random`, async () => {
      const rows = await feedRun(workers);
      assert.equal(rows.length, 30);
      // 30 iterations over 10 rows: each row exactly 3 times, whatever VU or worker took it.
      const perUser = new Map<string, number>();
      for (const q of rows) perUser.set(q.user!, (perUser.get(q.user!) ?? 0) + 1);
      assert.deepEqual([...perUser.entries()].sort((a, b) => Number(a[0]) - Number(b[0])), Array.from({ length: 10 }, (_, i) => [String(i + 1), 3]));
      assert.ok(rows.some((q) => q.user === '3' && q.name === 'cy, the third'), 'quoted CSV field');
      // Random rows come from the file, blank lines skipped, typed values kept.
      const skus = new Set(rows.map((q) => `${q.sku}:${q.qty}`));
      for (const s of skus) assert.ok(['a1:1', 'b2:2', 'c3:3', 'd4:4', 'e5:5'].includes(s), s);
      assert.ok(skus.size >= 2, `random rows: ${[...skus].join(' ')}`);
    });
  }
});

describe('iteration pacing', () => {
  it('ctx.sleep waits between iterations (ms or a duration string)', async () => {
    const t0 = performance.now();
    const r = await script(async (ctx) => {
      await ctx.http.get('/ok');
      await ctx.sleep(ctx.iteration % 2 === 0 ? 150 : '150ms');
    }, 4);
    assert.ok(performance.now() - t0 >= 600, `took ${performance.now() - t0} ms`);
    assert.equal(r.summary.iterations, 4);
  });

  it('a script that never awaits does not starve the run: it ends on time and counts every iteration', async () => {
    let calls = 0;
    const plan = resolvePlan(
      {
        executor: 'constant-vus',
        vus: 2,
        duration: '1s',
        exec: () => {
          calls++;
        },
      },
      'scripted.test.ts',
    );
    const t0 = performance.now();
    const r = await runLoad(plan, { workers: 0 });
    assert.ok(performance.now() - t0 < 5000, `took ${performance.now() - t0} ms`);
    assert.ok(calls > 100, `calls ${calls}`);
    assert.equal(r.summary.iterations, calls);
    assert.equal(r.summary.requests, 0);
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCache, createRedisBus, createRedisStore, type Cache, type CacheOptions } from '@redline/cache';
import { startRedisServer, type RedisServer } from './redis-server.ts';
import { startVarnish, type VarnishServer } from '../../../test-support/varnish.ts';

let redis: RedisServer;
let varnish: VarnishServer;
let origin: Server;
let closedPort = 0;
const caches: Array<Cache<unknown>> = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  redis = await startRedisServer();
  // The service behind Varnish tags its responses with the cache's own surrogate keys.
  const keys = createCache({ name: 'keys' });
  caches.push(keys);
  origin = createServer((req, res) => {
    const id = (req.url ?? '/').split('/').pop() ?? '';
    res.setHeader('cache-control', 'public, max-age=300');
    res.setHeader('surrogate-key', keys.surrogateKey([`post-${id}`, 'posts']));
    res.end(`post ${id}`);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  varnish = await startVarnish((origin.address() as AddressInfo).port);
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  closedPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

after(async () => {
  await Promise.allSettled(caches.map((c) => c.close()));
  await varnish?.stop();
  origin?.close();
  await redis?.stop();
  process.off('unhandledRejection', onUnhandled);
  assert.deepEqual(unhandled, []);
});

let seq = 0;
function instance(extra: Partial<CacheOptions> = {}): Cache<unknown> {
  const cache = createCache({
    name: `edge${++seq}`,
    l2: createRedisStore({ connection: { port: redis.port, host: '127.0.0.1' }, commandTimeoutMs: 500 }),
    bus: createRedisBus({ connection: { port: redis.port, host: '127.0.0.1' } }),
    edge: { endpoints: [varnish.url] },
    ttl: '1m',
    ...extra,
  });
  caches.push(cache);
  return cache;
}

/** Fetches through Varnish; `hit` from X-Varnish (two transaction ids). */
async function viaVarnish(path: string): Promise<{ body: string; hit: boolean }> {
  const r = await fetch(`${varnish.url}${path}`);
  const body = await r.text();
  return { body, hit: (r.headers.get('x-varnish') ?? '').trim().split(/\s+/).length === 2 };
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(10);
  }
}

describe('invalidateTags reaches L1 on every instance, L2 and the edge (real Varnish and redis-server)', () => {
  it('one call clears both instances, Redis and the Varnish objects tagged with the surrogate key', async () => {
    const a = instance();
    const b = instance();
    await Promise.all([a.ready(), b.ready()]);
    await a.set('post:1', { title: 'one' }, { tags: ['post-1'] });
    await a.set('post:2', { title: 'two' }, { tags: ['post-2'] });
    assert.deepEqual(await b.get('post:1'), { title: 'one' }); // now in b's L1 too
    assert.deepEqual(b.getSync('post:1'), { title: 'one' });
    await viaVarnish('/post/1');
    await viaVarnish('/post/2');
    assert.equal((await viaVarnish('/post/1')).hit, true);
    assert.equal((await viaVarnish('/post/2')).hit, true);

    const report = await a.invalidateTags('post-1');
    assert.deepEqual({ ...report, edge: report.edge.map(({ durationMs: _d, ...e }) => e) }, {
      tags: ['post-1'],
      l1Deleted: 1,
      l2: 'ok',
      bus: 'published',
      edge: [{ endpoint: `${varnish.url}/`, ok: true, status: 200 }],
      ok: true,
    });
    await waitUntil("b's L1 copy to go", () => b.getSync('post:1') === undefined);
    assert.equal(await b.get('post:1'), undefined, 'gone from Redis as well');
    assert.equal((await viaVarnish('/post/1')).hit, false, 'Varnish fetched post 1 again');
    // Only the tag named: the rest stays in every tier.
    assert.deepEqual(await b.get('post:2'), { title: 'two' });
    assert.equal((await viaVarnish('/post/2')).hit, true);
    assert.deepEqual(a.stats().edge, { requests: 1, errors: 0 });
  });

  it('a namespaced cache bans its namespaced surrogate keys', async () => {
    const keys = createCache({ name: 'ns', namespace: 'blog' });
    assert.equal(keys.surrogateKey(['post-9', 'posts']), 'blog:post-9 blog:posts');
    await keys.close();
  });

  it('reports each failing endpoint (refused, and a cache answering 400) without rejecting', async () => {
    const errors: Array<{ code: string; message: string; operation: string }> = [];
    const c = instance({
      edge: { endpoints: [varnish.url, `http://127.0.0.1:${closedPort}`], timeout: '2s' },
      onError: (err, operation) => errors.push({ code: (err as Error & { code: string }).code, message: err.message, operation }),
    });
    const report = await c.invalidateTags(['posts']);
    assert.equal(report.ok, false);
    assert.equal(report.l2, 'ok');
    assert.equal(report.edge[0]!.ok, true);
    assert.equal(report.edge[1]!.ok, false);
    assert.equal(report.edge[1]!.error, 'ECONNREFUSED');
    assert.deepEqual(c.stats().edge, { requests: 2, errors: 1 });
    // Only the edge's failure (a slow Redis on a busy machine may add its own errors to onError).
    assert.deepEqual(errors.filter((e) => e.operation.startsWith('edge')), [{ code: 'REDLINE_ERR_EDGE_INVALIDATION_FAILED', message: `edge invalidation at http://127.0.0.1:${closedPort}/ failed: ECONNREFUSED`, operation: 'edge.invalidate' }]);

    // The VCL refuses a BAN without its Surrogate-Key header.
    const wrongHeader = instance({ edge: { endpoints: [varnish.url], header: 'X-Tags' } });
    const r2 = await wrongHeader.invalidateTags('posts');
    assert.equal(r2.ok, false);
    assert.equal(r2.edge[0]!.status, 400);
    assert.equal(r2.edge[0]!.error, 'BAN answered 400 BAN needs a Surrogate-Key header');
  });

  it('refuses bad edge options and tags the edge cannot match, with codes and messages', async () => {
    const bad = (edge: unknown, message: string): void =>
      assert.throws(() => createCache({ edge: edge as CacheOptions['edge'] }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'REDLINE_ERR_INVALID_ARGUMENT');
        assert.equal(err.message, message);
        return true;
      });
    bad({ endpoints: [] }, 'createCache: edge.endpoints must be a non-empty array of http(s) URLs');
    bad({ endpoints: ['not a url'] }, 'createCache: edge.endpoints: "not a url" is not a URL');
    bad({ endpoints: ['ftp://x/'] }, 'createCache: edge.endpoints: "ftp://x/" must be http: or https:');
    bad({ endpoints: ['http://x/'], method: 'B A N' }, 'createCache: edge.method must be an HTTP method token, got "B A N"');
    bad({ endpoints: ['http://x/'], header: 'a:b' }, 'createCache: edge.header must be a header name, got "a:b"');
    bad({ endpoints: ['http://x/'], timeout: 0 }, 'createCache: edge.timeout must be greater than 0, got 0');
    const c = instance();
    await c.set('k', 1, { tags: ['a b'] });
    await assert.rejects(c.invalidateTags('a b'), { code: 'REDLINE_ERR_INVALID_ARGUMENT', message: 'invalidateTags: tag "a b" cannot be sent to the edge: use letters, digits and _ . : / @ - only' });
    // Nothing was deleted for the refused call.
    assert.equal(await c.get('k'), 1);
    assert.throws(() => c.surrogateKey('x|y'), { code: 'REDLINE_ERR_INVALID_ARGUMENT', message: 'surrogateKey: tag "x|y" cannot be a surrogate key: use letters, digits and _ . : / @ - only' });
  });
});

import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { resolvePlan, runLoad } from '@redline/load';
import { startVarnish, type VarnishServer } from '../../../test-support/varnish.ts';

const ITEMS = 50;
const ORIGIN_DELAY_MS = 30;
let origin: Server;
let varnish: VarnishServer;
let originRequests = 0;

before(async () => {
  // Items are cacheable for a minute, tagged with Surrogate-Key; the other paths each carry one
  // header problem. The origin answers after ORIGIN_DELAY_MS, so misses are slower than hits.
  origin = createServer((req, res) => {
    originRequests++;
    const url = req.url ?? '/';
    setTimeout(() => {
      if (url.startsWith('/item/')) {
        res.setHeader('cache-control', 'public, max-age=60');
        res.setHeader('surrogate-key', `items item-${url.slice(6)}`);
        res.setHeader('etag', `"${url.slice(6)}"`);
      } else if (url === '/private') res.setHeader('cache-control', 'private, max-age=60');
      else if (url === '/cookie') {
        res.setHeader('cache-control', 'public, max-age=60');
        res.setHeader('set-cookie', 'session=abc');
        res.setHeader('etag', '"c"');
      } else if (url === '/vary') {
        res.setHeader('cache-control', 'public, max-age=60');
        res.setHeader('vary', '*');
        res.setHeader('etag', '"v"');
      } else if (url === '/novalidator') res.setHeader('cache-control', 'public, max-age=60');
      res.end(`body of ${url}`);
    }, ORIGIN_DELAY_MS);
  });
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  varnish = await startVarnish((origin.address() as AddressInfo).port);
});
after(async () => {
  await varnish?.stop();
  origin?.closeAllConnections();
  origin?.close();
});

function ban(surrogateKey: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${varnish.url}/`, { method: 'BAN', headers: { 'surrogate-key': surrogateKey } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('cache verdicts against a real Varnish', () => {
  it('counts hits and misses, latency by verdict, origin offload, and a ban mid-run as a miss spike', async () => {
    const requests = Array.from({ length: ITEMS }, (_, i) => ({ url: `/item/${i}`, name: 'item' }));
    const plan = resolvePlan({ baseUrl: varnish.url, executor: 'constant-arrival-rate', rate: 100, duration: '6s', preAllocatedVUs: 20, maxVUs: 100, requests }, 'cache-varnish.test.ts');
    // Ban every item once the third second is over: the next request of each misses.
    const originBefore = originRequests;
    let banned: Promise<number> | null = null;
    const r = await runLoad(plan, { workers: 1, onSecond: (s) => void (s.point.t === 3 && (banned = ban('items'))) });
    assert.equal(await banned, 200);
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    const c = r.summary.cache;
    assert.ok(c, 'summary.cache is set');
    assert.equal(c.responses, r.summary.requests);
    assert.equal(c.unknown, 0, 'every Varnish response has X-Varnish');
    // Two cold passes over the items: before the first hit, and after the ban.
    assert.ok(c.miss >= 2 * ITEMS && c.miss <= 2 * ITEMS + 20, `misses ${c.miss}`);
    assert.ok(c.hit >= r.summary.requests - c.miss - 1, `hits ${c.hit} of ${r.summary.requests}`);
    assert.ok(c.hitRatio !== null && c.hitRatio > 0.7, `hit ratio ${c.hitRatio}`);
    assert.equal(c.offload, (c.hit + c.stale) / c.responses);
    // Each miss is one origin fetch; the hits never reached it.
    assert.equal(originRequests - originBefore, c.miss);
    assert.ok(c.latency.hit && c.latency.miss, Object.keys(c.latency).join());
    assert.ok(c.latency.miss.p50 >= ORIGIN_DELAY_MS, `miss p50 ${c.latency.miss.p50}`);
    assert.ok(c.latency.hit.p50 < c.latency.miss.p50, `hit p50 ${c.latency.hit.p50} vs miss p50 ${c.latency.miss.p50}`);
    assert.equal(c.perSecond.length, r.timeseries.length);
    assert.equal(c.perSecond.reduce((a, s) => a + s.miss, 0), c.miss);
    // The cold start and the ban are the two spikes; the ban's is not cold and comes after it.
    const warm = c.expirySpikes.filter((s) => !s.cold);
    assert.equal(warm.length, 1, JSON.stringify(c.expirySpikes));
    assert.ok(warm[0]!.t >= 4 && warm[0]!.t <= 5, JSON.stringify(warm));
    assert.ok(warm[0]!.misses >= ITEMS / 2, JSON.stringify(warm));
    assert.ok(c.expirySpikes.some((s) => s.cold && s.t === 1), JSON.stringify(c.expirySpikes));
    assert.equal(c.byName.item!.miss, c.miss);
    assert.equal(c.byName.item!.noValidators + c.byName.item!.uncacheable + c.byName.item!.setCookieOnCacheable, 0);
  });

  it('reports header problems per request name through the cache', async () => {
    const requests = ['/private', '/cookie', '/vary', '/novalidator'].map((url) => ({ url, name: url.slice(1) }));
    const r = await runLoad(resolvePlan({ baseUrl: varnish.url, executor: 'per-vu-iterations', vus: 1, iterations: 12, requests }, 'cache-varnish.test.ts'), { workers: 1 });
    const by = r.summary.cache!.byName;
    assert.equal(by.private!.uncacheable, 3, JSON.stringify(by.private));
    assert.equal(by.cookie!.setCookieOnCacheable, 3, JSON.stringify(by.cookie));
    assert.equal(by.vary!.varyStar, 3, JSON.stringify(by.vary));
    assert.equal(by.novalidator!.noValidators, 3, JSON.stringify(by.novalidator));
    // Varnish does not store what it must not: those go to the origin every time.
    assert.equal(by.private!.hit + by.cookie!.hit + by.vary!.hit, 0, JSON.stringify(by));
    assert.ok(by.novalidator!.hit >= 2, JSON.stringify(by.novalidator));
  });
});

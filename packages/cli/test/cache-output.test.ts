import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { resolvePlan, runLoad } from '@redline/load';
import { renderReportHtml } from '@redline/report';
import { renderSummary } from '../src/index.ts';

let server: Server;
let base = '';
let n = 0;

before(async () => {
  // A CDN-like front: every third response of /page is a miss (RFC 9211 Cache-Status), /me sets a
  // cookie on a public response.
  server = createServer((req, res) => {
    if (req.url === '/me') {
      res.setHeader('cache-control', 'public, max-age=60');
      res.setHeader('set-cookie', 'sid=1');
      res.setHeader('etag', '"me"');
      res.setHeader('x-cache', 'HIT');
    } else {
      res.setHeader('cache-control', 'public, max-age=60');
      res.setHeader('cache-status', ++n % 3 === 0 ? 'TestCDN; fwd=miss; stored' : 'TestCDN; hit; ttl=50');
    }
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe('cache verdicts in the terminal summary and the report', () => {
  it('shows hit ratio, offload, latency by verdict and header problems', async () => {
    const r = await runLoad(
      resolvePlan({ baseUrl: base, executor: 'per-vu-iterations', vus: 1, iterations: 30, requests: [{ url: '/page', name: 'page' }, { url: '/me', name: 'me' }] }, 'cache-output.test.ts'),
      { workers: 1 },
    );
    const c = r.summary.cache!;
    assert.equal(c.responses, 30);
    assert.equal(c.miss, 5);
    assert.equal(c.hit, 25);
    assert.equal(c.byName.me!.setCookieOnCacheable, 15);
    assert.equal(c.byName.page!.noValidators, 15);
    const text = renderSummary(r);
    assert.match(text, /cache \.+: hit ratio 83\.33%, origin offload 83\.33% {2}hit 25 \(83\.33%\) miss 5 stale 0 bypass 0 unknown 0/);
    assert.match(text, /cache\.latency \.+: hit [\d.]+ms\/[\d.]+ms {2}miss [\d.]+ms\/[\d.]+ms {2}service time p50\/p99/);
    assert.match(text, /! me: Set-Cookie on a cacheable response \(15 responses\)/);
    assert.match(text, /! page: cacheable without ETag or Last-Modified \(15 responses\)/);
    const html = renderReportHtml(r);
    assert.match(html, /<section id="cache">/);
    assert.match(html, /<b>hit ratio 83\.3 %<\/b>/);
    assert.match(html, /aria-label="cache hit ratio per second"/);
    assert.match(html, /<td>me<\/td>.*Set-Cookie on cacheable \(15\)/);
  });

  it('has no cache section when no response carried a cache header', async () => {
    const plain = createServer((_req, res) => res.end('plain'));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    try {
      const r = await runLoad(resolvePlan({ baseUrl: `http://127.0.0.1:${(plain.address() as AddressInfo).port}`, executor: 'per-vu-iterations', vus: 1, iterations: 3, requests: [{ url: '/' }] }, 'cache-output.test.ts'), { workers: 1 });
      assert.equal(r.summary.cache, undefined);
      assert.doesNotMatch(renderSummary(r), /cache/);
      assert.doesNotMatch(renderReportHtml(r), /id="cache"/);
    } finally {
      plain.closeAllConnections();
      plain.close();
    }
  });
});

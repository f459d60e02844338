import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createServer as createH2Server, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { Finding, RunResult } from '@redline/core';
import { diagnose } from '@redline/doctor';
import { resolvePlan, runLoad } from '@redline/load';

const servers: Array<Server | Http2Server> = [];
after(() => {
  for (const s of servers) {
    if ('closeAllConnections' in s) s.closeAllConnections();
    s.close();
  }
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const s = createServer(handler);
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

async function run(baseUrl: string, extra: Record<string, unknown> = {}): Promise<RunResult> {
  return runLoad(resolvePlan({ baseUrl, executor: 'per-vu-iterations', vus: 1, iterations: 60, requests: [{ url: '/' }], ...extra }, 'network-findings.test.ts'), { workers: 1 });
}

const find = (r: RunResult, category: string): Finding | undefined => diagnose(r).find((f) => f.category === category);

describe('network findings in the doctor (real runs)', () => {
  it('connection churn: a server that closes every connection, with connects per request and their cost', async () => {
    const r = await run(await serve((_req, res) => res.setHeader('connection', 'close').end('bye')));
    const f = find(r, 'connection-churn');
    assert.ok(f, JSON.stringify(diagnose(r).map((x) => x.category)));
    assert.match(f.title, /^Connection churn: every request opened a new connection \(TCP connect p50 [\d.]+ ms each\)$/);
    assert.equal(f.evidence.find((e) => e.metric === 'http.connections.per_request')?.value, 1);
    assert.match(f.recommendation, /keepAliveTimeout/);
    // Keep-alive: no finding.
    const kept = await run(await serve((_req, res) => res.end('kept')));
    assert.equal(find(kept, 'connection-churn'), undefined);
  });

  it('cache headers: Set-Cookie on a public response and no validators, per request name', async () => {
    const r = await run(await serve((_req, res) => res.setHeader('cache-control', 'public, max-age=60').setHeader('set-cookie', 'sid=1').end('x')));
    const f = find(r, 'cache-headers');
    assert.ok(f);
    assert.equal(f.severity, 'medium');
    assert.equal(f.title, 'Cache headers: GET /: Set-Cookie on a cacheable response (60); GET /: cacheable without ETag/Last-Modified (60)');
  });

  it('edge miss spike: every object missing at once after the cache was warm', async () => {
    let started = 0;
    const base = await serve((_req, res) => {
      started ||= Date.now();
      const t = Date.now() - started;
      // Misses from 2.2 s to 2.8 s: a TTL that ran out for everything at once.
      res.setHeader('x-cache', t > 2200 && t < 2800 ? 'MISS' : 'HIT').end('x');
    });
    const r = await runLoad(resolvePlan({ baseUrl: base, executor: 'constant-arrival-rate', rate: 100, duration: '5s', preAllocatedVUs: 10, requests: [{ url: '/' }] }, 'network-findings.test.ts'), { workers: 1 });
    const f = find(r, 'edge-cache');
    assert.ok(f, JSON.stringify(r.summary.cache?.expirySpikes));
    assert.match(f.title, /^Miss spike at the edge: \d+ misses at t=3s \(usually 0\/s\), hit ratio down to \d+%$/);
  });

  it('HTTP/2 stream limit: the server allows 2 streams, 8 VUs share one connection', async () => {
    const h2 = createH2Server({ settings: { maxConcurrentStreams: 2 } }, (_req, res) => setTimeout(() => res.end('h2'), 5));
    servers.push(h2);
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    const r = await runLoad(
      resolvePlan({ baseUrl: `http://127.0.0.1:${(h2.address() as AddressInfo).port}`, protocol: 'h2', executor: 'per-vu-iterations', vus: 8, iterations: 10, requests: [{ url: '/' }] }, 'network-findings.test.ts'),
      { workers: 1 },
    );
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    const f = find(r, 'http2-stream-limit');
    assert.ok(f, JSON.stringify(r.summary.http2));
    assert.match(f.title, /^HTTP\/2 stream limit reached: \d+ requests \([\d.]+%\) waited for a free stream on 1 connection$/);
  });
});

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseThresholdExpression, resolvePlan, runLoad, type IterationContext, type ResponseTimings } from '@redline/load';
import { makeTestCerts, type TestCerts } from './fixtures/certs.ts';

let certs: TestCerts;
let server: Server;
let base = '';

before(async () => {
  certs = makeTestCerts();
  // `/wait` answers after 40 ms; `/drip` sends its head at once and the body 30 ms later;
  // `?close` ends the connection after the response so the next request opens a new one.
  server = createServer({ cert: certs.serverCert, key: certs.serverKey }, (req, res) => {
    if (req.url?.includes('close')) res.setHeader('connection', 'close');
    if (req.url?.startsWith('/wait')) setTimeout(() => res.end('waited'), 40);
    else if (req.url?.startsWith('/drip')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first ');
      setTimeout(() => res.end('last'), 30);
    } else res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A host name, so every new connection resolves it (the dns phase).
  base = `https://localhost:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
  certs.cleanup();
});

describe('timing breakdown', () => {
  it('splits requests into dns, connect, tls, waiting and receiving, with thresholds on each', async () => {
    const r = await runLoad(
      resolvePlan(
        {
          baseUrl: base,
          tls: { ca: certs.caFile },
          executor: 'per-vu-iterations',
          vus: 1,
          iterations: 8,
          requests: [{ url: '/wait?close' }, { url: '/drip?close' }],
          thresholds: { 'http.timing.waiting': ['max>=40'], 'http.timing.tls': ['max<0'], 'http.timing.receiving': ['p(99)>=25'] },
        },
        'timings.test.ts',
      ),
      { workers: 1 },
    );
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    const t = r.summary.timings!;
    assert.deepEqual(Object.keys(t).sort(), ['connect', 'dns', 'receiving', 'tls', 'waiting']);
    for (const phase of Object.values(t)) assert.equal(phase.count, 8);
    // Every request opened a connection (Connection: close), so each did a TCP and a TLS handshake.
    assert.ok(t.connect!.p50 > 0 && t.tls!.p50 > 0, JSON.stringify({ connect: t.connect, tls: t.tls }));
    assert.ok(t.dns!.max > 0, `dns max ${t.dns!.max}`);
    assert.ok(t.waiting!.max >= 40, `waiting max ${t.waiting!.max}`);
    assert.ok(t.receiving!.p99 >= 25, `receiving p99 ${t.receiving!.p99}`);
    const byMetric = Object.fromEntries(r.thresholds.map((x) => [x.metric, x]));
    assert.equal(byMetric['http.timing.waiting']!.ok, true);
    assert.equal(byMetric['http.timing.receiving']!.ok, true);
    assert.equal(byMetric['http.timing.tls']!.ok, false);
    assert.ok(byMetric['http.timing.tls']!.actual! > 0);
  });

  it('gives scripts the phases of each response: a handshake on the first, none on a reused connection', async () => {
    const seen: ResponseTimings[] = [];
    await runLoad(
      resolvePlan(
        {
          baseUrl: base,
          tls: { ca: certs.caFile },
          executor: 'per-vu-iterations',
          vus: 1,
          iterations: 1,
          exec: async (ctx: IterationContext) => {
            seen.push((await ctx.http.get('/')).timings);
            seen.push((await ctx.http.get('/')).timings);
          },
        },
        'timings.test.ts',
      ),
      { workers: 0 },
    );
    assert.ok(seen[0]!.tlsHandshakingMs > 0 && seen[0]!.connectingMs >= seen[0]!.tlsHandshakingMs, JSON.stringify(seen[0]));
    assert.equal(seen[1]!.tlsHandshakingMs, 0);
    assert.equal(seen[1]!.connectingMs, 0);
  });

  it('rejects tag filters on timing metrics', () => {
    assert.throws(() => parseThresholdExpression('http.timing.tls{name:x}', 'p(95)<10'), {
      code: 'REDLINE_ERR_INVALID_THRESHOLD',
      message: 'threshold metric "http.timing.tls{name:x}": http.timing.tls is measured over the whole run; tag filters are not supported on it',
    });
  });
});

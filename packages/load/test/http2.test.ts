import assert from 'node:assert/strict';
import { createServer as createHttpsServer } from 'node:https';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RunResult } from '@redline/core';
import { resolvePlan, runLoad, type HttpResponse, type IterationContext, type ScenarioDefinition } from '@redline/load';
import { makeTestCerts, type TestCerts } from './fixtures/certs.ts';

/** A node:http2 server on 127.0.0.1:0 that counts sessions, streams and the peak of concurrent streams. */
interface H2Server {
  url: string;
  server: http2.Http2Server | http2.Http2SecureServer;
  sessions: number;
  streams: number;
  concurrent: number;
  peakConcurrent: number;
  /** When set, the server sends GOAWAY on a session once it has served this many streams. */
  goawayAfter: number | null;
  close(): Promise<void>;
}

const BIG = Buffer.alloc(3_000_000, 0x61);

function attach(server: http2.Http2Server | http2.Http2SecureServer, scheme: string): Promise<H2Server> {
  const s: H2Server = {
    url: '',
    server,
    sessions: 0,
    streams: 0,
    concurrent: 0,
    peakConcurrent: 0,
    goawayAfter: null,
    close: () =>
      new Promise((resolve) => {
        for (const sess of open) sess.destroy();
        server.close(() => resolve());
      }),
  };
  const open = new Set<http2.ServerHttp2Session>();
  const served = new WeakMap<http2.Http2Session, number>();
  server.on('session', (sess: http2.ServerHttp2Session) => {
    s.sessions++;
    open.add(sess);
    sess.on('close', () => open.delete(sess));
  });
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    s.streams++;
    s.concurrent++;
    s.peakConcurrent = Math.max(s.peakConcurrent, s.concurrent);
    stream.on('close', () => s.concurrent--);
    const sess = stream.session!;
    const n = (served.get(sess) ?? 0) + 1;
    served.set(sess, n);
    const path = String(headers[':path']);
    const reply = (): void => {
      if (stream.destroyed) return;
      if (path === '/big') {
        stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
        stream.end(BIG);
      } else if (path === '/upload') {
        let bytes = 0;
        stream.on('data', (c: Buffer) => (bytes += c.length));
        stream.on('end', () => {
          stream.respond({ ':status': 201 });
          stream.end(JSON.stringify({ bytes }));
        });
      } else if (path === '/echo') {
        stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-multi': ['a', 'b'] });
        stream.end(JSON.stringify({ method: headers[':method'], path, accept: headers.accept ?? null }));
      } else if (path.startsWith('/status/')) {
        stream.respond({ ':status': Number(path.slice(8)) });
        stream.end();
      } else {
        stream.respond({ ':status': 200, 'content-type': 'text/plain' });
        stream.end('hello over h2');
      }
      if (s.goawayAfter !== null && n === s.goawayAfter) sess.close();
    };
    // A little delay so streams overlap and the concurrency limit is exercised.
    if (path === '/upload') reply();
    else setTimeout(reply, 2);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      s.url = `${scheme}://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve(s);
    }),
  );
}

let certs: TestCerts;
let h2c: H2Server;
let h2tls: H2Server;
let limited: H2Server;

before(async () => {
  certs = makeTestCerts();
  h2c = await attach(http2.createServer(), 'http');
  h2tls = await attach(http2.createSecureServer({ cert: certs.serverCert, key: certs.serverKey }), 'https');
  limited = await attach(http2.createServer({ settings: { maxConcurrentStreams: 2 } }), 'http');
});
after(async () => {
  await h2c.close();
  await h2tls.close();
  await limited.close();
  certs.cleanup();
});

/** Runs on this thread (workers 0) unless told otherwise: the worker-thread path is the same engine. */
function run(def: ScenarioDefinition, workers = 0): Promise<RunResult> {
  return runLoad(resolvePlan({ timeout: '5s', protocol: 'h2', executor: 'per-vu-iterations', ...def }, 'http2.test.ts'), { workers });
}

describe('HTTP/2 fast path', () => {
  it('h2c with prior knowledge multiplexes many VUs over one connection', async () => {
    const before = { sessions: h2c.sessions, peak: h2c.peakConcurrent };
    h2c.peakConcurrent = 0;
    const r = await run({ baseUrl: h2c.url, vus: 20, iterations: 25, requests: [{ url: '/' }, { url: '/status/404' }] }, 1);
    assert.equal(r.summary.requests, 500);
    assert.equal(r.summary.byStatusClass['2xx']!.requests, 250, JSON.stringify(r.summary.byStatusClass));
    assert.equal(r.summary.byStatusClass['4xx']!.requests, 250);
    assert.equal(r.summary.errorsByKind.http_4xx, 250, JSON.stringify(r.summary.errorsByKind));
    assert.equal(h2c.sessions - before.sessions, 1, 'one connection (--connections 1)');
    assert.deepEqual(r.summary.http2, { connections: 1, goaways: 0, streamLimitWaits: 0, refusedStreams: 0 });
    assert.ok(h2c.peakConcurrent > 5, `peak concurrent streams ${h2c.peakConcurrent}`);
    assert.ok(r.summary.dataReceivedBytes > 500 * 9, `received ${r.summary.dataReceivedBytes}`);
  });

  it('h2 over TLS negotiates h2 by ALPN and spreads streams over --connections sessions', async () => {
    const before = h2tls.sessions;
    const r = await run({ baseUrl: h2tls.url, tls: { ca: certs.caFile }, connections: 3, vus: 12, iterations: 10, requests: [{ url: '/' }] });
    assert.equal(r.summary.requests, 120);
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(h2tls.sessions - before, 3);
  });

  it('keeps to the server stream limit (SETTINGS_MAX_CONCURRENT_STREAMS 2) without refused streams', async () => {
    limited.peakConcurrent = 0;
    const r = await run({ baseUrl: limited.url, vus: 10, iterations: 10, requests: [{ url: '/' }] });
    assert.equal(r.summary.requests, 100);
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(limited.peakConcurrent, 2);
    assert.ok(r.summary.http2!.streamLimitWaits > 0, JSON.stringify(r.summary.http2));
    assert.equal(r.summary.http2!.refusedStreams, 0);
  });

  it('follows flow control both ways: 3 MB responses and 300 kB request bodies', async () => {
    const body = Buffer.alloc(300_000, 0x62);
    const r = await run({ baseUrl: h2c.url, vus: 3, iterations: 4, requests: [{ url: '/big' }, { url: '/upload', method: 'POST', body }] });
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(r.summary.byStatusClass['2xx']!.requests, 12);
    assert.ok(r.summary.dataReceivedBytes > 6 * BIG.length, `received ${r.summary.dataReceivedBytes}`);
    assert.ok(r.summary.dataSentBytes > 6 * body.length, `sent ${r.summary.dataSentBytes}`);
  });

  it('survives GOAWAY mid-run: unprocessed streams are retried on a new connection', async () => {
    const before = h2c.sessions;
    h2c.goawayAfter = 40;
    try {
      const r = await run({ baseUrl: h2c.url, vus: 8, iterations: 25, requests: [{ url: '/' }] });
      assert.equal(r.summary.requests, 200);
      assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
      assert.ok(h2c.sessions - before >= 4, `sessions ${h2c.sessions - before}`);
      assert.ok(r.summary.http2!.goaways >= 3, JSON.stringify(r.summary.http2));
      assert.equal(r.summary.http2!.connections, h2c.sessions - before);
    } finally {
      h2c.goawayAfter = null;
    }
  });

  it('counts a server without h2 in ALPN as a protocol error', async () => {
    const h1 = createHttpsServer({ cert: certs.serverCert, key: certs.serverKey }, (_req, res) => res.end('h1 only'));
    await new Promise<void>((resolve) => h1.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(h1.address() as AddressInfo).port}`;
      const r = await run({ baseUrl: url, tls: { ca: certs.caFile }, vus: 2, iterations: 3, requests: [{ url: '/' }] });
      assert.equal(r.summary.requests, 6);
      assert.equal(r.summary.errorsByKind.protocol, 6, JSON.stringify(r.summary.errorsByKind));
    } finally {
      h1.close();
    }
  });
});

describe('HTTP/2 in scripts', () => {
  it('returns status, headers and body over h2, and protocol per request overrides the scenario', async () => {
    const got: Record<string, HttpResponse> = {};
    const r = await run(
      {
        baseUrl: h2tls.url,
        tls: { ca: certs.caFile },
        protocol: 'h1',
        vus: 1,
        iterations: 1,
        exec: async (ctx: IterationContext) => {
          got.echo = await ctx.http.get('/echo', { protocol: 'h2', headers: { accept: 'application/json' } });
          got.upload = await ctx.http.post('/upload', 'x'.repeat(100_000), { protocol: 'h2' });
          got.h1 = await ctx.http.get('/echo');
        },
      },
    );
    assert.equal(r.summary.requests, 3);
    assert.equal(r.summary.errors, 1, 'the HTTP/1.1 request to an h2-only server fails and is counted');
    assert.equal(got.echo!.status, 200);
    assert.deepEqual(got.echo!.json(), { method: 'GET', path: '/echo', accept: 'application/json' });
    assert.equal(got.echo!.headers['content-type'], 'application/json');
    assert.equal(got.echo!.headers['x-multi'], 'a, b');
    assert.equal(got.upload!.status, 201);
    assert.deepEqual(got.upload!.json(), { bytes: 100_000 });
    assert.notEqual(got.h1!.status, 200);
  });

  it('speaks h2c from scripts and shares the session between VUs', async () => {
    const before = h2c.sessions;
    const bodies: string[] = [];
    const r = await run({
      baseUrl: h2c.url,
      vus: 4,
      iterations: 5,
      exec: async (ctx: IterationContext) => {
        bodies.push((await ctx.http.get('/')).text());
      },
    });
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(bodies.length, 20);
    assert.ok(bodies.every((b) => b === 'hello over h2'));
    assert.equal(h2c.sessions - before, 1);
  });
});

describe('HTTP/2 connection failures', () => {
  it('counts refused connections as connect_refused without reconnecting in a loop', async () => {
    const dead = http2.createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const r = await run({ baseUrl: `http://127.0.0.1:${port}`, connections: 3, vus: 6, iterations: 3, requests: [{ url: '/' }] });
    assert.equal(r.summary.requests, 18);
    assert.equal(r.summary.errorsByKind.connect_refused, 18, JSON.stringify(r.summary.errorsByKind));
  });
});

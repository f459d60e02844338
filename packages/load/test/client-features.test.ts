import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { resolvePlan, runLoad, type HttpResponse, type IterationContext } from '@redline/load';

let server: Server;
let base = '';
before(async () => {
  // /hops/N redirects N times (302) before answering; /loop redirects to itself; /post-303 sends a
  // POST on with 303 (becomes GET) and /post-307 with 307 (stays POST, body kept); /method echoes.
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const url = req.url ?? '/';
      const hops = /^\/hops\/(\d+)$/.exec(url);
      if (hops) {
        const n = Number(hops[1]);
        if (n === 0) res.end('arrived');
        else res.writeHead(302, { location: `/hops/${n - 1}` }).end();
      } else if (url === '/loop') res.writeHead(302, { location: '/loop' }).end();
      else if (url === '/post-303') res.writeHead(303, { location: '/method' }).end();
      else if (url === '/post-307') res.writeHead(307, { location: `http://127.0.0.1:${(server.address() as AddressInfo).port}/method` }).end();
      else if (url === '/method') res.end(JSON.stringify({ method: req.method, body }));
      else res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

async function script(fn: (ctx: IterationContext, got: Record<string, HttpResponse>) => Promise<void>): Promise<{ got: Record<string, HttpResponse>; r: Awaited<ReturnType<typeof runLoad>> }> {
  const got: Record<string, HttpResponse> = {};
  const r = await runLoad(resolvePlan({ baseUrl: base, executor: 'per-vu-iterations', vus: 1, iterations: 1, exec: (ctx: IterationContext) => fn(ctx, got) }, 'client-features.test.ts'), { workers: 0 });
  return { got, r };
}

describe('redirects in scripts', () => {
  it('follows up to 10 redirects by default, each hop counted as a request', async () => {
    const { got, r } = await script(async (ctx, got) => {
      got.ten = await ctx.http.get('/hops/10');
    });
    assert.equal(got.ten!.status, 200);
    assert.equal(got.ten!.text(), 'arrived');
    assert.equal(got.ten!.url, `${base}/hops/0`);
    assert.equal(r.summary.requests, 11);
    assert.equal(r.summary.errors, 0);
  });

  it('counts a redirect loop as a redirect_loop error and returns the last 3xx', async () => {
    const { got, r } = await script(async (ctx, got) => {
      got.loop = await ctx.http.get('/loop');
      got.three = await ctx.http.get('/hops/3', { redirects: 2 });
    });
    assert.equal(got.loop!.status, 302);
    assert.equal(got.loop!.ok, false);
    assert.equal(got.loop!.error, 'redirect_loop');
    assert.equal(got.three!.error, 'redirect_loop');
    assert.equal(r.summary.requests, 11 + 3);
    assert.equal(r.summary.errorsByKind.redirect_loop, 2, JSON.stringify(r.summary.errorsByKind));
  });

  it('redirects: 0 returns the redirect itself; 303 turns a POST into a GET, 307 keeps method and body', async () => {
    const { got, r } = await script(async (ctx, got) => {
      got.none = await ctx.http.get('/hops/1', { redirects: 0 });
      got.see = await ctx.http.post('/post-303', 'payload');
      got.keep = await ctx.http.post('/post-307', 'payload');
    });
    assert.equal(got.none!.status, 302);
    assert.equal(got.none!.error, null);
    assert.deepEqual(got.see!.json(), { method: 'GET', body: '' });
    assert.deepEqual(got.keep!.json(), { method: 'POST', body: 'payload' });
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
  });

  it('rejects a negative redirect limit', async () => {
    const { r } = await script(async (ctx) => {
      await ctx.http.get('/hops/1', { redirects: -1 });
    });
    assert.equal(r.summary.iterationErrors, 1);
    assert.match(r.warnings?.join('\n') ?? '', /redirects must be a non-negative integer, got -1/);
  });
});

describe('Content-Encoding in scripts', () => {
  it('decodes gzip, br and deflate bodies and reports wire and decoded sizes', async () => {
    const { gzipSync, brotliCompressSync, deflateSync } = await import('node:zlib');
    const text = 'compressible '.repeat(500);
    const enc = createServer((req, res) => {
      const coding = req.url!.slice(1);
      const body = coding === 'gzip' ? gzipSync(text) : coding === 'br' ? brotliCompressSync(text) : coding === 'deflate' ? deflateSync(text) : Buffer.from('not gzip at all');
      res.writeHead(200, { 'content-encoding': coding === 'corrupt' ? 'gzip' : coding }).end(body);
    });
    await new Promise<void>((resolve) => enc.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(enc.address() as AddressInfo).port}`;
    try {
      const got: Record<string, HttpResponse> = {};
      await runLoad(
        resolvePlan(
          {
            executor: 'per-vu-iterations',
            vus: 1,
            iterations: 1,
            exec: async (ctx: IterationContext) => {
              for (const c of ['gzip', 'br', 'deflate', 'corrupt']) got[c] = await ctx.http.get(`${url}/${c}`, { headers: { 'accept-encoding': 'gzip, br, deflate' } });
            },
          },
          'client-features.test.ts',
        ),
        { workers: 0 },
      );
      for (const c of ['gzip', 'br', 'deflate']) {
        assert.equal(got[c]!.text(), text, c);
        assert.equal(got[c]!.decodedBytes, text.length, c);
        assert.ok(got[c]!.bodyBytes < text.length / 10, `${c}: ${got[c]!.bodyBytes} bytes on the wire`);
        assert.equal(got[c]!.decodeError, null);
      }
      assert.equal(got.corrupt!.text(), 'not gzip at all');
      assert.match(got.corrupt!.decodeError ?? '', /header/);
    } finally {
      enc.close();
    }
  });
});

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { resolvePlan, runLoad, type IterationContext } from '@redline/load';

const TEXT = 'compressible text '.repeat(400);
let server: Server;
let url = '';
const seen: string[] = [];

before(async () => {
  // Compresses with the first coding the client accepts, as most servers do.
  server = createServer((req, res) => {
    const accept = String(req.headers['accept-encoding'] ?? '');
    seen.push(accept);
    const coding = ['br', 'gzip', 'deflate'].find((c) => accept.includes(c));
    const body = coding === 'br' ? brotliCompressSync(TEXT) : coding === 'gzip' ? gzipSync(TEXT) : coding === 'deflate' ? deflateSync(TEXT) : Buffer.from(TEXT);
    res.writeHead(200, coding ? { 'content-encoding': coding } : {}).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

describe('Accept-Encoding by default in scripts', () => {
  it('asks for gzip, br and deflate, decodes, and counts body bytes on the wire and decoded', async () => {
    seen.length = 0;
    const sizes: number[] = [];
    const r = await runLoad(
      resolvePlan(
        {
          executor: 'per-vu-iterations',
          vus: 1,
          iterations: 3,
          exec: async (ctx: IterationContext) => {
            const res = await ctx.http.get(url);
            assert.equal(res.text(), TEXT);
            sizes.push(res.bodyBytes);
          },
        },
        'accept-encoding.test.ts',
      ),
      { workers: 0 },
    );
    assert.deepEqual(seen, ['gzip, br, deflate', 'gzip, br, deflate', 'gzip, br, deflate']);
    const c = r.summary.compression!;
    assert.equal(c.responses, 3);
    assert.equal(c.decodedBytes, 3 * TEXT.length);
    assert.equal(c.wireBytes, sizes.reduce((a, b) => a + b, 0));
    assert.ok(c.wireBytes * 10 < c.decodedBytes, JSON.stringify(c));
    // The wire count is what the run received; decoding does not inflate it.
    assert.ok(r.summary.dataReceivedBytes < c.decodedBytes, `${r.summary.dataReceivedBytes} received`);
  });

  it("keeps the script's own Accept-Encoding (identity: nothing to decode, no compression summary)", async () => {
    seen.length = 0;
    const r = await runLoad(
      resolvePlan({ executor: 'per-vu-iterations', vus: 1, iterations: 2, exec: async (ctx: IterationContext) => void (await ctx.http.get(url, { headers: { 'Accept-Encoding': 'identity' } })) }, 'accept-encoding.test.ts'),
      { workers: 0 },
    );
    assert.deepEqual(seen, ['identity', 'identity']);
    assert.equal(r.summary.compression, undefined);
    assert.equal(r.summary.errors, 0);
  });
});

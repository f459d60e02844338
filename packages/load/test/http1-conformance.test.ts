import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http1Transport, resolvePlan, runLoad, type Connection, type Exchange, type ExchangeOptions, type HttpResponse, type IterationContext, type Origin } from '@redline/load';
import { selfSignedCert, startRawServer, type RawReply, type RawServer } from './fixtures/raw-server.ts';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';
const CHUNKED_HEAD = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n';

/** Malformed responses: each must fail its exchange as `protocol` with this detail, and close the connection. */
const MALFORMED: Array<[path: string, reply: RawReply, detail: RegExp]> = [
  ['/negative-chunk', `${CHUNKED_HEAD}-5\r\nhello\r\n0\r\n\r\n`, /^malformed chunk size "-5"$/],
  ['/non-hex-chunk', `${CHUNKED_HEAD}zz\r\nhello\r\n0\r\n\r\n`, /^malformed chunk size "zz"$/],
  ['/huge-chunk', `${CHUNKED_HEAD}fffffffffffffff\r\n`, /^malformed chunk size "fffffffffffffff"$/],
  ['/chunk-overrun', `${CHUNKED_HEAD}5\r\nhelloEXTRA\r\n0\r\n\r\n`, /^chunk data not followed by CRLF/],
  // An endless chunk-size line: 1 MiB of hex digits with no line end (it grew memory to ~1 GB before).
  ['/endless-chunk-line', (s) => writeForever(s, CHUNKED_HEAD, '1'), /^chunk-size line longer than 4096 bytes$/],
  ['/endless-headers', (s) => writeForever(s, 'HTTP/1.1 200 OK\r\nX-Endless: ', 'a'), /^response header block larger than 64 KiB$/],
  ['/huge-trailers', (s) => writeForever(s, `${CHUNKED_HEAD}0\r\nX-Trailer: `, 'b'), /^trailer section larger than 64 KiB$/],
  ['/conflicting-length', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!', /^conflicting Content-Length headers \(5 and 6\)$/],
  ['/length-list', 'HTTP/1.1 200 OK\r\nContent-Length: 5, 6\r\n\r\nhello!', /^invalid Content-Length "5, 6"$/],
  ['/negative-length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /^invalid Content-Length "-1"$/],
  ['/hex-length', 'HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\n', /^invalid Content-Length "0x10"$/],
  ['/huge-length', 'HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n', /^invalid Content-Length "99999999999999999999"$/],
  ['/status-2xx', 'HTTP/1.1 2xx OK\r\nContent-Length: 0\r\n\r\n', /^malformed status line: "HTTP\/1.1 2xx OK"$/],
  ['/status-two-digits', 'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n', /^malformed status line: "HTTP\/1.1 20 OK"$/],
  ['/status-999', 'HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n', /^malformed status line: "HTTP\/1.1 999 Odd"$/],
  ['/status-four-digits', 'HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n', /^malformed status line: "HTTP\/1.1 2000 OK"$/],
  ['/http2-version', 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n', /^malformed status line: "HTTP\/2.0 200 OK"$/],
  ['/not-http', 'SSH-2.0-OpenSSH_9.2\r\n\r\n', /^malformed status line: "SSH-2.0-OpenSSH_9.2"$/],
  ['/te-and-length', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n5\r\nhello\r\n0\r\n\r\n', /^both Transfer-Encoding and Content-Length in one response$/],
  ['/chunked-not-last', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', /^invalid Transfer-Encoding "chunked, gzip"$/],
  ['/obs-fold', 'HTTP/1.1 200 OK\r\nX-A: a\r\n  folded\r\nContent-Length: 2\r\n\r\nok', /^obsolete line folding in a response header$/],
  ['/endless-continue', 'HTTP/1.1 100 Continue\r\n\r\n'.repeat(20), /^more than 8 interim \(1xx\) responses$/],
];

/** Valid but unusual responses: each must succeed with this body. */
const VALID: Array<[path: string, reply: RawReply, body: string]> = [
  ['/continue', `HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n${OK}`, 'ok'],
  ['/continue-split', (s) => split(s, ['HTTP/1.1 100 Continue\r\n\r\n', OK]), 'ok'],
  ['/big-headers', `HTTP/1.1 200 OK\r\nX-Big: ${'x'.repeat(3000)}\r\nContent-Length: 2\r\n\r\nok`, 'ok'],
  ['/big-headers-split', (s) => split(s, [`HTTP/1.1 200 OK\r\nX-Big: ${'y'.repeat(20_000)}`, '\r\nContent-Length: 2\r', '\n\r\nok']), 'ok'],
  ['/chunk-extensions', `${CHUNKED_HEAD}5;name=value;x="q"\r\nhello\r\n6 ; ext\r\n world\r\n0;last\r\nX-Trailer: t\r\nX-Other: u\r\n\r\n`, 'hello world'],
  ['/chunk-upper-hex', `${CHUNKED_HEAD}A\r\n0123456789\r\n0\r\n\r\n`, '0123456789'],
  ['/chunk-split', (s) => split(s, [CHUNKED_HEAD, '5\r', '\nhel', 'lo\r', '\n0\r\n', '\r\n']), 'hello'],
  ['/same-length-twice', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok', 'ok'],
  ['/same-length-list', 'HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\n\r\nok', 'ok'],
  ['/status-no-reason', 'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok', 'ok'],
  ['/http10', (s) => s.end('HTTP/1.0 200 OK\r\n\r\nok'), 'ok'],
  ['/gzip-until-close', (s) => s.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nok'), 'ok'],
];

const ROUTES: Record<string, RawReply> = {
  '/ok': OK,
  '/never': () => undefined,
  // Keep-alive for the first response on a connection, `Connection: close` (and a close) on the second.
  '/close-every-2nd': (s, st) => {
    if (st.requestsOnConnection % 2 === 1) s.write(OK);
    else s.end('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok');
  },
  // A complete response followed by bytes nobody asked for.
  '/trailing-garbage': `${OK}HTTP/1.1 200 OK\r\n`,
  '/body-1m': (s) => writeBody(s, 1024 * 1024),
  '/chunked-1m': (s) => {
    s.write(CHUNKED_HEAD);
    for (let i = 0; i < 16; i++) s.write(`10000\r\n${'c'.repeat(0x10000)}\r\n`);
    s.write('0\r\n\r\n');
  },
  ...Object.fromEntries(MALFORMED.map(([p, r]) => [p, r])),
  ...Object.fromEntries(VALID.map(([p, r]) => [p, r])),
};

/** Writes `head`, then `fill` in 16 KiB pieces until 1 MiB or the client closes. */
function writeForever(socket: import('node:net').Socket, head: string, fill: string): void {
  socket.write(head);
  const piece = fill.repeat(16 * 1024);
  let sent = 0;
  const more = (): void => {
    while (!socket.destroyed && sent < 1024 * 1024) {
      sent += piece.length;
      if (!socket.write(piece)) {
        socket.once('drain', more);
        return;
      }
    }
  };
  more();
}

/** Writes the parts in separate TCP segments, 5 ms apart. */
function split(socket: import('node:net').Socket, parts: string[]): void {
  parts.forEach((p, i) => setTimeout(() => !socket.destroyed && socket.write(p), i * 5));
}

function writeBody(socket: import('node:net').Socket, size: number): void {
  socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${size}\r\n\r\n`);
  socket.write(Buffer.alloc(size, 0x61));
}

function originOf(url: string): Origin {
  const u = new URL(url);
  return { protocol: u.protocol as Origin['protocol'], host: u.hostname, port: Number(u.port), authority: u.host, insecure: true };
}

/** One exchange on `conn`, copied out of the (possibly reused) Exchange object. */
function exchange(conn: Connection, path: string, options?: ExchangeOptions): Promise<Exchange> {
  const payload = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`, 'latin1');
  return new Promise((resolve) => conn.exchange(payload, 'GET', (ex) => resolve({ ...ex, body: ex.body ? Buffer.from(ex.body) : null }), options));
}

let plain: RawServer;
let secure: RawServer;
before(async () => {
  plain = await startRawServer(ROUTES);
  secure = await startRawServer(ROUTES, { tls: selfSignedCert() });
});
after(async () => {
  await plain.close();
  await secure.close();
});

for (const [label, keepResponse] of [
  ['fast path', false],
  ['scripted path', true],
] as const) {
  for (const [scheme, server] of [
    ['http', () => plain],
    ['https', () => secure],
  ] as const) {
    describe(`HTTP/1.1 conformance, ${label}, ${scheme}`, () => {
      for (const [path, , detail] of MALFORMED) {
        it(`${path}: fails as a protocol error, closes the connection, and the next request works`, { timeout: 10_000 }, async () => {
          const srv = server();
          const conn = http1Transport.connect(originOf(srv.url), { keepResponse });
          const closedBefore = srv.closed();
          const bad = await exchange(conn, path);
          assert.equal(bad.error, 'protocol', `${path}: ${bad.errorDetail}`);
          assert.match(bad.errorDetail ?? '', detail);
          assert.equal(bad.status, 0);
          await srv.waitClosed(closedBefore + 1);
          const good = await exchange(conn, '/ok');
          assert.equal(good.error, null, good.errorDetail ?? '');
          assert.equal(good.status, 200);
          conn.close();
        });
      }

      for (const [path, , body] of VALID) {
        it(`${path}: succeeds`, { timeout: 10_000 }, async () => {
          const conn = http1Transport.connect(originOf(server().url), { keepResponse });
          const ex = await exchange(conn, path);
          assert.equal(ex.error, null, `${path}: ${ex.errorDetail}`);
          assert.equal(ex.status, 200);
          if (keepResponse) assert.equal(ex.body?.toString('latin1'), body);
          // The connection is still usable afterwards (reconnecting when the server closed it).
          const next = await exchange(conn, '/ok');
          assert.equal(next.status, 200, next.errorDetail ?? '');
          conn.close();
        });
      }

      it('Connection: close in the middle of keep-alive reconnects without an error', async () => {
        const srv = server();
        const before = srv.connections();
        const conn = http1Transport.connect(originOf(srv.url), { keepResponse });
        for (let i = 0; i < 6; i++) {
          const ex = await exchange(conn, '/close-every-2nd');
          assert.equal(ex.error, null, ex.errorDetail ?? '');
        }
        assert.equal(srv.connections() - before, 3);
        conn.close();
      });

      it('bytes after a complete response close the connection instead of poisoning the next response', async () => {
        const srv = server();
        const before = srv.connections();
        const conn = http1Transport.connect(originOf(srv.url), { keepResponse });
        const first = await exchange(conn, '/trailing-garbage');
        assert.equal(first.status, 200);
        const second = await exchange(conn, '/ok');
        assert.equal(second.status, 200, second.errorDetail ?? '');
        assert.equal(srv.connections() - before, 2);
        conn.close();
      });
    });
  }
}

describe('scripted response bodies', () => {
  it('a body over the limit fails as body_too_large and closes the connection; discardBody reads it and keeps nothing', async () => {
    const conn = http1Transport.connect(originOf(plain.url), { keepResponse: true });
    const closedBefore = plain.closed();
    const big = await exchange(conn, '/body-1m', { maxBodyBytes: 64 * 1024 });
    assert.equal(big.error, 'body_too_large');
    assert.equal(big.errorDetail, 'response body larger than the limit of 65536 bytes (Content-Length 1048576)');
    await plain.waitClosed(closedBefore + 1);
    const discarded = await exchange(conn, '/body-1m', { discardBody: true, maxBodyBytes: 1024 });
    assert.equal(discarded.error, null, discarded.errorDetail ?? '');
    assert.equal(discarded.body, null);
    assert.ok(discarded.bytesReceived > 1024 * 1024);
    const kept = await exchange(conn, '/body-1m');
    assert.equal(kept.body?.length, 1024 * 1024);
    assert.equal(kept.body?.toString('latin1', 0, 4), 'aaaa');
    conn.close();
  });

  it('the limit holds for bodies of unknown length (chunked) as they arrive', async () => {
    const conn = http1Transport.connect(originOf(plain.url), { keepResponse: true });
    const big = await exchange(conn, '/chunked-1m', { maxBodyBytes: 100_000 });
    assert.equal(big.error, 'body_too_large');
    assert.equal(big.errorDetail, 'response body larger than the limit of 100000 bytes');
    const kept = await exchange(conn, '/chunked-1m');
    assert.equal(kept.error, null, kept.errorDetail ?? '');
    assert.equal(kept.body?.length, 1024 * 1024);
    conn.close();
  });

  it('the scenario maxBodySize and per-request maxBodySize/discardBody reach scripted requests', async () => {
    const got: HttpResponse[] = [];
    const r = await runLoad(
      resolvePlan(
        {
          baseUrl: plain.url,
          timeout: '5s',
          executor: 'per-vu-iterations',
          vus: 1,
          iterations: 1,
          maxBodySize: '512kb',
          exec: async (ctx: IterationContext) => {
            got.push(await ctx.http.get('/body-1m'));
            got.push(await ctx.http.get('/body-1m', { maxBodySize: '2mb' }));
            got.push(await ctx.http.get('/body-1m', { discardBody: true }));
          },
        },
        'http1-conformance.test.ts',
      ),
      { workers: 0 },
    );
    assert.equal(got[0]!.error, 'body_too_large');
    assert.equal(got[0]!.errorDetail, 'response body larger than the limit of 524288 bytes (Content-Length 1048576)');
    assert.equal(got[1]!.text().length, 1024 * 1024);
    assert.equal(got[2]!.error, null);
    assert.equal(got[2]!.text(), '');
    assert.deepEqual(r.summary.errorsByKind, { body_too_large: 1 });
    assert.equal(r.summary.requests, 3);
  });

  it('rejects a maxBodySize that is not a size', () => {
    assert.throws(
      () => resolvePlan({ baseUrl: plain.url, duration: '1s', maxBodySize: 'lots', exec: () => undefined }, 'bad.ts'),
      (e: Error & { code?: string }) => e.code === 'REDLINE_ERR_INVALID_SCENARIO' && /^bad\.ts: maxBodySize: invalid maxBodySize "lots"/.test(e.message),
    );
  });
});

describe('malformed responses in a whole run', () => {
  it('are counted as protocol errors while the run goes on, on the fast path and in scripts', async () => {
    const fast = await runLoad(
      resolvePlan({ baseUrl: plain.url, timeout: '5s', executor: 'per-vu-iterations', vus: 1, iterations: 6, requests: [{ url: '/negative-chunk' }, { url: '/ok' }, { url: '/status-2xx' }] }, 'http1-conformance.test.ts'),
      { workers: 0 },
    );
    assert.deepEqual(fast.summary.errorsByKind, { protocol: 4 });
    assert.equal(fast.summary.byStatusClass['2xx']?.requests, 2);
    const details: Array<string | null> = [];
    const scripted = await runLoad(
      resolvePlan(
        {
          baseUrl: plain.url,
          timeout: '5s',
          executor: 'per-vu-iterations',
          vus: 1,
          iterations: 2,
          exec: async (ctx: IterationContext) => {
            details.push((await ctx.http.get('/conflicting-length')).errorDetail);
            details.push((await ctx.http.get('/ok')).errorDetail);
          },
        },
        'http1-conformance.test.ts',
      ),
      { workers: 0 },
    );
    assert.deepEqual(scripted.summary.errorsByKind, { protocol: 2 });
    assert.deepEqual(details, ['conflicting Content-Length headers (5 and 6)', null, 'conflicting Content-Length headers (5 and 6)', null]);
  });
});

describe('scripted response bodies over HTTP/2 (node:http2)', () => {
  it('the same body limit and discardBody hold, and the session survives a cancelled stream', async () => {
    const { createServer } = await import('node:http2');
    const big = Buffer.alloc(1024 * 1024, 0x62);
    const server = createServer();
    let sessions = 0;
    server.on('session', () => sessions++);
    server.on('stream', (stream) => {
      stream.on('error', () => undefined);
      stream.respond({ ':status': 200 });
      stream.end(big);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}`;
    try {
      const got: HttpResponse[] = [];
      const r = await runLoad(
        resolvePlan(
          {
            baseUrl: url,
            protocol: 'h2',
            timeout: '5s',
            executor: 'per-vu-iterations',
            vus: 1,
            iterations: 1,
            exec: async (ctx: IterationContext) => {
              got.push(await ctx.http.get('/a', { maxBodySize: 100_000 }));
              got.push(await ctx.http.get('/b', { discardBody: true }));
              got.push(await ctx.http.get('/c'));
            },
          },
          'http1-conformance.test.ts',
        ),
        { workers: 0 },
      );
      assert.equal(got[0]!.error, 'body_too_large');
      assert.equal(got[0]!.errorDetail, 'response body larger than the limit of 100000 bytes');
      assert.equal(got[1]!.error, null);
      assert.equal(got[1]!.text(), '');
      assert.equal(got[2]!.text().length, big.length);
      assert.deepEqual(r.summary.errorsByKind, { body_too_large: 1 });
      assert.equal(sessions, 1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

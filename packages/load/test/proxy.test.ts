import assert from 'node:assert/strict';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { parseProxyUrl, resolvePlan, runLoad } from '@redline/load';
import { makeTestCerts, type TestCerts } from './fixtures/certs.ts';

/** A small real CONNECT proxy: tunnels while `allow()` says so, else answers 403; optional Basic auth. */
interface TestProxy {
  url: string;
  port: number;
  tunnels: number;
  refused: number;
  targets: string[];
  server: Server;
}

function startProxy(options: { allow?: (n: number) => boolean; auth?: string } = {}): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const p: TestProxy = { url: '', port: 0, tunnels: 0, refused: 0, targets: [], server: null as unknown as Server };
  p.server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    let head = '';
    const onData = (b: Buffer): void => {
      head += b.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) return;
      client.off('data', onData);
      const [line = '', ...fields] = head.slice(0, end).split('\r\n');
      const m = /^CONNECT ([^ :]+):(\d+) HTTP\/1\.1$/.exec(line);
      if (!m) {
        client.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
        return;
      }
      const auth = fields.find((f) => f.toLowerCase().startsWith('proxy-authorization:'))?.slice(20).trim();
      if (options.auth !== undefined && auth !== `Basic ${Buffer.from(options.auth).toString('base64')}`) {
        p.refused++;
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n');
        return;
      }
      if (options.allow && !options.allow(p.tunnels + p.refused + 1)) {
        p.refused++;
        client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
        return;
      }
      p.tunnels++;
      p.targets.push(`${m[1]}:${m[2]}`);
      const upstream = connect(Number(m[2]), m[1]!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        const rest = head.slice(end + 4);
        if (rest) upstream.write(Buffer.from(rest, 'latin1'));
        client.pipe(upstream);
        upstream.pipe(client);
      });
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
    };
    client.on('data', onData);
  });
  const close = p.server.close.bind(p.server);
  p.server.close = ((cb?: (err?: Error) => void) => {
    for (const s of sockets) s.destroy();
    return close(cb);
  }) as Server['close'];
  return new Promise((resolve) =>
    p.server.listen(0, '127.0.0.1', () => {
      p.port = (p.server.address() as AddressInfo).port;
      p.url = `http://127.0.0.1:${p.port}`;
      resolve(p);
    }),
  );
}

let certs: TestCerts;
let plain: HttpServer;
let secure: HttpsServer;
let plainUrl = '';
let secureUrl = '';
let plainHits = 0;
const proxies: TestProxy[] = [];

before(async () => {
  certs = makeTestCerts();
  plain = createHttpServer((req, res) => {
    plainHits++;
    if (req.url?.includes('close')) res.setHeader('connection', 'close');
    res.end('via proxy');
  });
  secure = createHttpsServer({ cert: certs.serverCert, key: certs.serverKey }, (_req, res) => res.end('tls via proxy'));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => secure.listen(0, '127.0.0.1', r));
  plainUrl = `http://127.0.0.1:${(plain.address() as AddressInfo).port}`;
  secureUrl = `https://localhost:${(secure.address() as AddressInfo).port}`;
});
after(() => {
  for (const p of proxies) p.server.close();
  plain.closeAllConnections();
  plain.close();
  secure.closeAllConnections();
  secure.close();
  certs.cleanup();
});

async function proxy(options?: Parameters<typeof startProxy>[0]): Promise<TestProxy> {
  const p = await startProxy(options);
  proxies.push(p);
  return p;
}

describe('HTTP proxy (CONNECT)', () => {
  it('tunnels plain HTTP/1.1 through the proxy: one tunnel per connection, after a pre-flight one', async () => {
    const p = await proxy();
    const before = plainHits;
    const r = await runLoad(resolvePlan({ baseUrl: plainUrl, proxy: p.url, executor: 'per-vu-iterations', vus: 2, iterations: 5, requests: [{ url: '/' }] }, 'proxy.test.ts'), { workers: 1 });
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(r.summary.requests, 10);
    assert.equal(plainHits - before, 10);
    // The pre-flight check plus one keep-alive connection per VU.
    assert.equal(p.tunnels, 3);
    assert.ok(p.targets.every((t) => t === plainUrl.slice(7)), p.targets.join());
  });

  it('runs TLS inside the tunnel (the proxy sees only CONNECT to host:port) and sends Basic credentials', async () => {
    const p = await proxy({ auth: 'load:s3cret' });
    const r = await runLoad(
      resolvePlan({ baseUrl: secureUrl, proxy: `http://load:s3cret@127.0.0.1:${p.port}`, tls: { ca: certs.caFile }, executor: 'per-vu-iterations', vus: 1, iterations: 4, requests: [{ url: '/' }] }, 'proxy.test.ts'),
      { workers: 1 },
    );
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(r.summary.requests, 4);
    assert.equal(p.refused, 0);
    assert.ok(p.targets.every((t) => t === secureUrl.slice(8)), p.targets.join());
  });

  it('a proxy refusing CONNECT fails the run before the load with REDLINE_ERR_PROXY_FAILED', async () => {
    const p = await proxy({ allow: () => false });
    const target = plainUrl.slice(7);
    await assert.rejects(runLoad(resolvePlan({ baseUrl: plainUrl, proxy: p.url, executor: 'per-vu-iterations', vus: 1, iterations: 1, requests: [{ url: '/' }] }, 'proxy.test.ts'), { workers: 1 }), {
      code: 'REDLINE_ERR_PROXY_FAILED',
      message: `the proxy ${p.url} refused CONNECT to ${target}: HTTP/1.1 403 Forbidden`,
    });
    const auth = await proxy({ auth: 'a:b' });
    await assert.rejects(runLoad(resolvePlan({ baseUrl: plainUrl, proxy: auth.url, executor: 'per-vu-iterations', vus: 1, iterations: 1, requests: [{ url: '/' }] }, 'proxy.test.ts'), { workers: 1 }), {
      code: 'REDLINE_ERR_PROXY_FAILED',
      message: `the proxy ${auth.url} refused CONNECT to ${target}: HTTP/1.1 407 Proxy Authentication Required`,
    });
    // Nothing listens on a closed port: the proxy cannot be reached.
    const gone = await proxy();
    const goneUrl = gone.url;
    await new Promise<void>((r) => gone.server.close(() => r()));
    await assert.rejects(runLoad(resolvePlan({ baseUrl: plainUrl, proxy: goneUrl, executor: 'per-vu-iterations', vus: 1, iterations: 1, requests: [{ url: '/' }] }, 'proxy.test.ts'), { workers: 1 }), {
      code: 'REDLINE_ERR_PROXY_FAILED',
      message: `cannot reach the proxy ${goneUrl}: ECONNREFUSED`,
    });
  });

  it('counts tunnels the proxy refuses mid-run as `proxy` errors', async () => {
    // Pre-flight and the first three connections get a tunnel; later ones are refused.
    const p = await proxy({ allow: (n) => n <= 4 });
    const r = await runLoad(resolvePlan({ baseUrl: plainUrl, proxy: p.url, executor: 'per-vu-iterations', vus: 1, iterations: 8, requests: [{ url: '/?close' }] }, 'proxy.test.ts'), { workers: 1 });
    assert.equal(r.summary.requests, 8);
    assert.equal(r.summary.errorsByKind.proxy, 5, JSON.stringify(r.summary.errorsByKind));
    assert.equal(r.summary.errors, 5);
  });

  it('refuses a bad proxy URL and HTTP/2 through a proxy, with codes and messages', async () => {
    assert.throws(() => parseProxyUrl('ftp://x:21'), { code: 'REDLINE_ERR_BAD_URL', message: 'unsupported proxy protocol "ftp:" in "ftp://x:21": only http:// proxies (CONNECT) are supported' });
    assert.throws(() => parseProxyUrl('not a url'), { code: 'REDLINE_ERR_BAD_URL', message: 'invalid proxy URL "not a url": expected http://host:port' });
    const p = await proxy();
    await assert.rejects(runLoad(resolvePlan({ baseUrl: plainUrl, proxy: p.url, protocol: 'h2', executor: 'per-vu-iterations', vus: 1, iterations: 1, requests: [{ url: '/' }] }, 'proxy.test.ts'), { workers: 1 }), {
      code: 'REDLINE_ERR_INVALID_ARGUMENT',
      message: 'proxy: HTTP/2 through a proxy is not supported; use HTTP/1.1 (drop --http2 or protocol: "h2") with --proxy',
    });
  });
});

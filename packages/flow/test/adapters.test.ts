import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Agent, request } from 'undici';
import { FlowErrorCodes, createLimiter, expressLimiter, fastifyLimiter, isFlowError, limitHandler, type Limiter } from '@redline/flow';
import { createBulkhead } from '@redline/flow/undici';

const fixed = (limit: number, maxQueue: number): Limiter => createLimiter({ algorithm: 'fixed', initial: limit, min: 1, max: limit, maxQueue, statsIntervalMs: 0 });

interface Gate {
  release(): void;
  waiting: number;
  wait(): Promise<void>;
}

/** Requests park on the gate until release(); counts how many are parked. */
function gate(): Gate {
  let resolve!: () => void;
  let promise = new Promise<void>((r) => (resolve = r));
  const g: Gate = {
    waiting: 0,
    release() {
      resolve();
      promise = new Promise<void>((r) => (resolve = r));
    },
    async wait() {
      g.waiting++;
      await promise;
      g.waiting--;
    },
  };
  return g;
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function get(url: string): Promise<{ status: number; retryAfter: string | undefined; body: string }> {
  const res = await fetch(url);
  return { status: res.status, retryAfter: res.headers.get('retry-after') ?? undefined, body: await res.text() };
}

/** Sends 4 requests to a server limited to 2 in flight with a queue of 1: 3 are served, 1 gets 503. */
async function overloadFour(url: string, g: Gate): Promise<void> {
  const first = [get(url), get(url)];
  await until(() => g.waiting === 2, 'two requests in the handler');
  const third = get(url);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(g.waiting, 2, 'the third request waits in the queue, not in the handler');
  const fourth = await get(url);
  assert.equal(fourth.status, 503);
  assert.equal(fourth.retryAfter, '1');
  assert.match(fourth.body, /REDLINE_ERR_FLOW_QUEUE_FULL/);
  g.release();
  await until(() => g.waiting === 1, 'the queued request to enter');
  g.release();
  const served = await Promise.all([...first, third]);
  assert.deepEqual(served.map((r) => r.status), [200, 200, 200]);
}

function listen(server: http.Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)));
}

describe('HTTP adapters', () => {
  const servers: http.Server[] = [];
  after(() => {
    for (const s of servers) {
      s.close();
      s.closeAllConnections();
    }
  });

  it('node:http: limitHandler queues past the limit and answers 503 with Retry-After when the queue is full', async () => {
    const g = gate();
    const server = http.createServer(limitHandler(fixed(2, 1), async (_req, res) => {
      await g.wait();
      res.end('ok');
    }));
    servers.push(server);
    await overloadFour(await listen(server), g);
  });

  it('node:http: a user handler answers refusals instead', async () => {
    const g = gate();
    const server = http.createServer(limitHandler(fixed(1, 0), async (_req, res) => {
      await g.wait();
      res.end('ok');
    }, { onRejected: (_req, res, err) => { res.writeHead(429, { 'x-code': err.code }).end('slow down'); } }));
    servers.push(server);
    const url = await listen(server);
    const first = get(url);
    await until(() => g.waiting === 1, 'one request in the handler');
    const res = await fetch(url);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('x-code'), FlowErrorCodes.QUEUE_FULL);
    await res.text();
    g.release();
    assert.equal((await first).status, 200);
  });

  it('express: the middleware limits the routes after it', async () => {
    const g = gate();
    const app = express();
    app.use(expressLimiter(fixed(2, 1)));
    app.get('/', async (_req, res) => {
      await g.wait();
      res.send('ok');
    });
    const server = http.createServer(app);
    servers.push(server);
    await overloadFour(await listen(server), g);
  });

  it('fastify: the plugin limits every route of the instance', async () => {
    const g = gate();
    const app = Fastify();
    await app.register(fastifyLimiter(fixed(2, 1)));
    app.get('/', async () => {
      await g.wait();
      return 'ok';
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const port = (app.server.address() as AddressInfo).port;
      await overloadFour(`http://127.0.0.1:${port}/`, g);
    } finally {
      await app.close();
    }
  });

  it('releases the slot when the client goes away before the response', async () => {
    const g = gate();
    const limiter = fixed(1, 0);
    const server = http.createServer(limitHandler(limiter, async (_req, res) => {
      await g.wait();
      res.end('late');
    }));
    servers.push(server);
    const url = await listen(server);
    const controller = new AbortController();
    const aborted = fetch(url, { signal: controller.signal }).catch(() => 'aborted');
    await until(() => g.waiting === 1, 'the request in the handler');
    controller.abort();
    assert.equal(await aborted, 'aborted');
    await until(() => limiter.inFlight === 0, 'the slot to be released on close');
    g.release();
  });
});

describe('undici bulkhead', () => {
  it('gives each origin its own limit and fails refused requests with the FlowError', async () => {
    const g = gate();
    let concurrent = 0;
    let maxConcurrent = 0;
    const server = http.createServer(async (_req, res) => {
      concurrent++;
      maxConcurrent = Math.max(maxConcurrent, concurrent);
      await g.wait();
      concurrent--;
      res.end('ok');
    });
    const other = http.createServer((_req, res) => res.end('other'));
    const url = await listen(server);
    const otherUrl = await listen(other);
    const bulkhead = createBulkhead({ limiter: { algorithm: 'fixed', initial: 2, max: 2, maxQueue: 1, statsIntervalMs: 0 } });
    const agent = new Agent().compose(bulkhead.interceptor);
    try {
      const calls = [1, 2, 3].map(() => request(url, { dispatcher: agent }).then(async (r) => { await r.body.text(); return r.statusCode; }));
      await until(() => g.waiting === 2, 'two requests at the server');
      assert.equal(bulkhead.limiterFor(new URL(url).origin).queued, 1);
      await assert.rejects(request(url, { dispatcher: agent }), (err: unknown) => isFlowError(err, FlowErrorCodes.QUEUE_FULL));
      // Another origin is not held up by the first one's full bulkhead.
      const res = await request(otherUrl, { dispatcher: agent });
      assert.equal(await res.body.text(), 'other');
      g.release();
      await until(() => g.waiting === 1, 'the queued request at the server');
      g.release();
      assert.deepEqual(await Promise.all(calls), [200, 200, 200]);
      assert.equal(maxConcurrent, 2);
      assert.equal(bulkhead.limiterFor(new URL(url).origin).inFlight, 0);
    } finally {
      bulkhead.close();
      await agent.close();
      for (const s of [server, other]) {
        s.close();
        s.closeAllConnections();
      }
    }
  });
});

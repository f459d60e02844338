import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RunResult } from '@redline/core';
import { resolvePlan, runLoad, type IterationContext, type ScenarioDefinition, type WsResult } from '@redline/load';
import { makeTestCerts, type TestCerts } from './fixtures/certs.ts';

/** A `ws` echo server behind a real TLS server whose certificate comes from a CA made at test time. */
let certs: TestCerts;
let https: Server;
let wss: WebSocketServer;
let base: string;

before(async () => {
  certs = makeTestCerts();
  https = createServer({ cert: certs.serverCert, key: certs.serverKey });
  wss = new WebSocketServer({ noServer: true });
  https.on('upgrade', (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  });
  await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
  base = `wss://127.0.0.1:${(https.address() as AddressInfo).port}`;
});
after(async () => {
  for (const c of wss.clients) c.terminate();
  wss.close();
  https.closeAllConnections();
  await new Promise<void>((resolve) => https.close(() => resolve()));
  certs.cleanup();
});

function run(def: ScenarioDefinition): Promise<RunResult> {
  return runLoad(resolvePlan({ timeout: '5s', executor: 'per-vu-iterations', vus: 1, iterations: 1, ...def }, 'websocket-tls.test.ts'), { workers: 0 });
}

describe('WebSocket over TLS (wss://)', () => {
  it('echoes through ctx.ws and the fast path with the CA given, and fails a certificate from another CA as tls', async () => {
    const results: WsResult[] = [];
    const scripted = await run({
      tls: { ca: certs.caFile },
      exec: async (ctx: IterationContext) => {
        results.push(
          await ctx.ws.connect(`${base}/echo`, async (socket) => {
            assert.equal((await socket.request('secure hello')).data, 'secure hello');
          }),
        );
      },
    });
    assert.equal(scripted.summary.iterationErrors, 0, JSON.stringify(scripted.summary));
    assert.equal(results[0]!.status, 101);
    assert.equal(scripted.summary.byName['WS /echo']!.requests, 1);

    const fast = await run({ protocol: 'ws', tls: { ca: certs.caFile }, iterations: 5, requests: [{ url: `${base}/echo`, body: 'x' }] });
    assert.equal(fast.summary.errors, 0, JSON.stringify(fast.summary.errorsByKind));
    assert.equal(fast.summary.requests, 5);
    assert.equal(fast.summary.ws!.connections, 1);

    const wrong = await run({
      tls: { ca: certs.otherCaFile },
      exec: async (ctx: IterationContext) => {
        results.push(await ctx.ws.connect(`${base}/echo`, () => assert.fail('never opened')));
      },
    });
    assert.equal(results[1]!.status, 0);
    assert.equal(results[1]!.error, 'tls');
    assert.equal(wrong.summary.errorsByKind.tls, 1, JSON.stringify(wrong.summary.errorsByKind));
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, type RunResult } from '@redline/core';
import type { IterationContext, ScenarioDefinition, WsResult } from '@redline/load';
import { runWs, startWsServer, type WsTestServer } from './fixtures/ws-server.ts';

/**
 * A real `ws` server on 127.0.0.1:0 (fixtures/ws-server.ts). Paths: `/echo` echoes every message; `/tagged` answers
 * `{"id":N,...}` with `{"re":N}` after 5 ms; `/close/<code>` closes with that code on the first
 * message; `/drop` destroys the socket on the first message (1006); `/deny` refuses the upgrade (403).
 */
let server: WsTestServer;
let base: string;

before(async () => {
  server = await startWsServer((ws, req) => {
    const path = req.url ?? '/';
    ws.on('message', (data, isBinary) => {
      if (path === '/echo') ws.send(data, { binary: isBinary });
      else if (path === '/tagged') {
        const { id } = JSON.parse(data.toString()) as { id: number };
        setTimeout(() => ws.send(JSON.stringify({ re: id })), 5);
      } else if (path.startsWith('/close/')) ws.close(Number(path.slice(7)), 'bye');
      else if (path === '/drop') ws.terminate();
    });
  });
  base = server.base;
});
after(() => server.close());

const run = (def: ScenarioDefinition): Promise<RunResult> => runWs(def, 'websocket.test.ts');

describe('ctx.ws', () => {
  it('records the latency of each echoed message and counts the close code', async () => {
    const results: WsResult[] = [];
    const r = await run({
      vus: 2,
      iterations: 2,
      exec: async (ctx: IterationContext) => {
        results.push(
          await ctx.ws.connect(`${base}/echo`, async (socket) => {
            for (let i = 0; i < 5; i++) {
              const reply = await socket.request(`ping ${ctx.vu} ${i}`);
              assert.equal(reply.data, `ping ${ctx.vu} ${i}`);
            }
            socket.send(Buffer.from([1, 2, 3]));
            const bin = await socket.next();
            assert.equal(bin.binary, true);
          }),
        );
      },
    });
    assert.equal(r.summary.iterationErrors, 0, r.summary.iterationErrors ? JSON.stringify(r) : '');
    assert.equal(results.length, 4);
    for (const res of results) {
      assert.equal(res.status, 101);
      assert.deepEqual(res.close, { code: 1000, reason: '' });
      assert.equal(res.messagesSent, 6);
      assert.equal(res.messagesReceived, 6);
      assert.equal(res.unanswered, 0);
    }
    assert.deepEqual(r.summary.ws, { connections: 4, failedHandshakes: 0, messagesSent: 24, messagesReceived: 24, unanswered: 0, closeCodes: { '1000': 4 } });
    assert.equal(r.summary.byName['WS /echo']!.requests, 24, Object.keys(r.summary.byName).join());
    assert.equal(r.summary.byName['WS /echo connect']!.requests, 4);
    assert.ok(r.summary.byName['WS /echo']!.latency!.max > 0);
    assert.equal(r.summary.errors, 0);
  });

  it('correlates replies with a user function and sends at a fixed rate per connection', async () => {
    let res: WsResult | null = null;
    const r = await run({
      exec: async (ctx: IterationContext) => {
        res = await ctx.ws.connect(`${base}/tagged`, { name: 'tagged', correlate: (d) => String((JSON.parse(String(d)) as { id?: number; re?: number }).id ?? (JSON.parse(String(d)) as { re?: number }).re) }, async (socket) => {
          await socket.sendAtRate({ rate: '100/s', count: 20, message: (i) => JSON.stringify({ id: i, pad: 'x' }) });
          // The last replies are due 5 ms after the last send.
          await ctx.sleep(200);
        });
      },
    });
    const got = res as WsResult | null;
    assert.equal(got?.messagesSent, 20);
    assert.equal(got.unanswered, 0, JSON.stringify(got));
    const tagged = r.summary.byName.tagged!;
    assert.equal(tagged.requests, 20);
    // The server answers after 5 ms: every recorded latency includes it.
    assert.ok(tagged.serviceTime!.min >= 4, `min ${tagged.serviceTime!.min}`);
    assert.ok(r.summary.durationMs >= 150, 'twenty messages at 100/s take about 200 ms');
  });

  it('counts the server close code, an abnormal close and unanswered messages', async () => {
    const results: WsResult[] = [];
    const r = await run({
      exec: async (ctx: IterationContext) => {
        results.push(await ctx.ws.connect(`${base}/close/4001`, async (socket) => {
          socket.send('hello');
          await socket.closed;
        }));
        results.push(await ctx.ws.connect(`${base}/drop`, async (socket) => {
          socket.send('hello');
          await socket.closed;
        }));
      },
    });
    assert.deepEqual(results[0]!.close, { code: 4001, reason: 'bye' });
    assert.equal(results[1]!.close!.code, 1006);
    assert.equal(results[0]!.unanswered + results[1]!.unanswered, 2);
    assert.deepEqual(r.summary.ws!.closeCodes, { '1006': 1, '4001': 1 });
    assert.equal(r.summary.ws!.unanswered, 2);
  });

  it('fails a refused upgrade with its status and a refused connection as connect_refused', async () => {
    const results: WsResult[] = [];
    const r = await run({
      exec: async (ctx: IterationContext) => {
        results.push(await ctx.ws.connect(`${base}/deny`, () => assert.fail('never opened')));
        results.push(await ctx.ws.connect('ws://127.0.0.1:1/', () => assert.fail('never opened')));
      },
    });
    assert.equal(results[0]!.status, 403);
    assert.equal(results[0]!.close, null);
    assert.equal(results[1]!.status, 0);
    assert.equal(results[1]!.error, 'connect_refused');
    assert.equal(r.summary.errorsByKind.http_4xx, 1, JSON.stringify(r.summary.errorsByKind));
    assert.equal(r.summary.errorsByKind.connect_refused, 1);
    assert.equal(r.summary.ws!.failedHandshakes, 2);
    assert.equal(r.summary.ws!.connections, 0);
  });

  it('rejects a bad URL and a schedule without an end with their codes', async () => {
    const errors: Array<{ code: string; message: string }> = [];
    await run({
      exec: async (ctx: IterationContext) => {
        for (const f of [
          () => ctx.ws.connect('ftp://127.0.0.1/', () => undefined),
          () => ctx.ws.connect(`${base}/echo`, (socket) => socket.sendAtRate({ rate: 10, message: () => 'x' })),
        ]) {
          try {
            await f();
          } catch (err) {
            errors.push(err as { code: string; message: string });
          }
        }
      },
    });
    assert.equal(errors[0]?.code, ErrorCodes.BAD_URL);
    assert.match(errors[0]!.message, /unsupported protocol "ftp:" in WebSocket URL/);
    assert.equal(errors[1]?.code, ErrorCodes.INVALID_ARGUMENT, 'the handler error closes the socket and rejects connect');
    assert.match(errors[1]!.message, /sendAtRate: give duration or count/);
  });
});

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, type RunResult } from '@redline/core';
import { quickPlan, resolvePlan, runLoad, type IterationContext, type ScenarioDefinition, type WsResult } from '@redline/load';
import { runWs, startWsServer, type WsTestServer } from './fixtures/ws-server.ts';

/**
 * A real `ws` server on 127.0.0.1:0 (fixtures/ws-server.ts). `/echo` echoes (and records what it saw), `/close-after/N`
 * echoes but closes with 4002 instead of answering the N-th message of a connection, `/deny`
 * refuses the upgrade (403). Subprotocol `chat` is accepted when offered.
 */
let server: WsTestServer;
let base: string;
const seen: { binary: boolean[]; headers: IncomingMessage['headers'][]; protocols: string[] } = { binary: [], headers: [], protocols: [] };

/**
 * A raw TCP server that answers the upgrade itself, to send what `ws` never would:
 * `/bad-accept` a wrong Sec-WebSocket-Accept, `/unoffered` a subprotocol nobody asked for,
 * `/masked` a masked frame, `/ping-frag` a ping and then a message in two fragments (and it
 * records the pong it gets back).
 */
let raw: net.Server;
let rawBase: string;
const pongs: string[] = [];

function acceptOf(key: string): string {
  return createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
}

function frame(opcode: number, payload: string, fin = true): Buffer {
  const p = Buffer.from(payload);
  return Buffer.concat([Buffer.from([(fin ? 0x80 : 0) | opcode, p.length]), p]);
}

before(async () => {
  server = await startWsServer(
    (ws, req) => {
      const path = req.url ?? '/';
      seen.headers.push(req.headers);
      seen.protocols.push(ws.protocol);
      let n = 0;
      ws.on('message', (data, isBinary) => {
        n++;
        if (path === '/echo') {
          seen.binary.push(isBinary);
          ws.send(data, { binary: isBinary });
        } else if (path.startsWith('/close-after/')) {
          if (n === Number(path.slice(13))) ws.close(4002, 'enough');
          else ws.send(data, { binary: isBinary });
        }
      });
    },
    { handleProtocols: (offered) => (offered.has('chat') ? 'chat' : false) },
  );
  base = server.base;

  raw = net.createServer((socket) => {
    let buf = '';
    let upgraded = false;
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      if (upgraded) {
        // Client frames (small, masked): a pong's payload is recorded; a close ends the socket.
        for (let at = 0; at + 6 <= chunk.length; ) {
          const opcode = chunk[at]! & 0x0f;
          const len = chunk[at + 1]! & 0x7f;
          const mask = chunk.subarray(at + 2, at + 6);
          if (opcode === 0x8) socket.end();
          else if (opcode === 0xa) pongs.push(Buffer.from(chunk.subarray(at + 6, at + 6 + len).map((b, i) => b ^ mask[i % 4]!)).toString());
          at += 6 + len;
        }
        return;
      }
      buf += chunk.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      upgraded = true;
      const path = buf.split(' ')[1];
      const key = /sec-websocket-key: *(\S+)/i.exec(buf)![1]!;
      const accept = path === '/bad-accept' ? acceptOf('not the key') : acceptOf(key);
      const extra = path === '/unoffered' ? 'Sec-WebSocket-Protocol: nope\r\n' : '';
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${extra}\r\n`);
      if (path === '/masked') socket.write(Buffer.from([0x81, 0x81, 1, 2, 3, 4, 0x79]));
      if (path === '/ping-frag') socket.write(Buffer.concat([frame(0x9, 'hb'), frame(0x1, 'hel', false), frame(0x0, 'lo')]));
    });
  });
  await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
  rawBase = `ws://127.0.0.1:${(raw.address() as AddressInfo).port}`;
});

after(async () => {
  await server.close();
  await new Promise<void>((resolve) => raw.close(() => resolve()));
});

const run = (def: ScenarioDefinition): Promise<RunResult> => runWs(def, 'websocket-fast.test.ts');

describe('WebSocket fast path (protocol: ws)', () => {
  it('sends each static request body as a message on the VU\'s socket and times it until the echo', async () => {
    seen.binary.length = 0;
    seen.headers.length = 0;
    seen.protocols.length = 0;
    const r = await run({
      protocol: 'ws',
      vus: 2,
      iterations: 10,
      headers: { 'x-test': 'yes', 'Sec-WebSocket-Protocol': 'chat' },
      requests: [
        { url: `${base}/echo`, body: 'hello' },
        { url: `${base}/echo`, body: Buffer.from([0xff, 0xfe, 0x00]), name: 'bytes' },
      ],
    });
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.equal(r.summary.requests, 20);
    assert.equal(r.summary.byName['WS /echo']!.requests, 10, Object.keys(r.summary.byName).join());
    assert.equal(r.summary.byName.bytes!.requests, 10);
    assert.ok(r.summary.byName['WS /echo']!.latency!.max > 0);
    // One connection per VU, reused by every message; closed with 1000 at the end.
    assert.deepEqual(r.summary.ws, { connections: 2, failedHandshakes: 0, messagesSent: 20, messagesReceived: 20, unanswered: 0, closeCodes: { '1000': 2 } });
    assert.equal(seen.headers.length, 2);
    assert.equal(seen.headers[0]!['x-test'], 'yes', 'scenario headers go on the upgrade request');
    assert.deepEqual(seen.protocols, ['chat', 'chat'], 'the subprotocol header is offered');
    assert.deepEqual([...new Set(seen.binary)].sort(), [false, true], 'UTF-8 bodies go as text, other bytes as binary');
  });

  it('runs quick mode on a ws:// URL', async () => {
    const plan = await quickPlan({ url: `${base}/echo`, vus: 2, duration: '1s', body: 'quick' }, { workers: 0 });
    assert.equal(plan.definition.protocol, 'ws');
    const r = await runLoad(plan, { workers: 0 });
    assert.equal(r.summary.errors, 0, JSON.stringify(r.summary.errorsByKind));
    assert.ok(r.summary.byName['WS /echo']!.requests > 10, `${r.summary.requests} messages in 1 s`);
    assert.equal(r.summary.ws!.connections, 2);
    assert.equal(r.summary.ws!.messagesReceived, r.summary.requests);
  });

  it('counts a refused upgrade by status, a refused connection, and a server close mid-exchange as reset before reconnecting', async () => {
    const refused = await run({ protocol: 'ws', vus: 1, iterations: 2, requests: [{ url: `${base}/deny`, body: 'x' }] });
    assert.equal(refused.summary.errorsByKind.http_4xx, 2, JSON.stringify(refused.summary.errorsByKind));
    assert.equal(refused.summary.ws!.failedHandshakes, 2);
    // A server that does not speak WebSocket answers 200: no upgrade, so every message fails.
    const plain = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const http = await run({ protocol: 'ws', vus: 1, iterations: 3, requests: [{ url: `ws://127.0.0.1:${(plain.address() as AddressInfo).port}/`, body: 'x' }] });
      assert.deepEqual(http.summary.errorsByKind, { protocol: 3 });
      assert.equal(http.summary.errors, 3);
      assert.equal(http.summary.ws!.failedHandshakes, 3);
    } finally {
      plain.close();
    }
    const down = await run({ protocol: 'ws', requests: [{ url: 'ws://127.0.0.1:1/', body: 'x' }] });
    assert.equal(down.summary.errorsByKind.connect_refused, 1, JSON.stringify(down.summary.errorsByKind));
    const closing = await run({ protocol: 'ws', vus: 1, iterations: 5, requests: [{ url: `${base}/close-after/3`, body: 'x' }] });
    assert.equal(closing.summary.requests, 5);
    assert.deepEqual(closing.summary.errorsByKind, { reset: 1 });
    assert.deepEqual(closing.summary.ws, { connections: 2, failedHandshakes: 0, messagesSent: 5, messagesReceived: 4, unanswered: 1, closeCodes: { '1000': 1, '4002': 1 } });
  });

  it('fails a message as protocol when the server breaks the framing (closed with 1002), and reconnects', async () => {
    const r = await run({ protocol: 'ws', vus: 1, iterations: 2, requests: [{ url: `${rawBase}/masked`, body: 'x' }] });
    assert.deepEqual(r.summary.errorsByKind, { protocol: 2 });
    assert.equal(r.summary.errors, 2);
    assert.deepEqual(r.summary.ws, { connections: 2, failedHandshakes: 0, messagesSent: 2, messagesReceived: 0, unanswered: 2, closeCodes: { '1002': 2 } });
  });

  it('refuses a ws:// URL without protocol ws, naming the fix', () => {
    assert.throws(
      () => resolvePlan({ vus: 1, duration: '1s', requests: [{ url: `${base}/echo` }] }, 'ws.ts'),
      (err: { code?: string; message: string }) => err.code === ErrorCodes.BAD_URL && /requests\.0\.url.*WebSocket URL "ws:\/\/127\.0\.0\.1:\d+\/echo" needs protocol: 'ws'/.test(err.message),
    );
  });
});

describe('ctx.ws on Redline\'s own client', () => {
  it('checks the handshake, answers pings, joins fragments, and closes with 1002 on a masked server frame', async () => {
    const results: WsResult[] = [];
    const messages: string[] = [];
    let protocol = '';
    const r = await run({
      exec: async (ctx: IterationContext) => {
        results.push(await ctx.ws.connect(`${rawBase}/bad-accept`, () => assert.fail('never opened')));
        results.push(await ctx.ws.connect(`${rawBase}/unoffered`, () => assert.fail('never opened')));
        results.push(
          await ctx.ws.connect(`${rawBase}/ping-frag`, async (socket) => {
            messages.push(String((await socket.next()).data));
          }),
        );
        results.push(await ctx.ws.connect(`${rawBase}/masked`, (socket) => socket.closed));
        results.push(
          await ctx.ws.connect(`${base}/echo`, { protocols: ['chat', 'other'] }, (socket) => {
            protocol = socket.protocol;
          }),
        );
      },
    });
    assert.equal(r.summary.iterationErrors, 0, JSON.stringify(r.summary));
    assert.equal(results[0]!.status, 0);
    assert.equal(results[0]!.error, 'protocol');
    assert.match(results[0]!.errorDetail!, /invalid Sec-WebSocket-Accept/);
    assert.equal(results[1]!.error, 'protocol');
    assert.match(results[1]!.errorDetail!, /subprotocol "nope", which was not offered/);
    assert.deepEqual(messages, ['hello'], 'two fragments make one message');
    assert.deepEqual(pongs, ['hb'], 'the ping was answered with its payload');
    assert.equal(results[3]!.close!.code, 1002);
    assert.match(results[3]!.close!.reason, /the server masked a frame/);
    assert.equal(protocol, 'chat');
    assert.equal(r.summary.errorsByKind.protocol, 2, JSON.stringify(r.summary.errorsByKind));
    assert.equal(r.summary.ws!.failedHandshakes, 2);
    assert.equal(r.summary.ws!.closeCodes['1002'], 1);
  });

  it('rejects a handshake header with a line break with its code', async () => {
    let error: { code?: string; message: string } | null = null;
    await run({
      exec: async (ctx: IterationContext) => {
        try {
          await ctx.ws.connect(`${base}/echo`, { headers: { 'x-evil': 'a\r\nInjected: 1' } }, () => undefined);
        } catch (err) {
          error = err as { code?: string; message: string };
        }
      },
    });
    const got = error as { code?: string; message: string } | null;
    assert.equal(got?.code, ErrorCodes.BAD_HEADER);
    assert.match(got.message, /header "x-evil" has an invalid value: it contains a line break/);
  });
});

import assert from 'node:assert/strict';
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { engineNow } from '../src/engine-clock.ts';
import { prepareRequest } from '../src/request.ts';
import { createHttp2Transport } from '../src/transports/http2.ts';
import type { Connection, Exchange } from '../src/transports/transport.ts';

/** Holds the thread for `ms` (the transport cannot write while it runs). */
function busyWait(ms: number): number {
  const end = engineNow() + ms;
  while (engineNow() < end);
  return engineNow();
}

let server: http2.Http2Server;
let url = '';
/** Engine time at which the server saw each request (same thread, same clock as the client). */
const arrivals: number[] = [];

before(async () => {
  server = http2.createServer();
  server.on('stream', (stream) => {
    arrivals.push(engineNow());
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

type Seen = Pick<Exchange, 'status' | 'error' | 'sentAt' | 'firstByteAt' | 'endedAt'> & { blockedUntil: number };

describe('HTTP/2 fast path: the send time of a request', () => {
  it('is the time its frames were written, not the time it was queued (inside and outside a read)', async () => {
    const transport = createHttp2Transport({ connections: 1, maxStreams: 10 });
    const req = prepareRequest({ url: '/' }, url, { version: 'h2' });
    const conn: Connection = transport.connect(req.origin, { keepResponse: false });
    const seen: Seen[] = [];
    let blockedUntil = 0;
    const record = (ex: Exchange): void => {
      seen.push({ status: ex.status, error: ex.error, sentAt: ex.sentAt, firstByteAt: ex.firstByteAt, endedAt: ex.endedAt, blockedUntil });
    };
    await new Promise<void>((resolve) => {
      // 1: queued before the connection is up; 2: queued while the response of 1 is read (the
      // write is deferred to a later loop turn); 3: queued from a timer (the write waits for a
      // microtask). Each time the thread is then held 30 ms before the write can happen.
      conn.exchange(req.payload, 'GET', (ex1) => {
        record(ex1);
        conn.exchange(req.payload, 'GET', (ex2) => {
          record(ex2);
          setTimeout(() => {
            conn.exchange(req.payload, 'GET', (ex3) => {
              record(ex3);
              resolve();
            });
            blockedUntil = busyWait(30);
          }, 5);
        });
        blockedUntil = busyWait(30);
      });
      blockedUntil = busyWait(30);
    });
    transport.close();
    assert.equal(seen.length, 3);
    assert.equal(arrivals.length, 3);
    seen.forEach((s, i) => {
      assert.equal(s.status, 200, `request ${i + 1}: ${String(s.error)}`);
      assert.ok(s.sentAt >= s.blockedUntil, `request ${i + 1}: sentAt ${s.sentAt.toFixed(3)} is before the write could happen (${s.blockedUntil.toFixed(3)})`);
      assert.ok(arrivals[i]! >= s.sentAt, `request ${i + 1}: the server saw it at ${arrivals[i]!.toFixed(3)}, before sentAt ${s.sentAt.toFixed(3)}`);
      assert.ok(s.firstByteAt >= s.sentAt && s.endedAt >= s.firstByteAt, `request ${i + 1}: ${JSON.stringify(s)}`);
    });
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistogram } from '@redline/core';
import { TimingRecorder } from '../src/timing-recorder.ts';
import type { Exchange } from '../src/transports/transport.ts';

function exchange(sentAt: number, firstByteAt: number, endedAt: number, phases?: Exchange['phases']): Exchange {
  return { status: 200, error: null, errorDetail: null, sentAt, firstByteAt, endedAt, connectMs: 0, bytesSent: 1, bytesReceived: 1, rawHeaders: null, body: null, ...(phases ? { phases } : {}) };
}

test('exchanges whose last byte came with the first count as 0 ms receiving, recorded in bulk, with every other phase as before', () => {
  const rec = new TimingRecorder();
  // 3 WebSocket-like replies (first byte = last byte) on a reused connection, one response that
  // took 4 ms to receive on a new connection, and one that got no byte (not recorded).
  for (let i = 0; i < 3; i++) rec.record(exchange(1000, 1002, 1002));
  rec.record(exchange(1000, 1010, 1014, { dnsMs: 0, tcpMs: 1, tlsMs: 0 }));
  rec.record(exchange(1000, 0, 1500));
  const snap = rec.snapshot();
  assert.ok(snap !== null);
  const receiving = LatencyHistogram.decode(snap.receiving);
  assert.equal(receiving.count, 4);
  assert.equal(receiving.percentileMs(50), 0.001, '0 ms records as the lowest value, 1 µs');
  assert.ok(Math.abs(receiving.maxMs - 4) < 0.01, `max ${receiving.maxMs}`);
  const waiting = LatencyHistogram.decode(snap.waiting);
  assert.equal(waiting.count, 4);
  assert.ok(Math.abs(waiting.percentileMs(50) - 2) < 0.01);
  assert.equal(LatencyHistogram.decode(snap.connect).count, 4);
  // The bulk counts were reset with the histograms.
  assert.equal(rec.snapshot(), null);
  rec.record(exchange(2000, 2001, 2001));
  assert.equal(LatencyHistogram.decode(rec.snapshot()!.receiving).count, 1);
});

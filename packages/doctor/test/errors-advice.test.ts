import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding, RunResult } from '@redline/core';
import { diagnose } from '../src/index.ts';
import { makeRunResult, point, sample, seconds } from './helpers/run-result.ts';

const N = 10;

/** A run whose every second fails 40 of 100 requests as `protocol`, with the summary's protocol sections from `summary`. */
function protocolErrors(summary: Partial<RunResult['summary']>): RunResult {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 100, 5, 40, { protocol: 40 })),
    samples: seconds(N, (t) => sample(t)),
    errorsByKind: { protocol: 400 },
  });
  Object.assign(r.summary, summary);
  return r;
}

function errorsFinding(r: RunResult): Finding {
  const f = diagnose(r).find((x) => x.category === 'errors');
  assert.ok(f !== undefined, 'an errors finding');
  assert.match(f.title, /\(protocol 400\)/);
  return f;
}

const ws = { connections: 0, failedHandshakes: 400, messagesSent: 0, messagesReceived: 0, unanswered: 0, closeCodes: {} };

test('protocol errors of a plain HTTP run: the advice speaks of HTTP/1.1 framing', () => {
  const f = errorsFinding(protocolErrors({}));
  assert.match(f.recommendation, /^The target sent responses that break HTTP\/1\.1 framing/);
});

test('protocol errors of a WebSocket run: the advice speaks of upgrades and frames, not of HTTP/1.1 framing', () => {
  const f = errorsFinding(protocolErrors({ ws }));
  assert.match(f.recommendation, /^WebSocket upgrades or frames broke RFC 6455/);
  assert.match(f.recommendation, /status other than 101, e\.g\. a 2xx\/3xx/);
  assert.match(f.recommendation, /1002\/1009/);
  assert.doesNotMatch(f.recommendation, /HTTP\/1\.1 framing|Content-Length|chunking/);
});

test('protocol errors of an HTTP/2 run and of a gRPC run each get their own advice', () => {
  const h2 = errorsFinding(protocolErrors({ http2: { connections: 4, goaways: 0, streamLimitWaits: 0, refusedStreams: 0 } }));
  assert.match(h2.recommendation, /^The target broke HTTP\/2 \(no h2 in ALPN/);
  assert.doesNotMatch(h2.recommendation, /HTTP\/1\.1 framing/);
  // gRPC runs speak HTTP/2 as well: the gRPC advice, not the HTTP/2 one.
  const grpc = errorsFinding(protocolErrors({ grpc: { calls: 600, byStatus: { OK: 600 } }, http2: { connections: 1, goaways: 0, streamLimitWaits: 0, refusedStreams: 0 } }));
  assert.match(grpc.recommendation, /^gRPC calls got answers that are not gRPC/);
  assert.doesNotMatch(grpc.recommendation, /HTTP\/1\.1 framing|The target broke HTTP\/2/);
});

test('a run that spoke gRPC and WebSocket gets both pieces of advice; other kinds keep theirs', () => {
  const both = errorsFinding(protocolErrors({ grpc: { calls: 600, byStatus: { OK: 600 } }, ws }));
  assert.match(both.recommendation, /^gRPC calls got answers that are not gRPC.* WebSocket upgrades or frames broke RFC 6455/);
  const resets = makeRunResult({ durationS: N, timeseries: seconds(N, (t) => point(t, 100, 5, 40, { reset: 40 })), samples: seconds(N, (t) => sample(t)), errorsByKind: { reset: 400 } });
  Object.assign(resets.summary, { ws });
  const f = diagnose(resets).find((x) => x.category === 'errors');
  assert.match(f!.recommendation, /^Connections were reset/);
});

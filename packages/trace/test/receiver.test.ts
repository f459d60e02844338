import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { context, trace, SpanKind, TraceFlags } from '@opentelemetry/api';
import { startReceiver, spansFromOtlpProto, OtlpDecodeError, type KeptRecord, type TraceReceiver } from '@redline/trace';

const TAG = 'c0ffee00';
const receivers: TraceReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.close();
});

async function receiver(opts: Partial<Parameters<typeof startReceiver>[0]> = {}): Promise<TraceReceiver> {
  const r = await startReceiver({ runTag: TAG, ...opts });
  receivers.push(r);
  return r;
}

function post(url: string, body: Buffer | string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Emits one server span with a child db span under a remote parent from the "generator", through a real OTel exporter. */
async function emit(exporter: ProtoExporter | JsonExporter, traceId: string): Promise<void> {
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  const tracer = provider.getTracer('redline-test', '1.2.3');
  const parent = trace.setSpanContext(context.active(), { traceId, spanId: '1000000000000001', traceFlags: TraceFlags.SAMPLED, isRemote: true });
  const server = tracer.startSpan('GET /orders', { kind: SpanKind.SERVER, attributes: { 'http.route': '/orders' } }, parent);
  const child = tracer.startSpan('pg.query:SELECT', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.statement': 'SELECT * FROM orders WHERE id = $1', 'server.port': 5432 } }, trace.setSpan(parent, server));
  child.end();
  server.end();
  await provider.forceFlush();
  await provider.shutdown();
}

function rec(traceId: string, reason: KeptRecord['reason'] = 'tail', latencyMs = 10): KeptRecord {
  return { traceId, name: 'GET /orders', latencyMs, sentAtMs: 0, endAtMs: latencyMs, delayMs: 0, status: 200, reason };
}

test('protobuf bodies from @opentelemetry/exporter-trace-otlp-proto decode into spans with ids, times, kinds and attributes', async () => {
  const r = await receiver();
  const traceId = `${TAG}${'0'.repeat(23)}1`;
  r.addRecords([rec(traceId)]);
  await emit(new ProtoExporter({ url: r.url }), traceId);
  const { spans, records } = r.kept();
  assert.equal(records.length, 1);
  assert.equal(spans.length, 2);
  const server = spans.find((s) => s.kind === 2)!;
  const db = spans.find((s) => s.kind === 3)!;
  assert.equal(server.traceId, traceId);
  assert.equal(server.parentSpanId, '1000000000000001');
  assert.equal(db.parentSpanId, server.spanId);
  assert.equal(db.attributes['db.statement'], 'SELECT * FROM orders WHERE id = $1');
  assert.equal(db.attributes['server.port'], 5432);
  assert.equal(server.scope, 'redline-test');
  assert.ok(Math.abs(server.startMs - Date.now()) < 60_000);
  assert.ok(server.endMs >= server.startMs);
  assert.equal(r.stats().payloads, 1);
});

test('JSON bodies from @opentelemetry/exporter-trace-otlp-http are accepted too, also before the verdict arrives', async () => {
  const r = await receiver();
  const traceId = `${TAG}${'0'.repeat(23)}2`;
  await emit(new JsonExporter({ url: r.url }), traceId);
  assert.equal(r.kept().spans.length, 0);
  r.addRecords([rec(traceId, 'baseline')]);
  const { spans } = r.kept();
  assert.equal(spans.length, 2);
  assert.equal(spans.find((s) => s.kind === 3)?.attributes['db.system'], 'postgresql');
});

test('spans of requests that are not kept are dropped after their TTL; memory stays bounded by maxPendingSpans', async () => {
  let now = 1000;
  const r = await receiver({ maxPendingSpans: 10, pendingTtlMs: 5000, now: () => now });
  const protoBody = (i: number): string =>
    JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: `${TAG}${i.toString(16).padStart(24, '0')}`, spanId: '00000000000000aa', name: 's', kind: 2, startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }] });
  for (let i = 0; i < 25; i++) assert.equal((await post(r.url, protoBody(i), { 'content-type': 'application/json' })).status, 200);
  assert.equal(r.stats().spansDropped, 15);
  now += 6000;
  r.ingest([]);
  assert.equal(r.stats().spansDropped, 25);
  assert.equal(r.stats().spansReceived, 25);
});

test('the tail keeps the slowest requests when full; the baseline stays a bounded sample', async () => {
  const r = await receiver({ maxTailPerName: 3, maxBaselinePerName: 2 });
  const id = (i: number): string => `${TAG}${i.toString(16).padStart(24, '0')}`;
  r.addRecords([10, 50, 20, 40, 30].map((l, i) => rec(id(i), 'tail', l)));
  r.addRecords([1, 2, 3, 4, 5].map((l, i) => rec(id(100 + i), 'baseline', l)));
  const kept = r.kept().records;
  assert.deepEqual(kept.filter((k) => k.reason === 'tail').map((k) => k.latencyMs).sort((a, b) => a - b), [30, 40, 50]);
  assert.equal(kept.filter((k) => k.reason === 'baseline').length, 2);
});

test('bad payloads are refused with a status and counted; the receiver keeps serving', async () => {
  const r = await receiver({ maxBodyBytes: 1024 });
  assert.equal((await post(r.url, 'not json', { 'content-type': 'application/json' })).status, 400);
  assert.equal((await post(r.url, '{"foo":1}', { 'content-type': 'application/json' })).status, 400);
  assert.equal((await post(r.url, Buffer.from([0x0a, 0xff, 0xff, 0xff]), { 'content-type': 'application/x-protobuf' })).status, 400);
  assert.equal((await post(r.url, Buffer.from('garbage'), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status, 400);
  assert.equal((await post(r.url, 'x'.repeat(2000), { 'content-type': 'application/json' })).status, 413);
  assert.equal((await post(r.url, gzipSync(Buffer.from('{"resourceSpans":[]}'.padEnd(5000, ' '))), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status, 413);
  assert.equal((await post(r.url.replace('/v1/traces', '/v1/metrics'), '{}', { 'content-type': 'application/json' })).status, 404);
  assert.equal((await post(r.url, '{}', { 'content-type': 'text/plain' })).status, 415);
  const foreign = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: 'ab'.repeat(16), spanId: '00000000000000aa', name: 's', startTimeUnixNano: '1', endTimeUnixNano: '2' }] }] }] });
  const res = await post(r.url, foreign, { 'content-type': 'application/json' });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), { partialSuccess: { rejectedSpans: '1', errorMessage: '1 span(s) of traces this run did not send' } });
  assert.deepEqual(r.stats().rejected, { garbage: 4, oversized: 2, unknownTraceSpans: 1, unsupported: 2 });
  const traceId = `${TAG}${'0'.repeat(23)}9`;
  r.addRecords([rec(traceId)]);
  await emit(new ProtoExporter({ url: r.url }), traceId);
  assert.equal(r.kept().spans.length, 2);
});

test('the protobuf decoder refuses truncated and malformed messages with OtlpDecodeError', () => {
  assert.throws(() => spansFromOtlpProto(Uint8Array.from([0x0a, 0x05, 0x12])), OtlpDecodeError);
  assert.throws(() => spansFromOtlpProto(Uint8Array.from([0x0b])), /unsupported wire type/);
  // A span (resource_spans → scope_spans → span) without ids.
  assert.throws(() => spansFromOtlpProto(Uint8Array.from([0x0a, 0x06, 0x12, 0x04, 0x12, 0x02, 0x2a, 0x00])), /trace_id/);
  assert.deepEqual(spansFromOtlpProto(new Uint8Array(0)), []);
});

test('startReceiver validates its options', async () => {
  await assert.rejects(startReceiver({ runTag: 'xyz' }), { code: 'REDLINE_ERR_INVALID_ARGUMENT', message: /runTag must be 8 lower-case hex digits/ });
  await assert.rejects(startReceiver({ runTag: null, host: '0.0.0.0' }), { code: 'REDLINE_ERR_INVALID_ARGUMENT', message: /host must be a loopback address/ });
  await assert.rejects(startReceiver({ runTag: null, maxBodyBytes: 0 }), { code: 'REDLINE_ERR_INVALID_ARGUMENT', message: /maxBodyBytes must be an integer/ });
});

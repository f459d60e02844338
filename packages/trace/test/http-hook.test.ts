// Redline's own HTTP instrumentation (http-hook.cts) and its reference-counted context manager: a
// real service with the preload, a real OTLP/protobuf export to a loopback endpoint.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import * as api from '@opentelemetry/api';
import { spansFromOtlpProto, TRACE_REGISTER_CJS, type Span } from '@redline/trace';
import { createContextManager } from '../src/context-manager.cjs';
import { sampledParent } from '../src/http-hook.cjs';

const SERVICE = fileURLToPath(new URL('./fixtures/http-hook-service.mjs', import.meta.url));
const TRACE = 'c0ffee00000000000000000000000001';
const spans: Span[] = [];
const cleanup: Array<() => void> = [];
after(() => cleanup.forEach((f) => f()));

async function otlpEndpoint(): Promise<string> {
  const srv: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      spans.push(...spansFromOtlpProto(Buffer.concat(chunks)));
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup.push(() => srv.close());
  return `http://127.0.0.1:${(srv.address() as AddressInfo).port}/v1/traces`;
}

async function service(endpoint: string): Promise<number> {
  const child: ChildProcess = spawn(process.execPath, ['--require', TRACE_REGISTER_CJS, SERVICE], { env: { ...process.env, REDLINE_TRACE_ENDPOINT: endpoint }, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.push(() => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`service exited with ${code}`)));
  });
}

function fetchJson(port: number, traceparent: string): Promise<{ traceparent: string | null }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/front', headers: { traceparent } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(JSON.parse(body) as { traceparent: string | null }));
    }).on('error', reject);
  });
}

test('a sampled request gets a server span, its downstream call a client span and a traceparent; an unsampled one gets nothing', async () => {
  const port = await service(await otlpEndpoint());
  const unsampled = await fetchJson(port, `00-c0ffee00000000000000000000000002-1000000000000001-00`);
  assert.equal(unsampled.traceparent, null, 'no header is added under an unsampled request');
  const sampled = await fetchJson(port, `00-${TRACE}-1000000000000001-01`);
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(sampled.traceparent ?? '');
  assert.ok(m, `downstream traceparent ${sampled.traceparent}`);
  assert.equal(m[1], TRACE);
  // The exporter batches every 200 ms.
  for (let i = 0; i < 100 && spans.filter((s) => s.traceId === TRACE).length < 3; i++) await new Promise((r) => setTimeout(r, 50));
  const mine = spans.filter((s) => s.traceId === TRACE);
  const front = mine.find((s) => s.kind === 2 && s.attributes['url.path'] === '/front');
  const client = mine.find((s) => s.kind === 3);
  const back = mine.find((s) => s.kind === 2 && s.attributes['url.path'] === '/back/42');
  assert.ok(front && client && back, JSON.stringify(mine.map((s) => [s.name, s.kind, s.attributes])));
  assert.equal(front.parentSpanId, '1000000000000001');
  assert.equal(front.attributes['http.request.method'], 'GET');
  assert.equal(front.attributes['http.response.status_code'], 200);
  assert.equal(client.parentSpanId, front.spanId, 'the downstream call runs in the request span context');
  assert.equal(client.spanId, m[2], 'the downstream header names the client span');
  assert.equal(client.attributes['url.full'], `http://127.0.0.1:${port}/back/42?x=1`);
  assert.equal(back.parentSpanId, client.spanId);
  assert.ok(client.startMs >= front.startMs && client.endMs <= front.endMs + 1);
  assert.equal(spans.filter((s) => s.traceId === 'c0ffee00000000000000000000000002').length, 0);
});

test('sampledParent reads only a well-formed header with the sampled bit', () => {
  assert.deepEqual(sampledParent(`00-${TRACE}-1000000000000001-01`), { traceId: TRACE, spanId: '1000000000000001' });
  assert.ok(sampledParent(`00-${TRACE}-1000000000000001-0f`));
  assert.ok(sampledParent(`00-${TRACE}-1000000000000001-0B`));
  assert.equal(sampledParent(`00-${TRACE}-1000000000000001-00`), undefined);
  assert.equal(sampledParent(`00-${TRACE}-1000000000000001-02`), undefined);
  assert.equal(sampledParent(`00-${TRACE}-1000000000000001`), undefined);
  assert.equal(sampledParent(undefined), undefined);
  assert.equal(sampledParent(['a']), undefined);
});

test('the context manager propagates across awaits only while a sampled request is retained', async () => {
  const cm = createContextManager(api).enable();
  const key = api.createContextKey('k');
  const ctx = api.ROOT_CONTEXT.setValue(key, 'v');
  // Nothing retained: the callback runs without the storage (nothing records then).
  assert.equal(cm.with(ctx, () => cm.active().getValue(key)), undefined);
  cm.retain();
  const seen = await cm.with(ctx, async () => {
    await new Promise((r) => setTimeout(r, 5));
    await null;
    return cm.active().getValue(key);
  });
  assert.equal(seen, 'v');
  assert.equal(cm.retained, 1);
  cm.release();
  assert.equal(cm.retained, 0);
  assert.equal(cm.active(), api.ROOT_CONTEXT);
  cm.release();
  assert.equal(cm.retained, 0, 'never below zero');
  // Retained again: the storage comes back on.
  cm.retain();
  assert.equal(await cm.with(ctx, async () => (await null, cm.active().getValue(key))), 'v');
  cm.release();
  cm.disable();
});

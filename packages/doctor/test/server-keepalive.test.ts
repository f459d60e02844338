// The server-keepalive rule: a target HTTP server whose keepAliveTimeout is shorter than a load
// balancer's idle timeout. One real run gives the load numbers; the probe's readings
// (`target.servers`) are set per case, as the probe records them.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { RunResult, ServerSettings } from '@redline/core';
import { checkRunResult } from '../../core/src/result-schema.ts';
import { diagnose } from '@redline/doctor';
import { resolvePlan, runLoad } from '@redline/load';

let server: Server;
let base: RunResult;
before(async () => {
  server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  base = await runLoad(resolvePlan({ baseUrl: url, executor: 'per-vu-iterations', vus: 1, iterations: 20, requests: [{ url: '/' }] }, 'server-keepalive.test.ts'), { workers: 1 });
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const http = (over: Partial<ServerSettings> = {}): ServerSettings => ({
  kind: 'http',
  thread: 'main',
  address: '127.0.0.1',
  port: 8080,
  listening: true,
  keepAliveTimeoutMs: 5000,
  headersTimeoutMs: 60_000,
  requestTimeoutMs: 300_000,
  maxRequestsPerSocket: 0,
  timeoutMs: 0,
  ...over,
});

function withServers(servers: ServerSettings[]): RunResult {
  return { ...base, target: { command: 'node server.js', attach: null, pid: 1, samples: [], exit: null, profiles: {}, profileWindow: null, servers } };
}

const keepalive = (servers: ServerSettings[]) => diagnose(withServers(servers)).find((f) => f.category === 'server-keepalive');

test("Node's default keepAliveTimeout (5 s) behind a 60 s load balancer: a low finding with the numbers", () => {
  const r = withServers([http()]);
  assert.equal(checkRunResult(JSON.parse(JSON.stringify(r))).ok, true, 'target.servers matches the result schema');
  const f = keepalive([http()]);
  assert.ok(f);
  assert.equal(f.severity, 'low');
  assert.equal(
    f.title,
    "Server keep-alive: the http server on port 8080 closes idle connections after 5 s (Node's default) (keepAliveTimeout), shorter than a load balancer's idle timeout (AWS ALB 60 s, nginx upstream keepalive_timeout 60 s, GCP 600 s): behind one, expect intermittent 502s",
  );
  assert.deepEqual(f.evidence, [{ metric: 'target.server.keep_alive_timeout', value: 5000, threshold: 60_000, comparison: '<', unit: 'ms' }]);
  assert.match(f.recommendation, /keepAliveTimeout above the balancer's idle timeout — 65_000 behind AWS ALB or nginx, 620_000 behind GCP/);
  assert.match(f.recommendation, /after 5 s; headersTimeout 60 s/);
  // A healthy run stays a healthy run: the advice ranks below nothing that matters and no-problem is still there.
  const all = diagnose(r);
  assert.ok(all.some((x) => x.category === 'no-problem'), all.map((x) => x.category).join(', '));
});

test('the shortest of several servers is named, with how many more; https and worker threads are said', () => {
  const f = keepalive([http({ keepAliveTimeoutMs: 30_000, port: 80 }), http({ kind: 'https', port: 8443, keepAliveTimeoutMs: 4000, thread: 'worker-1' }), http({ keepAliveTimeoutMs: 61_000, port: 81 })]);
  assert.ok(f);
  assert.match(f.title, /^Server keep-alive: the https server on port 8443 \(worker-1\) \(and 1 more server\) closes idle connections after 4 s \(keepAliveTimeout\)/);
  assert.equal(f.evidence[0]?.value, 4000);
});

test('no finding: keepAliveTimeout at or above 60 s, 0 (no timeout), HTTP/2 servers, no servers recorded', () => {
  assert.equal(keepalive([http({ keepAliveTimeoutMs: 65_000 })]), undefined);
  assert.equal(keepalive([http({ keepAliveTimeoutMs: 60_000 })]), undefined);
  assert.equal(keepalive([http({ keepAliveTimeoutMs: 0 })]), undefined);
  assert.equal(keepalive([http({ kind: 'http2-secure', keepAliveTimeoutMs: null, headersTimeoutMs: null, requestTimeoutMs: null, maxRequestsPerSocket: null })]), undefined);
  assert.equal(keepalive([]), undefined);
  assert.equal(diagnose(base).find((f) => f.category === 'server-keepalive'), undefined, 'an unprobed run');
});

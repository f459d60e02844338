import type { TimeseriesPoint } from '@redline/core';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

let silent: net.Server;
let silentUrl: string;
let closedUrl: string;
const cwds: string[] = [];
const held = new Set<net.Socket>();
before(async () => {
  silent = net.createServer((s) => {
    held.add(s);
    s.on('error', () => undefined);
    s.on('close', () => held.delete(s));
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `http://127.0.0.1:${(silent.address() as net.AddressInfo).port}/`;
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  closedUrl = `http://127.0.0.1:${(probe.address() as net.AddressInfo).port}/`;
  await new Promise<void>((r) => probe.close(() => r()));
});
after(async () => {
  for (const s of held) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
  for (const d of cwds) await rm(d, { recursive: true, force: true });
});

async function runCli(argv: string[]): Promise<{ code: number; stderr: string; stdout: string; cwd: string }> {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-cli-nr-'));
  cwds.push(cwd);
  const io = fakeIo(argv, cwd);
  const code = await main(io);
  return { code, stderr: io.stderrText(), stdout: io.stdoutText(), cwd };
}

async function onlyRunDir(cwd: string): Promise<string> {
  const runs = await readdir(join(cwd, '.redline', 'runs'));
  assert.equal(runs.length, 1);
  return join(cwd, '.redline', 'runs', runs[0]!);
}

test('a server that accepts and never answers fails the run: exit 1, REDLINE_ERR_NO_RESPONSES, thresholds notwithstanding', async () => {
  const r = await runCli(['run', '--url', silentUrl, '--vus', '2', '--duration', '1s', '--timeout', '300ms', '--threshold', 'http.latency=p(99)<100000', '--workers', '1']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^redline: REDLINE_ERR_NO_RESPONSES: no request got a response: all \d+ failed \(timeout \d+\), so the run measured nothing about the target\n$/);
});

test('100 % connect_refused: exit 1, and no percentiles in the terminal summary, result.json or the report', async () => {
  const r = await runCli(['run', '--url', closedUrl, '--vus', '1', '--duration', '1s', '--workers', '0']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /REDLINE_ERR_NO_RESPONSES: no request got a response: all \d+ failed \(connect_refused \d+\)/);
  assert.match(r.stdout, /http\.latency \.*: no responses, no percentiles/);
  assert.match(r.stdout, /http\.service_time \.*: no responses, no percentiles/);
  assert.doesNotMatch(r.stdout, /p50=0\.00ms/);
  const runDir = await onlyRunDir(r.cwd);
  const result = JSON.parse(await readFile(join(runDir, 'result.json'), 'utf8')) as { summary: Record<string, unknown> };
  assert.equal('latency' in result.summary, false);
  const html = await readFile(join(runDir, 'report.html'), 'utf8');
  assert.match(html, /No request got a response, so there is no latency to show/);
  assert.doesNotMatch(html, /<div class="value">0\.000 ms<\/div>/);
});

test('a header value with CR/LF exits 2 before any load, naming the header', async () => {
  const r = await runCli(['run', '--url', closedUrl, '--vus', '1', '--duration', '1s', '--header', 'X-Token: a\r\nX-Injected: 1']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, 'redline: invalid --header: header "X-Token" has an invalid value: it contains a line break (CR/LF)\n');
  await assert.rejects(readdir(join(r.cwd, '.redline')), { code: 'ENOENT' });
});

test('the live line shows no p99 for a second in which nothing was timed', async () => {
  const { renderLiveLine } = await import('../src/output/summary.js');
  const point = (requests: number, errorsByKind: Record<string, number>): TimeseriesPoint => ({
    t: 1,
    requests,
    errors: Object.values(errorsByKind).reduce((a, b) => a + b, 0),
    errorsByKind,
    // Nothing was timed in this second: the aggregate records no latency (null), not 0 ms.
    latency: null,
    serviceTime: null,
    iterations: requests,
    iterationsDropped: 0,
    vus: 1,
    intendedRate: null,
    scheduleLagMs: { p50: 0, p99: 0, max: 0 },
  });
  const line = (p: ReturnType<typeof point>): string => renderLiveLine({ elapsedMs: 1000, plannedMs: 2000, point: p, totalRequests: p.requests, totalErrors: p.errors });
  assert.match(line(point(40, { connect_refused: 40 })), / {2}40\/s {2}p99 - {2}errors 100/);
  assert.match(line(point(0, {})), / {2}0\/s {2}p99 - {2}/);
  assert.match(line({ ...point(3, { timeout: 3 }), latency: { p50: 300, p90: 300, p99: 300, max: 300 } }), /p99 300ms/);
});

test('a worker thread that dies fails the run with exit 1 and one line naming the worker and the cause', async () => {
  const fixture = new URL('../../load/test/fixtures/worker-crash.mjs', import.meta.url).pathname;
  const r = await runCli(['run', fixture, '--workers', '1']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^redline: the load generator failed: worker 0 failed: boom in worker; its share of the load was lost after \d+ requests, so the run has no result\n$/);
});

test('a server that sends a negative chunk size: the run goes on, ends on time, Ctrl-C works, even on --workers 0', async () => {
  const { startRawServer } = await import('../../load/test/fixtures/raw-server.ts');
  const raw = await startRawServer({ '/': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n' });
  try {
    const r = await runCli(['run', '--url', `${raw.url}/`, '--vus', '2', '--duration', '1s', '--workers', '0', '--json']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /REDLINE_ERR_NO_RESPONSES: no request got a response: all \d+ failed \(protocol \d+\)/);
    const cwd = await mkdtemp(join(tmpdir(), 'redline-cli-nr-'));
    cwds.push(cwd);
    const io = fakeIo(['run', '--url', `${raw.url}/`, '--vus', '2', '--duration', '60s', '--workers', '0'], cwd);
    const t0 = Date.now();
    const running = main(io);
    setTimeout(() => io.raise('SIGINT'), 700);
    assert.equal(await running, 130, io.stderrText());
    assert.ok(Date.now() - t0 < 10_000, `Ctrl-C took ${Date.now() - t0} ms`);
    assert.match(io.stdoutText(), /protocol=\d+/);
  } finally {
    await raw.close();
  }
});

// Prometheus remote-write against a real Prometheus from Debian: native histograms where the server
// takes them, classic buckets where it refuses them, and a server that rejects every write.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LatencyHistogram, type RunResult } from '@redline/core';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';
import { startServer } from './helpers/server.js';

interface Prom {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Starts `prometheus` on a free loopback port with its own TSDB directory; waits until it is ready. */
async function startPrometheus(flags: string[]): Promise<Prom> {
  const dir = await mkdtemp(join(tmpdir(), 'redline-prom-'));
  await writeFile(join(dir, 'prometheus.yml'), 'global: {}\n');
  const port = await freePort();
  const child: ChildProcess = spawn('prometheus', [...flags, `--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`prometheus exited: ${log}`);
    const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`prometheus not ready after 30 s: ${log}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function query(prom: Prom, q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> {
  const res = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { status: string; data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
  assert.equal(body.status, 'success', JSON.stringify(body));
  return body.data.result;
}

let target: Awaited<ReturnType<typeof startServer>>;
let native: Prom;
let classic: Prom;
let rejecting: Prom;
before(async () => {
  target = await startServer(2);
  [native, classic, rejecting] = await Promise.all([
    startPrometheus(['--web.enable-remote-write-receiver', '--enable-feature=native-histograms']),
    startPrometheus(['--web.enable-remote-write-receiver']),
    // Without the receiver flag, Prometheus answers every remote write with 404.
    startPrometheus([]),
  ]);
});
after(async () => {
  await target.close();
  await Promise.all([native, classic, rejecting].filter(Boolean).map((p) => p.stop()));
});

async function runWith(prom: Prom, name: string, extra: string[] = []): Promise<{ code: number; stderr: string; result: RunResult }> {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-prom-run-'));
  const io = fakeIo(['run', '--url', target.url, '--rate', '50', '--duration', '3s', '--workers', '1', '--no-report', '--name', name, '--out', join(cwd, 'run'), '--output', `prometheus=${prom.url}/api/v1/write`, ...extra], cwd);
  const code = await main(io);
  const result = JSON.parse(await readFile(join(cwd, 'run', 'result.json'), 'utf8')) as RunResult;
  return { code, stderr: io.stderrText(), result };
}

test('remote write with native histograms: Prometheus reads back the run total and a p99 from the buckets', async () => {
  const { code, stderr, result } = await runWith(native, 'prom-native');
  assert.equal(code, 0, stderr);
  assert.equal(result.warnings?.filter((w) => w.startsWith('output ')).length ?? 0, 0, String(result.warnings));
  const sel = '{job="redline",name="prom-native"}';
  const requests = await query(native, `redline_http_requests_total${sel}`);
  assert.equal(requests.length, 1);
  assert.equal(Number(requests[0]!.value[1]), result.summary.requests);
  assert.ok(requests[0]!.metric.run_id?.startsWith('prom-native-'), JSON.stringify(requests[0]!.metric));
  const timed = LatencyHistogram.decode(result.histograms.latency);
  const count = await query(native, `histogram_count(redline_http_latency_seconds${sel})`);
  assert.equal(Number(count[0]!.value[1]), timed.count);
  // Percentiles from native buckets: within a bucket width (about 9 % at schema 3) of the HDR value.
  const p99 = Number((await query(native, `histogram_quantile(0.99, redline_http_latency_seconds${sel})`))[0]!.value[1]) * 1000;
  const hdrP99 = timed.percentileMs(99);
  assert.ok(Math.abs(p99 - hdrP99) <= hdrP99 * 0.1 + 0.05, `Prometheus p99 ${p99} ms, HDR p99 ${hdrP99} ms`);
  // One series per metric: no classic buckets next to the native histogram.
  assert.equal((await query(native, `redline_http_latency_seconds_bucket${sel}`)).length, 0);
});

test('a Prometheus without native histograms refuses them: the output falls back to classic buckets', async () => {
  const { code, stderr, result } = await runWith(classic, 'prom-classic');
  assert.equal(code, 0, stderr);
  const sel = '{job="redline",name="prom-classic"}';
  const timed = LatencyHistogram.decode(result.histograms.latency);
  assert.equal(Number((await query(classic, `redline_http_latency_seconds_count${sel}`))[0]!.value[1]), timed.count);
  const inf = await query(classic, `redline_http_latency_seconds_bucket{job="redline",name="prom-classic",le="+Inf"}`);
  assert.equal(Number(inf[0]!.value[1]), timed.count);
  assert.equal(Number((await query(classic, `redline_http_requests_total${sel}`))[0]!.value[1]), result.summary.requests);
  // The first refused write was sent again as classic: nothing was lost, nothing counted as failed.
  assert.equal(result.warnings?.filter((w) => w.startsWith('output ')).length ?? 0, 0, String(result.warnings));
});

test('a Prometheus that rejects every write: the failures are counted and reported, the run goes on (exit 0)', async () => {
  const { code, stderr, result } = await runWith(rejecting, 'prom-rejected');
  assert.equal(code, 0, stderr);
  assert.ok(result.summary.requests >= 100, `requests ${result.summary.requests}`);
  const n = result.timeseries.length;
  const warning = result.warnings?.find((w) => w.startsWith(`output prometheus=${rejecting.url}/api/v1/write`));
  assert.ok(warning, String(result.warnings));
  assert.match(warning, new RegExp(`: ${n} of ${n} writes failed \\(last: HTTP 404`));
  assert.match(stderr, /output prometheus=.*: write failed \(HTTP 404.*\); the run goes on, failures are counted/);
  // The end of the run is no write for remote write: the terminal's count after the end is the same
  // (it read "N of N+1 writes failed" when the end was charged as a write).
  assert.match(stderr, new RegExp(`output prometheus=.*: ${n} of ${n} writes failed \\(last: HTTP 404`));
});

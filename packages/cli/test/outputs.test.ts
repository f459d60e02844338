import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LatencyHistogram, type RunResult } from '@redline/core';
import { main } from '../src/main.js';
import { snappyCompress, snappyDecompress } from '../src/outputs/snappy.js';
import { ProtoWriter } from '../src/outputs/protobuf.js';
import { NativeHistogram } from '../src/outputs/native-histogram.js';
import { hdrBuckets, walkHdr } from '../src/outputs/hdr-buckets.js';
import { OutputSet } from '../src/outputs/output-set.js';
import { CSV_COLUMNS } from '../src/outputs/csv.js';
import type { Output } from '../src/outputs/types.js';
import { fakeIo } from './helpers/fake-io.js';
import { startServer } from './helpers/server.js';

let server: Awaited<ReturnType<typeof startServer>>;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.close();
});

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; cwd: string }> {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-outputs-'));
  const io = fakeIo(argv.map((a) => a.replaceAll('{cwd}', cwd)), cwd, env);
  const code = await main(io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText(), cwd };
}

test('snappy: blocks round-trip, repetitive data shrinks, and a known block decodes', () => {
  const text = new TextEncoder().encode('redline_http_requests_total{job="redline"} '.repeat(200));
  const packed = snappyCompress(text);
  assert.ok(packed.length < text.length / 5, `compressed ${packed.length} of ${text.length}`);
  assert.deepEqual(snappyDecompress(packed), text);
  let seed = 7;
  const random = Uint8Array.from({ length: 70_000 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff);
  assert.deepEqual(snappyDecompress(snappyCompress(random)), random);
  assert.deepEqual(snappyDecompress(snappyCompress(new Uint8Array(0))), new Uint8Array(0));
  // "aaaa…" (20 bytes) as the reference encoder writes it: length 20, literal "a", copy offset 1 length 19.
  assert.deepEqual(snappyDecompress(Uint8Array.from([20, 0, 97, 0x4a, 1, 0])), new TextEncoder().encode('a'.repeat(20)));
  assert.throws(() => snappyDecompress(Uint8Array.from([5, 0, 97])), /snappy/);
});

test('protobuf writer: varints, zigzag, doubles and nested messages as the wire format has them', () => {
  assert.deepEqual([...new ProtoWriter().uint(1, 150).finish()], [0x08, 0x96, 0x01]);
  assert.deepEqual([...new ProtoWriter().sint(4, -2).finish()], [0x20, 0x03]);
  assert.deepEqual([...new ProtoWriter().string(2, 'hi').finish()], [0x12, 2, 104, 105]);
  assert.deepEqual([...new ProtoWriter().double(1, 1).finish()], [0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]);
  assert.deepEqual([...new ProtoWriter().message(1, new ProtoWriter().uint(1, 1)).finish()], [0x0a, 2, 0x08, 1]);
  assert.deepEqual([...new ProtoWriter().packedSint(12, [1, -1, 0]).finish()], [0x62, 3, 2, 1, 0]);
  // Past 32 bits (numbers, not BigInt), negatives as 64-bit two's complement, zigzag of large values.
  assert.deepEqual([...new ProtoWriter().uint(1, 2 ** 35 + 1).finish()], [0x08, 0x81, 0x80, 0x80, 0x80, 0x80, 0x01]);
  assert.deepEqual([...new ProtoWriter().uint(1, -1).finish()], [0x08, ...Array<number>(9).fill(0xff), 0x01]);
  assert.deepEqual([...new ProtoWriter().sint(1, -(2 ** 33)).finish()], [0x08, 0xff, 0xff, 0xff, 0xff, 0x3f]);
  // A writer grows past its first buffer; append() adds bytes encoded earlier.
  const long = 'x'.repeat(300);
  const w = new ProtoWriter().string(1, long);
  assert.deepEqual([...new ProtoWriter().append(w.finish()).finish()], [0x0a, 0xac, 0x02, ...Array<number>(300).fill(120)]);
});

test('one walk of a second feeds a native histogram exactly as its buckets one by one do (lookups cached per HDR index)', () => {
  const hdr = new LatencyHistogram();
  // A spread like a busy second's: thousands of distinct buckets from 0.2 ms to 3 s.
  let x = 1;
  for (let i = 0; i < 20_000; i++) {
    x = (x * 48271) % 2147483647;
    hdr.recordMs(0.2 + (x / 2147483647) ** 4 * 3000);
  }
  const walk = walkHdr(hdr);
  assert.ok(walk.length > 2000, `${walk.length} buckets`);
  assert.deepEqual(Array.from({ length: walk.length }, (_, k) => [walk.us[k]! / 1000, walk.count[k]!]), hdr.buckets());
  for (let round = 0; round < 2; round++) {
    // The second round reads the lookups cached by the first.
    const a = new NativeHistogram();
    const b = new NativeHistogram();
    a.addBuckets(hdrBuckets(hdr));
    b.addWalk(walkHdr(hdr));
    assert.deepEqual([b.count, b.sum, b.zeroCount], [a.count, a.sum, a.zeroCount]);
    assert.deepEqual([...b.buckets].sort((p, q) => p[0] - q[0]), [...a.buckets].sort((p, q) => p[0] - q[0]));
  }
  assert.equal(walkHdr(new LatencyHistogram()).length, 0);
});

test('native histogram: schema-3 bucket bounds hold each value; spans and counts add up to the count', () => {
  const h = new NativeHistogram();
  for (const v of [0.001, 0.0011, 0.002, 0.25, 0.5, 1, 3]) {
    const i = h.index(v);
    assert.ok(v <= h.upperBound(i) * (1 + 1e-9) && v > h.upperBound(i - 1), `value ${v} in bucket ${i}`);
  }
  assert.equal(h.index(1), 0);
  assert.equal(h.index(2), 8);
  const hdr = new LatencyHistogram();
  for (let i = 1; i <= 1000; i++) hdr.recordMs(i);
  // The direct walk of the counts gives what the library's iterator gives.
  assert.deepEqual(hdrBuckets(hdr), hdr.buckets());
  h.addHdr(hdr);
  assert.equal(h.count, 1000);
  const { spans, counts } = h.spans();
  assert.equal(counts.reduce((a, b) => a + b, 0) + h.zeroCount, 1000);
  assert.equal(spans.reduce((a, s) => a + s.length, 0), counts.length);
  assert.ok(Math.abs(h.sum - 500.5) / 500.5 < 0.01, `sum ${h.sum}`);
});

test('bad --output values and an --out that looks like an output are usage errors (exit 2) naming the fix', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--output', 'influx=http://x'], /invalid --output "influx=http:\/\/x": unknown output "influx", expected one of json, csv, prometheus, otlp as NAME=ARG/],
    [['--output', 'json'], /invalid --output "json": expected json=FILE/],
    [['--output', 'prometheus='], /invalid --output "prometheus=": expected prometheus=URL/],
    [['--output', 'prometheus=not a url'], /invalid --output prometheus=not a url: not a URL/],
    [['--output', 'otlp=ftp://127.0.0.1/'], /invalid --output otlp=ftp:\/\/127\.0\.0\.1\/: expected http:\/\/ or https:\/\/, got ftp:/],
    [['--output', 'json=/nonexistent-dir/x.jsonl'], /invalid --output json=\/nonexistent-dir\/x\.jsonl: cannot create \/nonexistent-dir\/x\.jsonl \(ENOENT\)/],
    [['--out', 'json=run.jsonl'], /--out is the run directory; for a streaming output write --output json=run\.jsonl/],
    [['--dashboard-port', '80'], /--dashboard-port needs --dashboard/],
    [['--dashboard', '--dashboard-port', '70000'], /invalid --dashboard-port "70000": expected an integer from 0 to 65535/],
    [['--junit', '/nonexistent-dir/j.xml'], /invalid --junit \/nonexistent-dir\/j\.xml: cannot write in \/nonexistent-dir \(ENOENT\)/],
  ];
  for (const [flags, message] of cases) {
    const r = await run(['run', '--url', server.url, '--rate', '10', '--duration', '1s', '--no-report', ...flags]);
    assert.equal(r.code, 2, `${flags.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, flags.join(' '));
    assert.equal(server.requests(), 0, `${flags.join(' ')} sent requests`);
  }
});

test('the error codes of bad output flags: REDLINE_ERR_USAGE, REDLINE_ERR_BAD_URL for URLs', async () => {
  const { outputsFromFlags, checkOutDirFlag } = await import('../src/outputs/registry.js');
  const ctx = { cwd: '/', env: {} };
  assert.throws(() => outputsFromFlags(['nope=1'], ctx), { code: 'REDLINE_ERR_USAGE' });
  assert.throws(() => outputsFromFlags(['prometheus=::'], ctx), { code: 'REDLINE_ERR_BAD_URL' });
  assert.throws(() => checkOutDirFlag('csv=a.csv'), { code: 'REDLINE_ERR_USAGE' });
  assert.doesNotThrow(() => checkOutDirFlag('runs/json-and-more'));
});

test('json and csv outputs get one line per second while the run goes, and the JSON ends with the summary', async () => {
  const r = await run(['run', '--url', server.url, '--rate', '40', '--duration', '3s', '--workers', '1', '--no-report', '--out', '{cwd}/run', '--output', 'json={cwd}/s.jsonl', '--output', 'csv={cwd}/s.csv']);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(await readFile(join(r.cwd, 'run', 'result.json'), 'utf8')) as RunResult;
  const lines = (await readFile(join(r.cwd, 's.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const seconds = lines.filter((l) => l.type === 'second');
  assert.equal(seconds.length, result.timeseries.length);
  assert.deepEqual(seconds.map((s) => s.requests), result.timeseries.map((p) => p.requests));
  assert.equal(seconds.at(-1)!.totalRequests, result.summary.requests);
  // Each second carries its HDR histogram: merged, they are the run's.
  const merged = LatencyHistogram.mergeEncoded(seconds.map((s) => s.latencyHistogram as string));
  assert.equal(merged.count, LatencyHistogram.decode(result.histograms.latency).count);
  const last = lines.at(-1)!;
  assert.equal(last.type, 'summary');
  assert.equal((last.summary as { requests: number }).requests, result.summary.requests);
  const csv = (await readFile(join(r.cwd, 's.csv'), 'utf8')).trim().split('\n');
  assert.equal(csv[0], CSV_COLUMNS.join(','));
  assert.equal(csv.length - 1, result.timeseries.length);
  const total = csv.slice(1).reduce((a, row) => a + Number(row.split(',')[2]), 0);
  assert.equal(total, result.summary.requests);
});

test('an output whose writes fail is counted and reported; the other outputs and the run go on', async () => {
  const seen: number[] = [];
  const good: Output = { label: 'good', second: (s) => void seen.push(s.status.point.t), end: () => Promise.resolve(), close: () => Promise.resolve() };
  const bad: Output = { label: 'bad', second: () => Promise.reject(new Error('HTTP 503: busy')), end: () => Promise.reject(new Error('gone')), close: () => Promise.resolve() };
  const thrower: Output = {
    label: 'thrower',
    second: () => {
      throw new Error('sync boom');
    },
    end: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
  // No final write (as remote write, OTLP, CSV): the end is not counted as a write.
  const noEnd: Output = { label: 'no-end', second: () => Promise.reject(new Error('HTTP 404: not found')), close: () => Promise.resolve() };
  const set = new OutputSet([good, bad, thrower, noEnd]);
  const events: string[] = [];
  set.onEvent((m) => events.push(m));
  const point = { t: 1, requests: 1, errors: 0, errorsByKind: {}, latency: { p50: 1, p90: 1, p99: 1, max: 1 }, serviceTime: { p50: 1, p90: 1, p99: 1, max: 1 }, iterations: 1, iterationsDropped: 0, vus: 1, inFlight: 0, intendedRate: null, scheduleLagMs: { p50: 0, p99: 0, max: 0 } };
  for (let t = 1; t <= 3; t++) set.second({ elapsedMs: t * 1000, plannedMs: 3000, point: { ...point, t }, totalRequests: t, totalErrors: 0 });
  await set.end({} as RunResult);
  await set.close();
  assert.deepEqual(seen, [1, 2, 3]);
  const stats = Object.fromEntries(set.stats().map((s) => [s.label, s]));
  assert.deepEqual([stats.bad!.writes, stats.bad!.failures, stats.bad!.lastError], [4, 4, 'gone']);
  assert.deepEqual([stats.thrower!.failures, stats.good!.failures], [3, 0]);
  assert.deepEqual([stats['no-end']!.writes, stats['no-end']!.failures], [3, 3]);
  assert.deepEqual(set.problems(), ['output bad: 4 of 4 writes failed (last: gone)', 'output thrower: 3 of 4 writes failed (last: sync boom)', 'output no-end: 3 of 3 writes failed (last: HTTP 404: not found)']);
  // Announced once per output, not once per second.
  assert.equal(events.length, 3);
  assert.ok(events.some((e) => /^output bad: write failed \(HTTP 503: busy\); the run goes on/.test(e)), events.join('\n'));
});

test('otlp output: cumulative sums, gauges and an exponential histogram whose count is every timed request', async () => {
  const bodies: Array<{ path: string; type: string; body: unknown }> = [];
  const collector = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      bodies.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', body: JSON.parse(text) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const port = (collector.address() as AddressInfo).port;
  try {
    const r = await run(['run', '--url', server.url, '--rate', '30', '--duration', '2s', '--workers', '1', '--no-report', '--out', '{cwd}/run', '--output', `otlp=http://127.0.0.1:${port}`]);
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(await readFile(join(r.cwd, 'run', 'result.json'), 'utf8')) as RunResult;
    assert.equal(bodies.length, result.timeseries.length);
    assert.ok(bodies.every((b) => b.path === '/v1/metrics' && b.type === 'application/json'));
    type Metric = { name: string; sum?: { dataPoints: Array<{ asInt: string }> }; exponentialHistogram?: { dataPoints: Array<{ count: string; scale: number; positive: { offset: number; bucketCounts: string[] } }> } };
    const last = bodies.at(-1)!.body as { resourceMetrics: Array<{ resource: { attributes: Array<{ key: string }> }; scopeMetrics: Array<{ metrics: Metric[] }> }> };
    const metrics = last.resourceMetrics[0]!.scopeMetrics[0]!.metrics;
    const byName = new Map(metrics.map((m) => [m.name, m]));
    assert.equal(Number(byName.get('http.requests')!.sum!.dataPoints[0]!.asInt), result.summary.requests);
    const hist = byName.get('http.latency')!.exponentialHistogram!.dataPoints[0]!;
    assert.equal(Number(hist.count), LatencyHistogram.decode(result.histograms.latency).count);
    assert.equal(hist.positive.bucketCounts.reduce((a, c) => a + Number(c), 0), Number(hist.count));
    assert.equal(hist.scale, 3);
    assert.ok(last.resourceMetrics[0]!.resource.attributes.some((a) => a.key === 'redline.run_id'));
  } finally {
    collector.closeAllConnections();
    await new Promise<void>((r) => collector.close(() => r()));
  }
});

test('an unreachable output endpoint: writes counted as failed, the run exits 0 and says so in result.json', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const r = await run(['run', '--url', server.url, '--rate', '20', '--duration', '2s', '--workers', '1', '--no-report', '--out', '{cwd}/run', '--output', `otlp=http://127.0.0.1:${port}/v1/metrics`]);
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(await readFile(join(r.cwd, 'run', 'result.json'), 'utf8')) as RunResult;
  assert.ok(result.summary.requests >= 30, `requests ${result.summary.requests}`);
  const warning = (result.warnings ?? []).find((w) => w.startsWith(`output otlp=http://127.0.0.1:${port}/v1/metrics`));
  assert.match(warning ?? '', new RegExp(`: ${result.timeseries.length} of ${result.timeseries.length} writes failed`));
  assert.match(r.stderr, new RegExp(`write failed \\(ECONNREFUSED 127\\.0\\.0\\.1:${port}\\); the run goes on, failures are counted`));
});

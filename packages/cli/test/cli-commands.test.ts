import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatTrace, generateZipfTrace } from '@redline/cache';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';
import { startServer } from './helpers/server.js';

// A copy of shared/data/usl/sdm91.csv kept with the capacity tests, so the suite needs nothing outside the repo.
const SDM91 = new URL('../../capacity/test/fixtures/sdm91.csv', import.meta.url).pathname;

async function cli(argv: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = cwd ?? (await mkdtemp(join(tmpdir(), 'redline-cmd-')));
  const io = fakeIo(argv, dir);
  const code = await main(io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

test('capacity fit reproduces the SDM91 oracle through the CLI', async () => {
  const r = await cli(['capacity', 'fit', SDM91, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const fit = JSON.parse(r.stdout) as { nMax: number; xMax: number };
  assert.equal(fit.nMax, 96);
  assert.equal(Number(fit.xMax.toPrecision(6)), 1883.77);
});

test('capacity fit on a CSV without the expected columns exits 2 with a clear message', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-cmd-'));
  const file = join(dir, 'bad.csv');
  await writeFile(file, 'clients,latency\n' + [1, 2, 3, 4, 5, 6, 7].map((n) => `${n},${n * 10}`).join('\n') + '\n');
  const r = await cli(['capacity', 'fit', file]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^redline: .*bad\.csv.*\n$/);
  assert.match(r.stderr, /concurrency/);
});

test('capacity without --slo, or with a malformed one, exits 2', async () => {
  const a = await cli(['capacity', '--url', 'http://127.0.0.1:1/']);
  assert.equal(a.code, 2);
  assert.equal(a.stderr, "redline capacity: --slo is required, e.g. --slo 'p(99)<100'\n");
  const b = await cli(['capacity', '--url', 'http://127.0.0.1:1/', '--slo', 'p99 under 100']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /^redline: .*p99 under 100/);
});

test('cache simulate prints the hit-ratio curve of a trace for both policies', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-cmd-'));
  const file = join(dir, 'trace.ndjson');
  await writeFile(file, formatTrace({ sampleRate: 1, events: generateZipfTrace({ keys: 2000, events: 20_000, alpha: 0.9, seed: 3 }) }));
  const r = await cli(['cache', 'simulate', file, '--sizes', '100,500', '--json'], dir);
  assert.equal(r.code, 0, r.stderr);
  const sim = JSON.parse(r.stdout) as { rows: Array<{ size: number }>; policies: string[] };
  assert.deepEqual(sim.policies, ['lru', 'w-tinylfu']);
  assert.deepEqual(sim.rows.map((row) => row.size), [100, 500]);
  const bad = await cli(['cache', 'simulate', file, '--policies', 'fifo'], dir);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'redline: invalid --policies entry "fifo": expected lru or w-tinylfu\n');
});

test('compare of two runs writes compare.html, and --fail-on turns a regression into exit 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-cmd-'));
  const fast = await startServer(0);
  const slow = await startServer(30);
  try {
    // Two servers on two random ports: the scenarios are named after host:port, and still compare
    // without --force (identity is the load shape); only the target's latency differs.
    assert.equal((await cli(['run', '--url', fast.url, '--rate', '50', '--duration', '4s', '--out', join(dir, 'base'), '--no-report'], dir)).code, 0);
    assert.equal((await cli(['run', '--url', slow.url, '--rate', '50', '--duration', '4s', '--out', join(dir, 'cand'), '--no-report'], dir)).code, 0);
    const r = await cli(['compare', join(dir, 'base'), join(dir, 'cand'), '--fail-on', 'p50'], dir);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /regressed: p50/);
    assert.match(r.stdout, /compare: cand\/compare\.html/);
    // A gate on a metric one side cannot provide fails and says so (here: no per-second histograms).
    const stripped = JSON.parse(await readFile(join(dir, 'cand', 'result.json'), 'utf8')) as { histograms: { intervals: string[] } };
    stripped.histograms.intervals = [];
    await mkdir(join(dir, 'nohist'));
    await writeFile(join(dir, 'nohist', 'result.json'), JSON.stringify(stripped));
    const undecided = await cli(['compare', join(dir, 'base'), join(dir, 'nohist'), '--fail-on', 'p99,errorRate'], dir);
    assert.equal(undecided.code, 1, undecided.stdout + undecided.stderr);
    assert.match(undecided.stdout, /cannot decide p99: the candidate side has no per-second latency histograms \(--fail-on p99 fails when it cannot be decided\)/);
    // A different load shape is refused, and the message says what differs.
    assert.equal((await cli(['run', '--url', fast.url, '--rate', '40', '--duration', '2s', '--out', join(dir, 'rate40'), '--no-report'], dir)).code, 0);
    const shape = await cli(['compare', join(dir, 'base'), join(dir, 'rate40')], dir);
    assert.equal(shape.code, 2);
    assert.match(shape.stderr, /put different load on the target \(scenario "127\.0\.0\.1:\d+" rate: 50 vs 40/);
  } finally {
    await fast.close();
    await slow.close();
  }
});

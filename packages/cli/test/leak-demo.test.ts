// Leaks end to end: the real demo service with the real probe, forced full GCs and heap snapshots
// under load. Each planted leak shape is found and its holder named with its retainer path; healthy
// and CPU-bound services give no leak on short runs, repeatedly; the snapshot guard refuses when
// memory is short (the one place the free-memory source is injected).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isRedlineError, type Finding, type RunResult } from '@redline/core';
import { resolvePlan } from '@redline/load';
import { main } from '../src/main.js';
import { demoServerPath } from '../src/commands/demo.js';
import { checkSnapshotMemory } from '../src/leak-evidence.js';
import { leakOptionsFrom } from '../src/leak-flags.js';
import { runSession } from '../src/session.js';
import { launchTarget } from '@redline/probe/host';
import { diffHeapSnapshots, readHeapSnapshot } from '@redline/doctor';
import { fakeIo } from './helpers/fake-io.js';

let lastStderr = '';

async function demo(bottleneck: string, duration: string, extra: string[] = []): Promise<RunResult> {
  assert.ok(existsSync(demoServerPath()), `${demoServerPath()} is missing: run npm run build first`);
  const cwd = await mkdtemp(join(tmpdir(), 'redline-leak-'));
  const out = join(cwd, 'run');
  const io = fakeIo(['demo', '--bottleneck', bottleneck, '--duration', duration, '--out', out, '--no-report', '--workers', '0', ...extra], cwd);
  const code = await main(io);
  lastStderr = io.stderrText();
  assert.equal(code, 0, lastStderr);
  return JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
}

function describe(r: RunResult): string {
  const snaps = JSON.stringify(r.target?.heapSnapshots);
  return `${r.findings.map((f) => `${f.severity} ${f.category}: ${f.title}`).join('\n')}\nsnapshots: ${snaps}\nfull GCs: ${r.target?.fullGcs?.length}\n--- stderr:\n${lastStderr.split('\n').slice(-6).join('\n')}`;
}

function leakOf(r: RunResult): Finding {
  // A finding of low severity or above: `info` is the rule declining for lack of evidence.
  const f = r.findings.find((x) => x.category === 'memory-leak');
  assert.ok(f && f.severity !== 'info', describe(r));
  return f;
}

// The closure that keeps the holder may be anonymous (a V8 build or inlining choice): its file is what counts.
const SHAPES: [string, RegExp][] = [
  ['leak-map', /^Map in SessionStore\.sessions ← variable store \(kept by closure handle at src\/bottlenecks\/leak-map\.ts:\d+\)/],
  ['leak-closures', /^Array in variable shutdownHooks \(kept by closure (?:\w+|\(anonymous\)) at src\/bottlenecks\/leak-closures\.ts:\d+\)/],
  ['leak-listeners', /^Array in Object\.reload ← EventEmitter\._events ← variable configEvents \(kept by closure (?:\w+|\(anonymous\)) at src\/bottlenecks\/leak-listeners\.ts:\d+\)/],
  ['leak-cache', /^Object in ResponseCache\.entries ← variable cache \(kept by closure (?:\w+|\(anonymous\)) at src\/bottlenecks\/leak-cache\.ts:\d+\)/],
];

for (const [shape, holder] of SHAPES) {
  test(`${shape}: the leak is found from forced full GCs, and the snapshot diff names its holder with the retainer path`, async () => {
    // Found: the default session, without snapshots, so no pause can cut the run short.
    const r = await demo(shape, '8s', ['--leak-snapshots', 'off', '--rate', '250']);
    const f = leakOf(r);
    assert.ok((r.target?.fullGcs?.length ?? 0) >= 3, describe(r));
    // Named: the real demo and probe, snapshots around a counted number of requests (not a time
    // window), so a slow machine changes how long it takes, not what is kept between the snapshots.
    const server = demoServerPath();
    const target = await launchTarget({ command: `"${process.execPath}" "${server}" --bottleneck ${shape}`, cwd: dirname(dirname(server)) });
    const dir = await mkdtemp(join(tmpdir(), 'redline-leak-snap-'));
    try {
      await requests(target.port!, 100);
      await target.writeHeapSnapshot(join(dir, 'heap-1.heapsnapshot'));
      await requests(target.port!, 600);
      await target.writeHeapSnapshot(join(dir, 'heap-2.heapsnapshot'));
    } finally {
      await target.stop();
    }
    const suspects = diffHeapSnapshots([await readHeapSnapshot(join(dir, 'heap-1.heapsnapshot')), await readHeapSnapshot(join(dir, 'heap-2.heapsnapshot'))], { appRoot: dirname(dirname(server)) });
    const top = suspects[0];
    assert.ok(top, `${f.title}: no suspect`);
    assert.match(top.pathText, holder, JSON.stringify(suspects.map((x) => x.pathText)));
    assert.ok(top.retainedLastBytes > top.retainedFirstBytes, JSON.stringify(top.retainedSeries));
    assert.ok(top.path.some((p) => p.area === 'app' && p.file?.startsWith('src/bottlenecks/')), JSON.stringify(top.path));
  });
}

/** `count` GET requests, 10 at a time, each awaited (bounded in count; loopback). */
async function requests(port: number, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += 10) {
    await Promise.all(Array.from({ length: 10 }, () => fetch(`http://127.0.0.1:${port}/products?page=1`).then((res) => res.arrayBuffer())));
  }
}

test('healthy and CPU-bound services: no leak on short runs, three times each', async () => {
  for (const bottleneck of ['healthy', 'cpu-saturation']) {
    for (let k = 0; k < 3; k++) {
      const r = await demo(bottleneck, '4s');
      const leak = r.findings.find((x) => x.category === 'memory-leak' && x.severity !== 'info');
      assert.equal(leak, undefined, `${bottleneck} run ${k + 1}: ${describe(r)}`);
      assert.ok((r.target?.fullGcs?.length ?? 0) >= 1, `full GCs were forced: ${describe(r)}`);
    }
  }
});

test('the snapshot guard refuses when the heap is over half the free memory, and says so', async () => {
  assert.throws(
    () => checkSnapshotMemory(300 * 1024 * 1024, 500 * 1024 * 1024),
    (err: unknown) => isRedlineError(err, 'REDLINE_ERR_SNAPSHOT_REFUSED') && (err as Error).message === 'heap snapshot refused: the heap is 300 MB and a snapshot needs about 2× that (600 MB), but only 500 MB of memory is free',
  );
  const server = demoServerPath();
  const cwd = await mkdtemp(join(tmpdir(), 'redline-guard-'));
  const outcome = await runSession({
    cwd,
    env: {},
    workers: 0,
    report: false,
    outDir: join(cwd, 'run'),
    target: { kind: 'launch', command: `"${process.execPath}" "${server}" --bottleneck leak-map`, cwd: dirname(dirname(server)) },
    leak: { snapshots: 'on', freeMemoryBytes: () => 4 * 1024 * 1024 },
    plan: async ({ url }) =>
      resolvePlan({ name: 'guard', baseUrl: url ?? undefined, executor: 'constant-arrival-rate', rate: 50, duration: 3, preAllocatedVUs: 8, maxVUs: 16, requests: [{ method: 'GET', url: '/' }] }, 'guard', { source: null, workers: 0 }),
  });
  const snaps = outcome.result.target?.heapSnapshots;
  assert.equal(snaps?.taken.length, 0);
  assert.equal(snaps?.skipped?.code, 'REDLINE_ERR_SNAPSHOT_REFUSED');
  assert.match(snaps?.skipped?.message ?? '', /^heap snapshot refused: the heap is \d+ MB and a snapshot needs about 2× that \(\d+ MB\), but only 4 MB of memory is free$/);
  assert.ok(outcome.result.warnings?.includes(snaps!.skipped!.message), JSON.stringify(outcome.result.warnings));
});

test('leak flags: an unknown snapshot mode and leak flags without --target are usage errors', () => {
  assert.throws(() => leakOptionsFrom({ 'leak-snapshots': 'always' }, 'launch'), (err: unknown) => isRedlineError(err, 'REDLINE_ERR_USAGE') && (err as Error).message === '--leak-snapshots must be one of auto, on, off, got "always"');
  assert.throws(() => leakOptionsFrom({ 'no-full-gc': true }, undefined), (err: unknown) => isRedlineError(err, 'REDLINE_ERR_USAGE') && /^--no-full-gc needs --target or --attach/.test((err as Error).message));
  assert.throws(() => leakOptionsFrom({ 'no-full-gc': true }, 'attach'), (err: unknown) => isRedlineError(err, 'REDLINE_ERR_USAGE') && (err as Error).message === '--no-full-gc with --attach needs --leak-snapshots (an attached target gets forced GCs and snapshots only when asked for)');
  assert.deepEqual(leakOptionsFrom({ 'leak-snapshots': 'on' }, 'attach'), { snapshots: 'on' });
  assert.deepEqual(leakOptionsFrom({ 'leak-snapshots': 'off', 'no-full-gc': true }, 'launch'), { snapshots: 'off', fullGc: false });
});

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
  const f = r.findings.find((x) => x.category === 'memory-leak');
  assert.ok(f && f.severity !== 'info', describe(r));
  return f;
}

const SHAPES: [string, RegExp][] = [
  ['leak-map', /^Map in SessionStore\.sessions ← variable store \(kept by closure handle at src\/bottlenecks\/leak-map\.ts:\d+\)/],
  ['leak-closures', /^Array in variable shutdownHooks \(kept by closure \w+ at src\/bottlenecks\/leak-closures\.ts:\d+\)/],
  ['leak-listeners', /^Array in Object\.reload ← EventEmitter\._events ← variable configEvents \(kept by closure \w+ at src\/bottlenecks\/leak-listeners\.ts:\d+\)/],
  ['leak-cache', /^Object in ResponseCache\.entries ← variable cache \(kept by closure \w+ at src\/bottlenecks\/leak-cache\.ts:\d+\)/],
];

for (const [shape, holder] of SHAPES) {
  test(`${shape}: the leak is found and its holder named with the retainer path to the TypeScript source`, async () => {
    const r = await demo(shape, '6s', ['--leak-snapshots', 'on']);
    const f = leakOf(r);
    assert.ok((r.target?.heapSnapshots?.taken.length ?? 0) >= 2, describe(r));
    const top = f.leaks?.[0];
    assert.ok(top, describe(r));
    assert.match(top.pathText, holder, describe(r));
    assert.ok(top.retainedLastBytes > top.retainedFirstBytes, JSON.stringify(top.retainedSeries));
    assert.ok(f.frames.some((fr) => fr.area === 'app' && fr.file.startsWith('src/bottlenecks/')), JSON.stringify(f.frames));
  });
}

test('healthy and CPU-bound services: no leak on short runs, three times each', async () => {
  for (const bottleneck of ['healthy', 'cpu-saturation']) {
    for (let k = 0; k < 3; k++) {
      const r = await demo(bottleneck, '4s');
      const leak = r.findings.find((x) => x.category === 'memory-leak' && x.severity !== 'info');
      assert.equal(leak, undefined, `${bottleneck} run ${k + 1}: ${describe(r)}`);
      // Auto mode took no snapshot: heap after full GC did not grow.
      assert.equal(r.target?.heapSnapshots?.taken.length, 0, describe(r));
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
  assert.throws(() => leakOptionsFrom({ 'leak-snapshots': 'always' }, true), (err: unknown) => isRedlineError(err, 'REDLINE_ERR_USAGE') && (err as Error).message === '--leak-snapshots must be one of auto, on, off, got "always"');
  assert.throws(() => leakOptionsFrom({ 'no-full-gc': true }, false), (err: unknown) => isRedlineError(err, 'REDLINE_ERR_USAGE') && /^--no-full-gc needs --target/.test((err as Error).message));
  assert.deepEqual(leakOptionsFrom({ 'leak-snapshots': 'off', 'no-full-gc': true }, true), { snapshots: 'off', fullGc: false });
});

// Leak evidence with --attach: a process started with --inspect that keeps objects per request gets
// forced full GCs and heap snapshots through the inspector (HeapProfiler.takeHeapSnapshot streamed into
// the run directory), and the snapshots' diff names what holds the growing objects. (Whether the leak
// rule fires is not asserted: over the inspector one snapshot paused this target 6–9 s on the busy
// test machine, longer than such a short run.)
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolvePlan } from '@redline/load';
import { diffHeapSnapshots, readHeapSnapshot } from '@redline/doctor';
import { runSession } from '../src/session.js';
import { InspectedTargets } from '../../../test-support/inspected.ts';

const FIXTURES = fileURLToPath(new URL('../../probe/test/fixtures/', import.meta.url));
const targets = new InspectedTargets();
const dirs: string[] = [];
after(async () => {
  targets.killAll();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test('--attach with --leak-snapshots on: snapshots and forced GCs over the inspector; their diff names the growing holder', async () => {
  const { inspectPort, appPort } = await targets.start('inspect-target.mjs', FIXTURES);
  const cwd = await mkdtemp(join(tmpdir(), 'redline-attach-snap-'));
  dirs.push(cwd);
  const outcome = await runSession({
    cwd,
    env: {},
    workers: 0,
    report: false,
    outDir: join(cwd, 'run'),
    target: { kind: 'attach', hostPort: `127.0.0.1:${inspectPort}` },
    leak: { snapshots: 'on' },
    // /alloc keeps 2000 small objects per request (~0.3 MB): 5 req/s for 4 s.
    plan: async () =>
      resolvePlan({ name: 'attach-snap', baseUrl: `http://127.0.0.1:${appPort}`, executor: 'constant-arrival-rate', rate: 5, duration: 4, preAllocatedVUs: 4, maxVUs: 8, requests: [{ method: 'GET', url: '/alloc' }] }, 'attach-snap', { source: null, workers: 0 }),
  });
  const target = outcome.result.target;
  const snaps = target?.heapSnapshots;
  assert.equal(snaps?.mode, 'on');
  assert.equal(snaps?.skipped, null, JSON.stringify(snaps));
  assert.equal(snaps?.taken.length, 2, JSON.stringify(snaps));
  for (const s of snaps!.taken) {
    const file = join(outcome.runDir, s.file);
    assert.ok(existsSync(file), `${s.file} is in the run directory`);
    assert.equal(statSync(file).size, s.fileBytes);
    assert.ok(s.fileBytes > 1024 * 1024 && s.heapUsedBytes > 0 && s.pauseMs > 0, JSON.stringify(s));
  }
  // Forced GCs go through the inspector too (one at least: a snapshot, seconds long on a busy
  // machine, may pause the target over the later moments, which are then dropped).
  assert.ok((target?.fullGcs?.length ?? 0) >= 1, `forced full GCs over the inspector: ${JSON.stringify(target?.fullGcs)}`);
  // The streamed snapshots read and diff like the probe's: the growing array and its variable are named.
  const files = snaps!.taken.map((x) => join(outcome.runDir, x.file));
  const suspects = diffHeapSnapshots([await readHeapSnapshot(files[0]!), await readHeapSnapshot(files[1]!)], { appRoot: FIXTURES });
  const top = suspects[0];
  assert.ok(top, 'no suspect from the two snapshots');
  assert.match(top.pathText, /^Array in variable keep\b/, JSON.stringify(suspects.map((x) => x.pathText)));
  assert.ok(top.retainedLastBytes > top.retainedFirstBytes, JSON.stringify(top.retainedSeries));
});

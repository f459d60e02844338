// Disk I/O and synchronous file-system calls, end to end: the sync-fs demo (300 readFileSync calls per
// request) under a real load with the probe. The event-loop finding names readFileSync and its caller,
// and the probe put the process's /proc/self/io counters on the timeline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '@redline/core';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

test('sync-fs demo: event-loop-blocked names readFileSync called from renderWithTemplates, and the timeline has the I/O', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-sync-fs-'));
  const out = join(cwd, 'run');
  const io = fakeIo(['demo', '--bottleneck', 'sync-fs', '--duration', '7s', '--out', out, '--no-report', '--workers', '0'], cwd);
  assert.equal(await main(io), 0, io.stderrText());
  const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
  const all = result.findings.map((f) => `${f.severity} ${f.category}: ${f.title}`).join('\n');
  const loop = result.findings.find((f) => f.category === 'event-loop-blocked');
  assert.ok(loop !== undefined, all);
  assert.match(loop.title, /by synchronous file-system calls: readFileSync called from renderWithTemplates \(src\/bottlenecks\/sync-fs\.ts:\d+\)/, all);
  assert.ok((loop.evidence.find((e) => e.metric === 'profile.sync_fs.share')?.value ?? 0) >= 0.05, JSON.stringify(loop.evidence));
  assert.match(loop.recommendation, /fs\.promises/);
  // Native time under readFileSync reads as what it is.
  assert.ok(loop.frames.some((f) => /^native code inside \w+/.test(f.functionName)), loop.frames.map((f) => f.functionName).join(', '));
  if (process.platform === 'linux') {
    const loaded = (result.target?.samples ?? []).filter((s) => s.t >= 2 && s.t <= 6);
    assert.ok(loaded.length >= 3 && loaded.every((s) => s.io !== undefined), 'every loaded second has /proc/self/io');
    // 300 reads per request (plus the server's own socket reads), about 8 KiB each.
    const served = result.timeseries.filter((p) => p.t >= 2 && p.t <= 6).reduce((n, p) => n + p.requests, 0);
    const syscr = loaded.reduce((n, s) => n + (s.io?.syscr ?? 0), 0);
    const rchar = loaded.reduce((n, s) => n + (s.io?.rchar ?? 0), 0);
    assert.ok(served > 0 && syscr >= 200 * served, `syscr ${syscr} for ${served} requests`);
    assert.ok(rchar >= 200 * 8192 * served, `rchar ${rchar} for ${served} requests`);
  }
});

// Result files that survive a full disk (no temporary file left, the error names the file), run
// directories that never collide, timer limits, and threshold values shown with their units.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ErrorCodes, MAX_TIMER_MS, checkTimerMs, createUniqueDir, exitCodeFor, ExitCodes, formatThresholdActual, isRedlineError, thresholdUnit, RedlineError, writeFileAtomic, type AtomicWriteFs } from '@redline/core';
import { rename, rm } from 'node:fs/promises';

test('a write that fails with ENOSPC names the file, keeps the cause and leaves no *.tmp behind', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-atomic-'));
  // The fault is injected through the writer's fs seam: the temporary file is half written, then
  // the device is full (as /dev/full answers every write).
  const full: AtomicWriteFs = {
    async writeFile(path, data) {
      await writeFile(path, String(data).slice(0, 10));
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', syscall: 'write' });
    },
    rename,
    rm,
  };
  const target = join(dir, 'result.json');
  await assert.rejects(writeFileAtomic(target, '{"a":1234567890123}', full), (err: unknown) => {
    assert.ok(isRedlineError(err, ErrorCodes.WRITE_FAILED));
    assert.equal(err.message, `cannot write ${target}: ENOSPC (no space left on the device)`);
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ENOSPC');
    assert.equal(exitCodeFor(err), 1);
    return true;
  });
  assert.deepEqual(await readdir(dir), []);
});

test('two run directories claimed for the same name and second are different', async () => {
  const base = join(await mkdtemp(join(tmpdir(), 'redline-unique-')), 'runs', '20260101-120000-api');
  const claimed = await Promise.all([createUniqueDir(base), createUniqueDir(base), createUniqueDir(base)]);
  assert.deepEqual(claimed.map((d) => basename(d)).sort(), ['20260101-120000-api', '20260101-120000-api-2', '20260101-120000-api-3']);
});

test('checkTimerMs rejects more than 2^31 - 1 ms with REDLINE_ERR_BAD_DURATION', () => {
  assert.equal(checkTimerMs(MAX_TIMER_MS), MAX_TIMER_MS);
  assert.throws(() => checkTimerMs(600 * 3_600_000, '--duration'), (err: unknown) => {
    assert.ok(err instanceof RedlineError);
    assert.equal(err.code, ErrorCodes.BAD_DURATION);
    assert.equal(err.message, '--duration 600h is too long: at most 596h31m23s (2^31 - 1 ms, the longest timer Node.js can set)');
    return true;
  });
});

test('exit code 130 has a name, and an interruption maps to it', () => {
  assert.equal(ExitCodes.INTERRUPTED, 130);
  assert.equal(exitCodeFor(new RedlineError(ErrorCodes.INTERRUPTED, 'stopped')), 130);
});

test('threshold actuals carry units: latencies in ms or s, shares in %, rates per second, counts grouped', () => {
  assert.equal(formatThresholdActual('http.latency', 'p(99)<200', 2949.119), '2.95 s');
  assert.equal(formatThresholdActual('http.latency{name:login}', 'avg<200', 412.4), '412 ms');
  assert.equal(formatThresholdActual('http.service_time', 'p(95)<5', 1.234), '1.23 ms');
  assert.equal(formatThresholdActual('http.errors', 'rate<0.01', 0.0042), '0.420 %');
  assert.equal(formatThresholdActual('checks', 'rate>0.99', 1), '100.00 %');
  assert.equal(formatThresholdActual('http.requests', 'rate>100', 1930.6), '1,931/s');
  assert.equal(formatThresholdActual('http.latency', 'count>10', 17004), '17,004');
  assert.equal(formatThresholdActual('http.latency', 'p(99)<200', null), 'no data');
  // Declared custom metrics: the evaluator passes the unit it knows.
  assert.equal(thresholdUnit('orders', 'rate>5', 'counter'), 'per-second');
  assert.equal(thresholdUnit('orders', 'count>5', 'counter'), 'count');
  assert.equal(thresholdUnit('ok_share', 'rate>0.9', 'rate'), 'ratio');
  assert.equal(thresholdUnit('wait', 'p(95)<5', 'trend'), 'number');
  assert.equal(formatThresholdActual('orders', 'rate>5', 12.34, 'per-second'), '12.3/s');
});

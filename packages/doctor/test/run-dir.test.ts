import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '@redline/core';
import { createProfileModel, diagnoseRunDir, loadRunProfile, writeProfileExports } from '../src/index.ts';
import { FIXTURES, recordProfile } from './helpers/record.ts';
import { makeRunResult, point, sample, seconds } from './helpers/run-result.ts';

test('diagnoseRunDir reads result.json and the probe profile on the run clock', async () => {
  const rec = await recordProfile(`${FIXTURES}hot.mjs`, 500);
  const dir = await mkdtemp(join(tmpdir(), 'redline-rundir-'));
  // The probe stores its clock inside the profile; the run starts 2 s before the profile.
  const profile = { ...rec.profile, $redline: { startEpochMs: rec.startEpochMs, thread: 'main' } };
  assert.equal(createProfileModel({ ...rec.profile, $redline: { thread: 'worker-1' } }).thread, 'worker-1');
  assert.equal(createProfileModel(rec.profile).thread, 'main');
  const files = await writeProfileExports(createProfileModel(profile), dir);
  const n = 6;
  const result = makeRunResult({
    startMs: rec.startEpochMs - 2000,
    durationS: n,
    timeseries: seconds(n, (t) => point(t, 120, 300)),
    samples: seconds(n, (t) => sample(t, { elu: 1, cpuUser: 1, cpuSystem: 0.02, loopDelayMs: { mean: 100, p50: 90, p99: 300, max: 400 } })),
  });
  result.target!.profiles = files;
  await writeJsonAtomic(join(dir, 'result.json'), result);

  const model = await loadRunProfile(dir, result);
  assert.equal(model?.startEpochMs, rec.startEpochMs);
  const { findings, profile: loaded } = await diagnoseRunDir(dir);
  assert.ok(loaded !== null);
  assert.equal(findings[0]?.category, 'event-loop-blocked');
  assert.ok(findings[0]?.frames.some((f) => f.functionName === 'burnCpuHot'));

  // Without the probe's clock, the profile window in result.json places the profile.
  await writeFile(join(dir, 'cpu.cpuprofile'), JSON.stringify(rec.profile));
  result.target!.profileWindow = { startS: 2, endS: 4 };
  const placed = await loadRunProfile(dir, result);
  assert.equal(placed?.startEpochMs, rec.startEpochMs);
});

test('a run without a profile diagnoses from its numbers alone; bad run directories are refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-rundir-'));
  await writeJsonAtomic(join(dir, 'result.json'), makeRunResult({ durationS: 3, timeseries: seconds(3, (t) => point(t, 100, 2)), samples: seconds(3, (t) => sample(t)) }));
  const { findings, profile } = await diagnoseRunDir(dir);
  assert.equal(profile, null);
  assert.equal(findings[0]?.category, 'no-problem');

  const missing = join(dir, 'nope');
  await assert.rejects(diagnoseRunDir(missing), { code: 'REDLINE_ERR_BAD_RUN_DIR', message: `run directory ${missing} does not exist` });

  const r = makeRunResult({ durationS: 3, timeseries: [], samples: [] });
  r.target!.profiles = { cpuprofile: 'gone.cpuprofile' };
  await writeJsonAtomic(join(dir, 'result.json'), r);
  await assert.rejects(diagnoseRunDir(dir), {
    code: 'REDLINE_ERR_BAD_DATA_FILE',
    message: `CPU profile ${join(dir, 'gone.cpuprofile')} could not be read: ENOENT`,
  });
});

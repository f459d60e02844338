// --attach observes worker threads through the inspector's NodeWorker domain: a worker started after
// the CPU profile began is profiled, and the doctor's merged profile names its function.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { attachInspector } from '@redline/probe/host';
import { createProfileModel, mergeThreadProfiles, type CpuProfile } from '@redline/doctor';
import { InspectedTargets } from '../../../test-support/inspected.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const targets = new InspectedTargets();
after(() => targets.killAll());

test('attach: a worker started mid-profile is profiled and the merged profile names its function', async () => {
  const { inspectPort, appPort } = await targets.start('inspect-worker-target.mjs', fixtures);
  const target = await attachInspector(`127.0.0.1:${inspectPort}`, { cpuSamplingIntervalUs: 2000 });
  try {
    await target.startCpuProfile();
    await (await fetch(`http://127.0.0.1:${appPort}/start-worker`)).text();
    await sleep(2500);
    const cpu = await target.stopCpuProfile();
    const labels = Object.keys(cpu.threads ?? {});
    assert.equal(labels.length, 1, `one worker profile, got ${labels.join(', ')}`);
    assert.match(labels[0]!, /^worker-\d+$/);
    const worker = cpu.threads![labels[0]!]!;
    const nodes = (worker.profile as unknown as CpuProfile).nodes;
    assert.ok(nodes.some((n) => n.callFrame.functionName === 'attachWorkerCrunch'), 'the worker profile names attachWorkerCrunch');
    const merged = createProfileModel(mergeThreadProfiles(cpu.profile as unknown as CpuProfile, { [labels[0]!]: worker.profile as unknown as CpuProfile }), { sourceMaps: false });
    assert.equal(merged.attributedFrames(undefined, 1)[0]?.functionName, 'attachWorkerCrunch');
  } finally {
    await target.detach();
  }
});

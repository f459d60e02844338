// --attach observes worker threads through the inspector's NodeWorker domain: a worker started after
// the CPU profile began is profiled, and the doctor's merged profile names its function.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { attachInspector } from '@redline/probe/host';
import { createProfileModel, mergeThreadProfiles, type CpuProfile } from '@redline/doctor';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill('SIGKILL');
});

test('attach: a worker started mid-profile is profiled and the merged profile names its function', async () => {
  const child = spawn(process.execPath, ['--inspect=127.0.0.1:0', 'inspect-worker-target.mjs'], { cwd: fixtures, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  const t0 = Date.now();
  let ports: { inspect: number; app: number } | null = null;
  while (ports === null) {
    const inspect = /ws:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr);
    const app = /port (\d+)/.exec(stdout);
    if (inspect && app) ports = { inspect: Number(inspect[1]), app: Number(app[1]) };
    else if (Date.now() - t0 > 10_000) throw new Error(`inspected target did not start: ${stderr}`);
    else await sleep(20);
  }
  const target = await attachInspector(`127.0.0.1:${ports.inspect}`, { cpuSamplingIntervalUs: 2000 });
  try {
    await target.startCpuProfile();
    await (await fetch(`http://127.0.0.1:${ports.app}/start-worker`)).text();
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

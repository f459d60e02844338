import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchTarget, aggregateSamples, profilesForAggregation, type TargetHandle } from '@redline/probe/host';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
let handle: TargetHandle | null = null;
after(async () => {
  await handle?.stop();
});

test('worker threads are sampled and profiled under their own label', async () => {
  handle = await launchTarget({ command: 'node worker-server.mjs', cwd: fixtures, startTimeoutMs: 10_000 });
  const h = handle;
  const runStart = performance.timeOrigin + performance.now();
  // Workers connect on their own schedule; profiling starts at steady state, as in a run.
  await sleep(500);
  await h.startCpuProfile();
  await sleep(1700);
  const cpu = await h.stopCpuProfile();
  await sleep(1200);
  const raw = h.samples();
  const labels = new Set(raw.map((s) => s.thread));
  const workerLabel = [...labels].find((l) => /^worker-\d+$/.test(l));
  assert.ok(workerLabel, `a worker thread reports (threads: ${[...labels].join(', ')})`);
  assert.ok(labels.has('main'));

  // The worker is busy 80 % of the time, the main thread idles.
  const samples = aggregateSamples(raw, runStart, { cpuProfiles: profilesForAggregation(cpu) });
  const second2 = samples.find((s) => s.t === 2);
  assert.ok(second2?.threads?.[workerLabel], 'the per-second sample carries the worker');
  const workerElu = second2.threads[workerLabel].elu;
  assert.ok(workerElu > 0.5, `worker ELU while profiling ${workerElu}`);
  assert.ok(second2.elu < 0.3, `main ELU ${second2.elu}`);
  const second4 = samples.find((s) => s.t === 4);
  const workerEluAfter = second4?.threads?.[workerLabel]?.elu ?? 0;
  assert.ok(workerEluAfter > 0.5, `worker ELU after profiling ${workerEluAfter}`);

  const workerProfile = cpu.threads?.[workerLabel];
  assert.ok(workerProfile, 'a CPU profile for the worker');
  const nodes = (workerProfile.profile as { nodes: Array<{ callFrame: { functionName: string } }> }).nodes;
  assert.ok(nodes.some((n) => n.callFrame.functionName === 'workerHotLoop'), 'the worker profile names workerHotLoop');
  const mainNodes = (cpu.profile as { nodes: Array<{ callFrame: { functionName: string } }> }).nodes;
  assert.ok(!mainNodes.some((n) => n.callFrame.functionName === 'workerHotLoop'), 'the main profile does not');
});

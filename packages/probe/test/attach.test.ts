import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, RedlineError } from '@redline/core';
import { attachInspector, aggregateSamples, profilesForAggregation } from '@redline/probe/host';
import { InspectedTargets } from '../../../test-support/inspected.ts';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const targets = new InspectedTargets();
after(() => targets.killAll());

function expectCode(code: string, message: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof RedlineError, `expected a RedlineError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  };
}

test('attaching to a --inspect process gives a CPU profile, heap usage, a heap profile and samples', async () => {
  const { inspectPort, appPort, child } = await targets.start('inspect-target.mjs', fixtures);
  const runStart = performance.timeOrigin + performance.now();
  const target = await attachInspector(`127.0.0.1:${inspectPort}`, { intervalMs: 100 });
  assert.equal(target.pid, child.pid);
  const usage = await target.heapUsage();
  assert.ok(usage.usedBytes > 0 && usage.totalBytes >= usage.usedBytes, JSON.stringify(usage));

  await target.startCpuProfile();
  await target.startHeapProfile();
  const res = await fetch(`http://127.0.0.1:${appPort}/spin`);
  assert.equal(res.status, 200);
  await res.text();
  for (let i = 0; i < 5; i++) await (await fetch(`http://127.0.0.1:${appPort}/alloc`)).text();
  await sleep(300);
  const heap = await target.stopHeapProfile();
  const cpu = await target.stopCpuProfile();
  const profile = cpu.profile as { nodes: Array<{ callFrame: { functionName: string } }>; samples: number[] };
  assert.ok(profile.samples.length > 100, `${profile.samples.length} samples`);
  assert.ok(profile.nodes.some((n) => n.callFrame.functionName === 'attachPlantedFunction'), 'the planted function is in the profile');
  assert.ok(Math.abs(cpu.startEpochMs - runStart) < 3000, 'profile start is on the same clock');
  assert.ok((heap.profile as { head?: unknown }).head, 'heap profile has a tree');

  await sleep(1200);
  const raw = target.samples();
  assert.ok(raw.length >= 5, `${raw.length} samples over the inspector`);
  assert.ok(raw.every((s) => s.pid === child.pid && s.thread === 'main'));
  const perSecond = aggregateSamples(raw, runStart, { cpuProfiles: profilesForAggregation(cpu) });
  assert.ok(perSecond.length >= 1);
  assert.ok(perSecond.some((s) => s.cpuUser > 0.1), 'the spin shows as CPU');
  assert.ok(perSecond.every((s) => s.heapUsedBytes > 0));

  await target.detach();
  await target.closed;
  // Detaching removes the sampler from the target; the target keeps running.
  assert.equal(child.exitCode, null);
  const again = await attachInspector(`127.0.0.1:${inspectPort}`);
  await again.detach();
});

test('attaching to a port without an inspector fails with ATTACH_FAILED', async () => {
  const server = createServer((_req, res) => res.end('not an inspector'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    await assert.rejects(
      attachInspector(`127.0.0.1:${port}`, { connectTimeoutMs: 2000 }),
      expectCode(ErrorCodes.ATTACH_FAILED, new RegExp(`^no Node\\.js inspector at 127\\.0\\.0\\.1:${port} \\(GET /json/list answered HTTP 200 without inspector JSON\\)`)),
    );
  } finally {
    server.close();
  }
  // Nothing listening at all.
  await assert.rejects(
    attachInspector(`127.0.0.1:${port}`, { connectTimeoutMs: 2000 }),
    expectCode(ErrorCodes.ATTACH_FAILED, new RegExp(`^no Node\\.js inspector at 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\); start the target with --inspect=127\\.0\\.0\\.1:${port}$`)),
  );
});

test('a malformed --attach value is a usage error', async () => {
  await assert.rejects(attachInspector('localhost'), expectCode(ErrorCodes.USAGE, /^--attach expects HOST:PORT \(e\.g\. 127\.0\.0\.1:9229\), got "localhost"$/));
  await assert.rejects(attachInspector('127.0.0.1:99999'), expectCode(ErrorCodes.USAGE, /got "127\.0\.0\.1:99999"$/));
});

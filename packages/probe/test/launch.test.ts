import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchTarget, aggregateSamples, profilesForAggregation, type TargetHandle } from '@redline/probe/host';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const started: TargetHandle[] = [];
after(async () => {
  await Promise.all(started.map((h) => h.stop()));
});

async function launch(command: string, extra: Partial<Parameters<typeof launchTarget>[0]> = {}): Promise<TargetHandle> {
  const h = await launchTarget({ command, cwd: fixtures, startTimeoutMs: 10_000, ...extra });
  started.push(h);
  return h;
}

const nowEpochMs = (): number => performance.timeOrigin + performance.now();

async function get(port: number, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
  return await res.text();
}

test('a planted 500 ms stall shows in the per-second sample of the second it happened', async () => {
  const h = await launch('node stall-server.mjs');
  assert.ok(h.port !== null && h.port > 0, 'the probe reports the listening port');
  assert.notEqual(h.probePid, null);
  const runStart = nowEpochMs();
  // Start the stall ~150 ms into second 3 so it ends inside that second whatever the jitter.
  const target = runStart + 2150;
  await sleep(Math.max(0, target - nowEpochMs()));
  const body = JSON.parse(await get(h.port as number, '/stall?ms=500')) as { stallStartEpochMs: number };
  const stallSecond = Math.ceil((body.stallStartEpochMs - runStart) / 1000);
  assert.equal(stallSecond, 3, 'the stall started inside second 3');
  await sleep(2300);
  const samples = aggregateSamples(h.samples(), runStart);
  const byT = new Map(samples.map((s) => [s.t, s]));
  const hit = byT.get(3);
  assert.ok(hit, 'there is a sample for second 3');
  assert.ok(hit.loopDelayMs.max >= 400, `loop delay max in second 3 is ${hit.loopDelayMs.max} ms`);
  assert.ok(hit.elu >= 0.4, `ELU in second 3 is ${hit.elu}`);
  for (const t of [1, 2, 4]) {
    const s = byT.get(t);
    assert.ok(s, `there is a sample for second ${t}`);
    assert.ok(s.loopDelayMs.max < 400, `second ${t} has no stall (max ${s.loopDelayMs.max} ms)`);
    assert.ok(s.elu < 0.4, `second ${t} is mostly idle (ELU ${s.elu})`);
  }
  // Memory and resources are filled in from the process.
  assert.ok(hit.heapUsedBytes > 0 && hit.rssBytes > hit.heapUsedBytes);
  assert.equal(hit.activeResources.TCPServerWrap, 1, 'the listening socket is counted');
  assert.ok(hit.cpuUser > 0.05, `the stall burned CPU (${hit.cpuUser} cores)`);
});

test('the CPU profile has samples, names the planted function, and keeps ELU right while profiling', async () => {
  const h = await launch('node stall-server.mjs', { cpuSamplingIntervalUs: 1000 });
  const runStart = nowEpochMs();
  await sleep(300);
  await h.startCpuProfile();
  await get(h.port as number, '/spin?ms=400');
  await sleep(1500);
  const cpu = await h.stopCpuProfile();
  const profile = cpu.profile as {
    nodes: Array<{ id: number; callFrame: { functionName: string } }>;
    samples: number[];
    timeDeltas: number[];
    $redline: { startEpochMs: number; thread: string };
  };
  assert.ok(profile.samples.length > 500, `profile has ${profile.samples.length} samples`);
  const hot = profile.nodes.find((n) => n.callFrame.functionName === 'plantedHotFunction');
  assert.ok(hot, 'plantedHotFunction is in the profile');
  const hotSamples = profile.samples.filter((id) => id === hot.id).length;
  assert.ok(hotSamples > 20, `plantedHotFunction has ${hotSamples} self samples`);
  assert.equal(profile.$redline.thread, 'main');
  assert.ok(Math.abs(cpu.startEpochMs - runStart - 300) < 500, 'profile start lines up with the run clock');
  assert.equal(cpu.threads, undefined);
  // While profiling, libuv idle accounting is broken by SIGPROF; the profile-based ELU must show an idle loop.
  const samples = aggregateSamples(h.samples(), runStart, { cpuProfiles: profilesForAggregation(cpu) });
  const last = samples.find((s) => s.t === 2);
  assert.ok(last, 'sample for second 2');
  assert.ok(last.elu < 0.3, `idle second while profiling reads ELU ${last.elu}`);
});

test('a sampling heap profile can be taken', async () => {
  const h = await launch('node stall-server.mjs', { heapProfile: true });
  await h.startHeapProfile();
  for (let i = 0; i < 20; i++) await get(h.port as number, '/');
  const heap = await h.stopHeapProfile();
  const profile = heap.profile as { head?: { children?: unknown[] }; samples?: unknown[] };
  assert.ok(profile.head && Array.isArray(profile.head.children), 'heap profile has a call tree');
  assert.ok(heap.endEpochMs >= heap.startEpochMs);
});

test('the probe survives a target crash: exited resolves with the signal and the samples are kept', async () => {
  const h = await launch('node stall-server.mjs');
  await sleep(600);
  const before = h.samples().length;
  assert.ok(before >= 3, `samples before the crash: ${before}`);
  const crashAt = Date.now();
  await get(h.port as number, '/crash');
  const exit = await h.exited;
  assert.equal(exit.signal, null, 'the shell reports the child signal as an exit code');
  assert.equal(exit.code, 128 + 11, 'SIGSEGV');
  assert.ok(exit.atEpochMs >= crashAt);
  assert.ok(h.samples().length >= before, 'samples are kept');
  const stopped = await h.stop();
  assert.equal(stopped.code, 139);
});

test('a target that exits mid-run reports its exit code', async () => {
  const h = await launch('exec node stall-server.mjs');
  await get(h.port as number, '/exit?code=7');
  const exit = await h.exited;
  assert.equal(exit.code, 7);
  assert.equal(exit.signal, null);
});

test('stop() sends SIGTERM and escalates to SIGKILL after the grace period', async () => {
  const h = await launch(`node -e "require('http').createServer().listen(0, '127.0.0.1'); process.on('SIGTERM', () => {})"`, {
    stopGraceMs: 300,
  });
  const inner = h.probePid;
  assert.ok(inner !== null && inner !== h.pid, 'the service runs behind the shell');
  const t0 = Date.now();
  await h.stop();
  assert.ok(Date.now() - t0 >= 250, 'waited for the grace period');
  assert.throws(() => process.kill(inner, 0), { code: 'ESRCH' }, 'the service that ignored SIGTERM is gone');
});

test('a TypeScript entry point through the user loader works, with the user NODE_OPTIONS kept', async () => {
  const h = await launch('node ts-server.ts', { env: { NODE_OPTIONS: '--import tsx' } });
  assert.ok(h.port !== null);
  assert.equal(await get(h.port, '/'), 'hello from ts');
  const h2 = await launch('node --import tsx ts-server.ts');
  assert.ok(h2.port !== null);
  assert.equal(await get(h2.port, '/'), 'hello from ts');
  await sleep(300);
  assert.ok(h2.samples().length > 0, 'samples arrive from the TypeScript target');
  // The tsx CLI is a wrapper process that spawns node: the probe follows the process that listens.
  const tsxBin = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
  const h3 = await launch(`"${tsxBin}" ts-server.ts`);
  assert.ok(h3.port !== null);
  assert.equal(await get(h3.port, '/'), 'hello from ts');
  assert.notEqual(h3.probePid, h3.pid);
  await sleep(300);
  const pids = new Set(h3.samples().map((s) => s.pid));
  assert.deepEqual([...pids], [h3.probePid], 'only the service process is sampled');
});

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

test('waitForUrl readiness, with shell quoting and env assignments in the command', async () => {
  const port = await freePort();
  const h = await launch(`PORT=${port} node stall-server.mjs --label "with spaces" 'single'`, {
    waitForUrl: `http://127.0.0.1:${port}/`,
  });
  assert.deepEqual(JSON.parse(await get(port, '/argv')), ['--label', 'with spaces', 'single']);
  assert.equal(h.port, port);
});

test('probe: false starts the same command without the probe', async () => {
  const port = await freePort();
  const h = await launch(`PORT=${port} exec node stall-server.mjs`, { probe: false, waitForUrl: `http://127.0.0.1:${port}/` });
  assert.equal(await get(port, '/'), 'ok');
  assert.equal(h.port, null, 'no probe, no port report');
  await sleep(300);
  assert.equal(h.samples().length, 0);
  await assert.rejects(h.startCpuProfile(), /the probe is not connected/);
});

test('samples can be followed as they arrive', async () => {
  const h = await launch('node stall-server.mjs', { intervalMs: 50 });
  const seen: number[] = [];
  const off = h.onSample((s) => seen.push(s.endEpochMs));
  await sleep(500);
  off();
  assert.ok(seen.length >= 5, `got ${seen.length} samples at 50 ms`);
  assert.equal(h.droppedSamples, 0);
  const n = seen.length;
  await sleep(200);
  assert.equal(seen.length, n, 'unsubscribed');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProfileModel, diagnose, mergeThreadProfiles, type CpuProfile } from '../src/index.ts';
import { makeRunResult, point, sample, seconds } from './helpers/run-result.ts';

const N = 10;
const START_EPOCH_MS = Date.UTC(2026, 0, 1);

/**
 * A profile of a handler that calls crypto's pbkdf2Sync, where V8 reports the time as `run` (no script):
 * 1 ms samples over the whole run, 90 % in `run` under pbkdf2Sync, 10 % in the handler itself.
 */
function pbkdf2Profile(): CpuProfile {
  const frame = (functionName: string, url: string, lineNumber = -1) => ({ functionName, scriptId: '0', url, lineNumber, columnNumber: 0 });
  const nodes = [
    { id: 1, callFrame: frame('(root)', ''), children: [2] },
    { id: 2, callFrame: frame('hashPassword', 'file:///app/src/login.js', 11), children: [3] },
    { id: 3, callFrame: frame('pbkdf2Sync', 'node:internal/crypto/pbkdf2', 40), children: [4] },
    { id: 4, callFrame: frame('run', ''), children: [] },
  ];
  const count = N * 1000;
  const samples = Array.from({ length: count }, (_, i) => (i % 10 === 0 ? 2 : 4));
  return {
    nodes,
    startTime: 0,
    endTime: count * 1000,
    samples,
    timeDeltas: samples.map(() => 1000),
    $redline: { startEpochMs: START_EPOCH_MS, thread: 'main' },
  };
}

function busyRun(latencyP99Ms: number | null) {
  const r = makeRunResult({
    startMs: START_EPOCH_MS,
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 100, 10)),
    samples: seconds(N, (t) => sample(t, { elu: 1, cpuUser: 0.95, cpuSystem: 0.05, loopDelayMs: { mean: 150, p50: 120, p99: 380, max: 500 } })),
  });
  if (latencyP99Ms !== null) r.summary.latency = { count: 1000, min: 1, mean: 30, stdev: 20, max: latencyP99Ms * 1.5, p50: 16, p75: 20, p90: 40, p95: 80, p99: latencyP99Ms, p999: latencyP99Ms * 1.2 };
  return r;
}

test('native frames read as native code inside the nearest JavaScript caller', () => {
  const model = createProfileModel(pbkdf2Profile(), { sourceMaps: false });
  const run = model.frames.find((f) => f.functionName === 'run');
  assert.ok(run !== undefined);
  assert.equal(model.nativeCallers().get(run.index)?.functionName, 'pbkdf2Sync');
  const findings = diagnose(busyRun(null), { profile: model });
  const loop = findings.find((f) => f.category === 'event-loop-blocked');
  assert.ok(loop !== undefined, 'the blocked loop is found');
  const names = loop.frames.map((f) => f.functionName);
  assert.ok(names.includes('native code inside pbkdf2Sync'), `frames: ${names.join(', ')}`);
  assert.ok(!names.includes('run'), 'the bare native name is gone');
  // The app function is still the one responsible: native time counts for its JS caller's caller.
  assert.equal(loop.frames[0]?.functionName, 'hashPassword');
});

test('a native frame with no JavaScript below it keeps its name', () => {
  const p = pbkdf2Profile();
  p.nodes = [
    { id: 1, callFrame: { functionName: '(root)', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, children: [4] },
    { id: 4, callFrame: { functionName: 'run', scriptId: '0', url: '', lineNumber: -1, columnNumber: -1 }, children: [] },
  ];
  p.samples = p.samples.map(() => 4);
  const model = createProfileModel(p, { sourceMaps: false });
  assert.equal(model.nativeCallers().size, 0);
  const cpu = diagnose(busyRun(null), { profile: model }).find((f) => f.category === 'cpu-saturated');
  assert.ok(cpu?.frames.some((f) => f.functionName === 'run'));
});

test("findings quote the run's p99 latency from the summary, not the median of per-second p99s", () => {
  const model = createProfileModel(pbkdf2Profile(), { sourceMaps: false });
  const loop = diagnose(busyRun(165), { profile: model }).find((f) => f.category === 'event-loop-blocked');
  // Per-second p99 is 20 ms in every second; the run's own p99 is 165 ms.
  assert.match(loop?.title ?? '', /, the run's p99 latency 165 ms$/);
  assert.doesNotMatch(loop?.title ?? '', /20 ms/);
});

test('without a run summary latency the per-second median is labelled as such', () => {
  const model = createProfileModel(pbkdf2Profile(), { sourceMaps: false });
  const loop = diagnose(busyRun(null), { profile: model }).find((f) => f.category === 'event-loop-blocked');
  assert.match(loop?.title ?? '', /, median per-second p99 latency 20 ms$/);
});

test('syncFsCalls groups samples under a node:fs …Sync function by the API called and its app caller', () => {
  const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, scriptId: '0', url, lineNumber, columnNumber: 0 });
  const p: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', '', -1), children: [2] },
      { id: 2, callFrame: frame('renderPage', 'file:///app/src/page.js', 9), children: [3] },
      { id: 3, callFrame: frame('readFileSync', 'node:fs', 440), children: [4] },
      { id: 4, callFrame: frame('tryReadSync', 'node:fs', 420), children: [5] },
      { id: 5, callFrame: frame('read', ''), children: [] },
    ],
    startTime: 0,
    endTime: 1_000_000,
    samples: Array.from({ length: 1000 }, (_, i) => (i % 4 === 0 ? 2 : 5)),
    timeDeltas: Array.from({ length: 1000 }, () => 1000),
  };
  const model = createProfileModel(p, { sourceMaps: false });
  const calls = model.syncFsCalls();
  assert.equal(calls.length, 1);
  assert.equal(calls[0]?.call, 'readFileSync');
  assert.equal(calls[0]?.caller?.functionName, 'renderPage');
  assert.equal(calls[0]?.share, 0.75);
});

test('mergeThreadProfiles puts each thread under its label on the main clock and keeps stretches per thread', () => {
  const frame = (functionName: string, url: string) => ({ functionName, scriptId: '0', url, lineNumber: 0, columnNumber: 0 });
  const one = (fn: string, startEpochMs: number, thread: string): CpuProfile => ({
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2] },
      { id: 2, callFrame: frame(fn, `file:///app/${fn}.js`), children: [] },
    ],
    startTime: 5_000_000,
    endTime: 5_100_000,
    samples: Array.from({ length: 100 }, () => 2),
    timeDeltas: Array.from({ length: 100 }, () => 1000),
    $redline: { startEpochMs, thread },
  });
  const merged = mergeThreadProfiles(one('mainWork', START_EPOCH_MS, 'main'), { 'worker-1': one('workerWork', START_EPOCH_MS + 0.5, 'worker-1') });
  const model = createProfileModel(merged, { sourceMaps: false });
  assert.equal(model.sampleCount(), 200);
  const tree = model.flameTree();
  assert.deepEqual(tree.children.map((c) => c.name).sort(), ['thread main', 'thread worker-1']);
  const worker = tree.children.find((c) => c.name === 'thread worker-1');
  assert.equal(worker?.children[0]?.name, 'workerWork');
  assert.equal(worker?.children[0]?.totalSamples, 100);
  // The main thread's function holds its thread for the whole 100 ms, though worker samples interleave.
  const mainFrame = model.frames.find((f) => f.functionName === 'mainWork')!;
  const spans = model.syncSpansMs(mainFrame.index);
  assert.equal(spans.length, 1);
  assert.ok(spans[0]! >= 99, String(spans));
  assert.equal(mergeThreadProfiles(one('x', START_EPOCH_MS, 'main'), {}).nodes.length, 2, 'one thread: unchanged');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregateSamples, eluWindowsFromProfile } from '@redline/probe';
import type { RawProbeSample } from '@redline/probe';

const T0 = 1_700_000_000_000;

function window(startMs: number, endMs: number, over: Partial<RawProbeSample> = {}): RawProbeSample {
  const d = endMs - startMs;
  return {
    pid: 1,
    thread: 'main',
    startEpochMs: T0 + startMs,
    endEpochMs: T0 + endMs,
    elu: { activeMs: d * 0.1, idleMs: d * 0.9 },
    loopDelay: { count: 10, minMs: 0, maxMs: 1, meanMs: 0.5, percentiles: [[0, 0], [50, 0.5], [100, 1]] },
    gc: {},
    heapAfterMajorGcBytes: null,
    heapUsedBytes: 100,
    heapTotalBytes: 200,
    externalBytes: 10,
    rssBytes: 1000,
    cpu: { userUs: d * 100, systemUs: d * 10 },
    activeResources: { TCPServerWrap: 1 },
    dropped: 0,
    ...over,
  };
}

test('windows are bucketed into run seconds; a long window splits its busy time over the seconds it spans', () => {
  const raw: RawProbeSample[] = [];
  for (let t = 0; t < 800; t += 100) raw.push(window(t, t + 100));
  // A 1000 ms window (stalled loop) from 800 to 1800 ms, fully busy, with a 990 ms delay observed at its end.
  raw.push(
    window(800, 1800, {
      elu: { activeMs: 1000, idleMs: 0 },
      loopDelay: { count: 1, minMs: 990, maxMs: 990, meanMs: 990, percentiles: [[0, 990], [100, 990]] },
      gc: { major: { count: 1, totalMs: 50 } },
      heapAfterMajorGcBytes: 77,
    }),
  );
  for (let t = 1800; t < 3000; t += 100) raw.push(window(t, t + 100, { activeResources: { TCPServerWrap: 1, TCPSocketWrap: t === 2500 ? 5 : 1 } }));
  const out = aggregateSamples(raw, T0);
  assert.deepEqual(out.map((s) => s.t), [1, 2, 3]);
  const [s1, s2, s3] = out as [NonNullable<(typeof out)[0]>, NonNullable<(typeof out)[0]>, NonNullable<(typeof out)[0]>];
  // Second 1: 800 ms at 10 % + 200 ms at 100 %.
  assert.equal(s1.elu, 0.28);
  // Second 2: 800 ms at 100 % + 200 ms at 10 %.
  assert.equal(s2.elu, 0.82);
  assert.equal(s2.loopDelayMs.max, 990, 'the delay is seen in the second the stalled window closed');
  assert.equal(s1.loopDelayMs.max, 1);
  assert.equal(s2.gcShare, 0.05);
  assert.deepEqual(s2.gcPauses, { major: { count: 1, totalMs: 50 } });
  assert.equal(s2.heapAfterGcBytes, 77);
  assert.equal(s1.heapAfterGcBytes, null);
  assert.equal(s1.cpuUser, 0.1);
  assert.equal(s1.cpuSystem, 0.01);
  assert.equal(s3.activeResources.TCPSocketWrap, 5, 'maximum per type within the second');
  assert.equal(s3.elu, 0.1);
});

test('loop-delay percentiles merge across windows by weight', () => {
  const raw: RawProbeSample[] = [];
  for (let i = 0; i < 9; i++) raw.push(window(i * 100, i * 100 + 100));
  raw.push(window(900, 1000, { loopDelay: { count: 10, minMs: 40, maxMs: 40, meanMs: 40, percentiles: [[0, 40], [100, 40]] } }));
  const [s] = aggregateSamples(raw, T0);
  assert.ok(s);
  // 45 % of observations at 0.5 ms, 45 % at 1 ms, 10 % at 40 ms.
  assert.equal(s.loopDelayMs.p50, 1);
  assert.equal(s.loopDelayMs.p99, 40);
  assert.equal(s.loopDelayMs.max, 40);
  assert.equal(s.loopDelayMs.mean, (9 * 10 * 0.5 + 10 * 40) / 100);
});

test('windows before the run start are ignored and worker windows become thread ELU', () => {
  const raw = [
    window(-500, -400),
    window(0, 500),
    window(500, 1000),
    window(0, 1000, { thread: 'worker-1', elu: { activeMs: 700, idleMs: 300 }, cpu: null, activeResources: null }),
  ];
  const out = aggregateSamples(raw, T0);
  assert.equal(out.length, 1);
  assert.deepEqual(out[0]?.threads, { 'worker-1': { elu: 0.7 } });
  assert.throws(() => aggregateSamples(raw, Number.NaN), /runStartEpochMs must be a finite epoch ms/);
});

test('a CPU profile replaces the probe ELU over its span, counting (idle) samples as idle', () => {
  // 1000 samples 1 ms apart: the first 250 busy, the rest idle.
  const nodes = [
    { id: 1, callFrame: { functionName: '(root)' } },
    { id: 2, callFrame: { functionName: '(idle)' } },
    { id: 3, callFrame: { functionName: 'work' } },
  ];
  const samples = Array.from({ length: 1000 }, (_, i) => (i < 250 ? 3 : 2));
  const profile = { nodes, samples, timeDeltas: samples.map(() => 1000), startTime: 5_000_000, endTime: 6_000_000 };
  const windows = eluWindowsFromProfile({ profile, startEpochMs: T0 });
  assert.equal(windows.length, 10);
  assert.equal(windows[0]?.activeMs, 100);
  assert.equal(windows[9]?.idleMs, 100);
  // The probe claims 90 % busy (libuv lost the idle time to SIGPROF), the profile says 25 %.
  const raw = [window(0, 1000, { elu: { activeMs: 900, idleMs: 100 } }), window(1000, 2000, { elu: { activeMs: 900, idleMs: 100 } })];
  const out = aggregateSamples(raw, T0, { cpuProfiles: { main: { profile, startEpochMs: T0 } } });
  assert.equal(out[0]?.elu, 0.25);
  assert.equal(out[1]?.elu, 0.9, 'outside the profile the probe value stands');
  assert.deepEqual(eluWindowsFromProfile({ profile: { nodes, samples: [], timeDeltas: [], startTime: 0 }, startEpochMs: T0 }), []);
});

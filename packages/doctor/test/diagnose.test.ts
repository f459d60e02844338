import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import type { Finding, RunResult } from '@redline/core';
import { createProfileModel, diagnose, evidenceMet, formatEvidence, formatFindings, sortFindings, Thresholds, type ProfileModel } from '../src/index.ts';
import { weightedMedianSpan } from '../src/timeline.ts';
import { FIXTURES, recordProfile } from './helpers/record.ts';
import { makeRunResult, point, sample, seconds } from './helpers/run-result.ts';

const MB = 1024 * 1024;
const N = 10;

let hotProfile: ProfileModel;
before(async () => {
  const rec = await recordProfile(`${FIXTURES}hot.mjs`, 500);
  // No epoch clock: findings take their frames from the whole profile.
  hotProfile = createProfileModel(rec.profile);
});

function healthy(): RunResult {
  return makeRunResult({ durationS: N, timeseries: seconds(N, (t) => point(t, 200, 2)), samples: seconds(N, (t) => sample(t)) });
}

function top(findings: Finding[]): Finding {
  const f = findings[0];
  assert.ok(f !== undefined, 'at least one finding');
  return f;
}

function evidence(f: Finding, metric: string): number {
  const e = f.evidence.find((x) => x.metric === metric);
  assert.ok(e !== undefined, `evidence ${metric} in ${f.category}`);
  return e.value;
}

test('healthy-looking data gives "no problem" with its evidence and nothing of high or medium severity', () => {
  const findings = diagnose(healthy());
  assert.ok(!findings.some((f) => f.severity === 'high' || f.severity === 'medium'));
  const f = top(findings);
  assert.equal(f.category, 'no-problem');
  assert.equal(f.severity, 'info');
  assert.equal(f.confidence, 0.8);
  assert.deepEqual(f.window, { startS: 0, endS: N });
  assert.equal(evidence(f, 'target.elu'), 0.15);
  assert.equal(evidence(f, 'target.loop_delay.p99'), 12);
  assert.equal(evidence(f, 'http.errors.rate'), 0);
  assert.match(f.title, /^No problem found: the target kept up with the load \(ELU 0\.15, p99 loop delay 12 ms, 0% errors\)$/);
});

test('no probe data: "no problem" in the load numbers, with low confidence', () => {
  const r = makeRunResult({ durationS: N, timeseries: seconds(N, (t) => point(t, 200, 2)), samples: null });
  const f = top(diagnose(r));
  assert.equal(f.category, 'no-problem');
  assert.equal(f.confidence, 0.4);
  assert.match(f.recommendation, /--target/);
});

test('event loop blocked: long loop delay and a busy loop; the profile names the synchronous function', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 120, 300)),
    samples: seconds(N, (t) => sample(t, { elu: 1, cpuUser: 0.95, cpuSystem: 0.05, loopDelayMs: { mean: 150, p50: 120, p99: 380, max: 500 } })),
  });
  const withProfile = diagnose(r, { profile: hotProfile });
  const f = top(withProfile);
  assert.equal(f.category, 'event-loop-blocked');
  assert.equal(f.severity, 'high');
  assert.match(f.title, /^Event loop blocked by synchronous work in burnCpuHot \(.*hot\.mjs:2\): p99 loop delay 380 ms in 10 of 10 s, median per-second p99 latency 600 ms$/);
  assert.equal(f.frames[0]?.functionName, 'burnCpuHot');
  assert.ok((f.frames[0]?.selfShare ?? 0) > 0.3);
  assert.equal(evidence(f, 'target.loop_delay.p99'), 380);
  assert.ok(evidence(f, 'profile.sync_span.median') >= Thresholds.SYNC_SPAN_BLOCKING_MS);
  assert.match(f.recommendation, /burnCpuHot/);
  // The busy CPU is explained by the blocking calls: it stays, one severity lower.
  const cpu = withProfile.find((x) => x.category === 'cpu-saturated');
  assert.equal(cpu?.severity, 'medium');
  assert.match(cpu?.title ?? '', /the CPU goes to the blocking calls above/);

  const without = top(diagnose(r));
  assert.equal(without.category, 'event-loop-blocked');
  assert.equal(without.frames.length, 0);
});

test('event loop late in one second only is a low-severity finding', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 200, 2)),
    samples: seconds(N, (t) => sample(t, t === 4 ? { loopDelayMs: { mean: 40, p50: 20, p99: 90, max: 120 } } : {})),
  });
  const f = diagnose(r).find((x) => x.category === 'event-loop-blocked');
  assert.equal(f?.severity, 'low');
  assert.deepEqual(f?.window, { startS: 3, endS: 4 });
  assert.ok(!diagnose(r).some((x) => x.severity === 'high'));
});

test('CPU saturated: one core sustained while the loop keeps turning', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 95, 500)),
    samples: seconds(N, (t) => sample(t, { elu: 1, cpuUser: 0.98, cpuSystem: 0.06, loopDelayMs: { mean: 12, p50: 11, p99: 22, max: 30 } })),
  });
  const findings = diagnose(r, { profile: hotProfile });
  const f = top(findings);
  assert.equal(f.category, 'cpu-saturated');
  assert.equal(f.severity, 'high');
  assert.equal(evidence(f, 'target.cpu'), 1.04);
  assert.match(f.title, /^CPU saturated: the process ran at 1\.04 cores \(ELU 1\) in 10 of 10 s; most time goes to burnCpuHot/);
  assert.match(f.recommendation, /worker threads/);
  assert.ok(!findings.some((x) => x.category === 'event-loop-blocked'), findings.map((x) => `${x.severity} ${x.title} ${JSON.stringify(x.evidence)}`).join("\n"));
});

test('ELU near 1 with little CPU (a profiler interrupting an idle loop) is not CPU saturation', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 200, 2)),
    samples: seconds(N, (t) => sample(t, { elu: 0.95, cpuUser: 0.1, cpuSystem: 0.02 })),
  });
  assert.ok(!diagnose(r).some((f) => f.category === 'cpu-saturated'));
});

test('GC pressure outranks the busy CPU and the late loop it causes', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 200, 90)),
    samples: seconds(N, (t) =>
      sample(t, {
        gcShare: 0.22,
        gcPauses: { minor: { count: 90, totalMs: 180 }, major: { count: 4, totalMs: 40 } },
        elu: 0.95,
        cpuUser: 0.9,
        cpuSystem: 0.05,
        loopDelayMs: { mean: 30, p50: 20, p99: 150, max: 200 },
      }),
    ),
  });
  const findings = diagnose(r);
  const f = top(findings);
  assert.equal(f.category, 'gc-pressure');
  assert.equal(f.severity, 'high');
  assert.equal(evidence(f, 'target.gc_share'), 0.22);
  assert.equal(f.title, 'GC pressure: 22% of wall time in GC pauses (minor 900× 1800 ms, major 40× 400 ms)');
  assert.equal(findings.find((x) => x.category === 'cpu-saturated')?.severity, 'medium');
  assert.equal(findings.find((x) => x.category === 'event-loop-blocked')?.severity, 'medium');
});

test('GC share between the two thresholds is medium severity; below them no finding', () => {
  const mk = (share: number): RunResult =>
    makeRunResult({ durationS: N, timeseries: seconds(N, (t) => point(t, 200, 2)), samples: seconds(N, (t) => sample(t, { gcShare: share })) });
  assert.equal(diagnose(mk(0.1)).find((f) => f.category === 'gc-pressure')?.severity, 'medium');
  assert.equal(diagnose(mk(0.05)).find((f) => f.category === 'gc-pressure'), undefined);
});

test('memory leak: heap after GC grows linearly; slope in MB/min with confidence from the fit', () => {
  // +5 MB per GC point every 2 s = 150 MB/min, with a little noise.
  const noise = [0, 0.4, -0.3, 0.2, -0.1, 0.3, -0.4, 0.1, 0, -0.2, 0.2, 0, 0.1, -0.3, 0.2, 0.1, -0.1, 0.3, 0, -0.2];
  const n = 20;
  const r = makeRunResult({
    durationS: n,
    timeseries: seconds(n, (t) => point(t, 200, 3)),
    samples: seconds(n, (t) => sample(t, { heapUsedBytes: (60 + 2.5 * t) * MB, heapAfterGcBytes: t % 2 === 0 ? (40 + 2.5 * t + noise[t - 1]!) * MB : null })),
  });
  const f = top(diagnose(r));
  assert.equal(f.category, 'memory-leak');
  assert.equal(f.severity, 'high');
  const slope = evidence(f, 'target.heap_after_gc.slope');
  assert.ok(Math.abs(slope - 150) < 5, `slope ${slope}`);
  assert.ok(evidence(f, 'target.heap_after_gc.r2') > 0.99);
  // R² 1 with ten points; without heap snapshots naming the holder it stays below 0.95.
  assert.ok(f.confidence > 0.85 && f.confidence < 0.95, String(f.confidence));
  assert.deepEqual(f.window, { startS: 1, endS: 20 });
  assert.match(f.title, /^Memory leak: heap after full GC grows 1\d\d\.\d MB\/min \(R² 1, \+4\d\.\d MB over 18 s, 10 full GCs\)$/);
});

test('heap used alone is no evidence of a leak: an info finding says why; a warm-up that levels off is no leak', () => {
  const n = 12;
  const leaking = makeRunResult({
    durationS: n,
    timeseries: seconds(n, (t) => point(t, 200, 3)),
    samples: seconds(n, (t) => sample(t, { heapUsedBytes: (20 + 3 * t) * MB })),
  });
  const f = diagnose(leaking).find((x) => x.category === 'memory-leak');
  assert.ok(f !== undefined);
  assert.equal(f.severity, 'info');
  assert.match(f.title, /^Heap used grows 180 MB\/min, but with 0 full GCs \(fewer than 5\) there is no evidence of a leak/);
  assert.ok(f.confidence <= 0.3, String(f.confidence));
  assert.match(f.recommendation, /--no-full-gc/);

  const warmup = makeRunResult({
    durationS: n,
    timeseries: seconds(n, (t) => point(t, 200, 3)),
    samples: seconds(n, (t) => sample(t, { heapAfterGcBytes: (20 + 40 * Math.min(t, 4) / 4) * MB })),
  });
  assert.equal(diagnose(warmup).find((x) => x.category === 'memory-leak'), undefined);
});

test('heap that grows with a building backlog is no leak; a leak under steady load still is', () => {
  // A saturated server: requests in flight climb from 2 to 32 and the heap after GC climbs with them
  // (each waiting request holds ~1.3 MB), as the gc-churn demo measured; nothing is kept after a response.
  const n = 8;
  const backlog = (t: number): number => Math.min(32, 2 + 5 * t);
  const saturated = makeRunResult({
    durationS: n,
    timeseries: seconds(n, (t) => ({ ...point(t, 170, 400), inFlight: backlog(t) })),
    samples: seconds(n, (t) => sample(t, { heapAfterGcBytes: (60 + 1.3 * backlog(t) + [0, 0.3, -0.2, 0.1, -0.3, 0.2, 0, -0.1][t - 1]!) * MB })),
  });
  assert.equal(diagnose(saturated).find((x) => x.category === 'memory-leak'), undefined);

  // The same heap curve with a steady 3 requests in flight is a leak (growth per completed request).
  const leaking = makeRunResult({
    durationS: n,
    timeseries: seconds(n, (t) => ({ ...point(t, 200, 3), inFlight: 3 })),
    samples: seconds(n, (t) => sample(t, { heapAfterGcBytes: (60 + 1.3 * backlog(t)) * MB })),
  });
  assert.equal(top(diagnose(leaking)).category, 'memory-leak');

  // A leak while the backlog builds: the heap grows with time beyond what requests in flight hold.
  const both = makeRunResult({
    durationS: n,
    timeseries: seconds(n, (t) => ({ ...point(t, 170, 400), inFlight: backlog(t) })),
    samples: seconds(n, (t) => sample(t, { heapAfterGcBytes: (60 + 1.3 * backlog(t) + 4 * t) * MB })),
  });
  const leak = diagnose(both).find((x) => x.category === 'memory-leak');
  assert.ok(leak !== undefined, 'the leak under a growing backlog is found');
  assert.ok(Math.abs(evidence(leak, 'target.heap_after_gc.slope') - 240) < 10, 'its slope leaves out the backlog');
});

test('the thread-pool rule reads only the delay beyond the loop\'s worst turns: a full pool yes, a GC-bound loop no', () => {
  const n = 8;
  const tp = (mean: number) => ({ mean, max: mean });
  // The threadpool demo: an idle loop (ELU 0.1, p99 2 ms) and a 1.3 s wait for a 1-byte randomFill.
  const full = makeRunResult({
    durationS: n,
    timeseries: seconds(n, (t) => point(t, 30, 1300)),
    samples: seconds(n, (t) => sample(t, { elu: 0.1, loopDelayMs: { mean: 1, p50: 1, p99: 2, max: 3 }, threadpoolDelayMs: tp(1300) })),
  });
  assert.equal(top(diagnose(full)).category, 'threadpool-saturated');
  // gc-churn at 300/s: the loop itself is late (mean 90 ms, p99 200 ms) and delays the completion by as much.
  const gcBound = makeRunResult({
    durationS: n,
    timeseries: seconds(n, (t) => point(t, 230, 1000)),
    samples: seconds(n, (t) => sample(t, { elu: 0.99, loopDelayMs: { mean: 90, p50: 85, p99: 200, max: 240 }, threadpoolDelayMs: tp(130) })),
  });
  assert.equal(diagnose(gcBound).find((x) => x.category === 'threadpool-saturated'), undefined);
});

test('waiting on something outside: low CPU, high latency, timers and sockets pile up (pool waiters)', () => {
  const n = 10;
  // Second 0 (before the load) gives the resource baseline.
  const samples = [sample(0, { activeResources: { TCPServerWrap: 1 } }), ...seconds(n, (t) => sample(t, { elu: 0.1, cpuUser: 0.06, cpuSystem: 0.02, activeResources: { TCPServerWrap: 1, TCPSocketWrap: 64, Timeout: 60 } }))];
  const r = makeRunResult({ durationS: n, timeseries: seconds(n, (t) => point(t, 100, 150 + 50 * t)), samples });
  const f = top(diagnose(r));
  assert.equal(f.category, 'waiting-external');
  assert.equal(f.severity, 'high');
  assert.equal(evidence(f, 'target.active_resources.Timeout'), 60);
  assert.equal(evidence(f, 'target.active_resources.TCPSocketWrap'), 64);
  assert.ok(evidence(f, 'target.wait_share') > 0.99);
  assert.match(f.title, /^Waiting on something outside: median per-second p50 latency 425 ms and rising \(from 250 ms\) while CPU and ELU stay low; 64 sockets \(TCPSocketWrap\), 60 timers \(Timeout\)$/);
  assert.match(f.recommendation, /pool/);
});

test('waiting on a downstream: sockets pile up and the advice is about the downstream call', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 200, 130)),
    samples: seconds(N, (t) => sample(t, { elu: 0.2, cpuUser: 0.15, cpuSystem: 0.05, activeResources: { TCPServerWrap: 1, TCPSocketWrap: 90 } })),
  });
  const f = top(diagnose(r));
  assert.equal(f.category, 'waiting-external');
  assert.match(f.recommendation, /downstream/);
  // Fast responses at low CPU are not waiting.
  assert.ok(!diagnose(healthy()).some((x) => x.category === 'waiting-external'));
});

test('generator-limited comes from the load engine self-check', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 200, 2)),
    samples: seconds(N, (t) => sample(t)),
    generator: { limited: true, reasons: ['schedule lag p99 40 ms'], eluMax: 0.99, cpuCoresMean: 0.97, scheduleLagMs: { p50: 5, p99: 40, max: 90 } },
  });
  const f = diagnose(r).find((x) => x.category === 'generator-limited');
  assert.ok(f !== undefined);
  assert.equal(f.severity, 'medium');
  assert.equal(f.title, 'Load generator was the limit (schedule lag p99 40 ms): the numbers describe the generator, not the target');
  assert.equal(evidence(f, 'generator.elu.max'), 0.99);
});

test('errors: spikes by kind and when', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => (t === 6 || t === 7 ? point(t, 100, 5, 40, { timeout: 40 }) : point(t, 100, 5))),
    samples: seconds(N, (t) => sample(t)),
    errorsByKind: { timeout: 80 },
  });
  const f = top(diagnose(r));
  assert.equal(f.category, 'errors');
  assert.equal(f.severity, 'high');
  assert.equal(f.title, 'Errors: 8% of requests failed (timeout 80), spikes in 2 s from t=6s to t=7s');
  assert.deepEqual(f.window, { startS: 5, endS: 7 });
  assert.equal(evidence(f, 'http.errors.rate.peak_second'), 0.4);
  assert.match(f.recommendation, /timed out/);
});

test('target exited: "target exited (code or signal) at t=…", high severity', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, t <= 7 ? 200 : 0, 2, t > 7 ? 50 : 0, t > 7 ? { connect_refused: 50 } : {})),
    samples: seconds(7, (t) => sample(t)),
    exit: { code: null, signal: 'SIGKILL', t: 7.4 },
  });
  const findings = diagnose(r);
  const f = top(findings);
  assert.equal(f.category, 'target-exited');
  assert.equal(f.title, 'Target exited (signal SIGKILL) at t=7.4s');
  assert.equal(f.confidence, 1);
  assert.match(f.recommendation, /out of memory/);
  const byCode = makeRunResult({ durationS: N, timeseries: [], samples: [], exit: { code: 1, signal: null, t: 3 } });
  assert.equal(top(diagnose(byCode)).title, 'Target exited (code 1) at t=3s');
});

test('findings are ordered by severity, then confidence', () => {
  const mk = (category: Finding['category'], severity: Finding['severity'], confidence: number): Finding => ({
    category,
    severity,
    confidence,
    title: category,
    window: { startS: 0, endS: 1 },
    evidence: [],
    frames: [],
    recommendation: '',
  });
  const sorted = sortFindings([mk('errors', 'low', 0.9), mk('gc-pressure', 'high', 0.6), mk('memory-leak', 'high', 0.9), mk('no-problem', 'info', 1), mk('cpu-saturated', 'medium', 0.5)]);
  assert.deepEqual(sorted.map((f) => f.category), ['memory-leak', 'gc-pressure', 'cpu-saturated', 'errors', 'no-problem']);
});

test('bad input is rejected with REDLINE_ERR_INVALID_ARGUMENT', () => {
  assert.throws(() => diagnose({ kind: 'compare' } as unknown as RunResult), {
    code: 'REDLINE_ERR_INVALID_ARGUMENT',
    message: 'diagnose needs a run result (result.json with kind "run")',
  });
  assert.throws(() => diagnose(healthy(), { profile: {} as unknown as ProfileModel }), {
    code: 'REDLINE_ERR_INVALID_ARGUMENT',
    message: 'diagnose: profile must be a ProfileModel from createProfileModel()',
  });
});

test('formatFindings renders severity, evidence against thresholds, frames and the recommendation', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 120, 300)),
    samples: seconds(N, (t) => sample(t, { elu: 1, cpuUser: 0.95, cpuSystem: 0.05, loopDelayMs: { mean: 150, p50: 120, p99: 380, max: 500 } })),
  });
  const findings = diagnose(r, { profile: hotProfile });
  const text = formatFindings(findings, { maxFrames: 1 });
  const first = text.split('\n\n')[0]!.split('\n');
  assert.match(first[0]!, /^HIGH {2}event-loop-blocked {2}\(confidence \d+%, t=0–10 s\)$/);
  assert.match(first[1]!, /^ {2}Event loop blocked by synchronous work in burnCpuHot/);
  assert.match(first[2]!, /^ {2}evidence: target\.loop_delay\.p99 380 ms \(meets ≥ 50 ms\); target\.loop_delay\.seconds_share 100% \(meets ≥ 50%\)/);
  assert.match(first[3]!, /^ {2}\s*\d+\.\d% self\s+\d+\.\d% total {2}burnCpuHot {2}.*hot\.mjs:2 {2}\[app\]$/);
  assert.match(first[4]!, /^ {2}→ Take the synchronous work in burnCpuHot/);
  assert.equal(first.length, 5);
  assert.equal(formatFindings([]), '');
});

test('evidence that misses its threshold says so instead of reading as a contradiction', () => {
  const e = { metric: 'target.cpu', value: 0.69, threshold: 0.9, comparison: '>=', unit: 'cores' } as const;
  assert.equal(formatEvidence(e), 'target.cpu 0.69 cores (does not meet ≥ 0.9 cores)');
  assert.equal(evidenceMet(e), false);
  assert.equal(formatEvidence({ metric: 'target.elu', value: 1, threshold: 0.95, comparison: '>=', unit: 'ratio' }), 'target.elu 100% (meets ≥ 95%)');
});

test('"no problem" is not claimed when a number is bad but no rule explains it', () => {
  const r = makeRunResult({ durationS: N, timeseries: seconds(N, (t) => point(t, 120, 377)), samples: null });
  const f = top(diagnose(r));
  assert.equal(f.category, 'no-problem');
  assert.equal(f.confidence, 0.3);
  assert.equal(f.title, 'No bottleneck identified, but http.latency.p50 377 ms is past the healthy threshold');
  assert.match(f.recommendation, /--target/);
});

test('requests still unanswered at the end (interrupted) rank below the cause, as timeouts do', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 100, 900, 20, { interrupted: 20 })),
    samples: seconds(N, (t) => sample(t, { elu: 1, cpuUser: 0.35, cpuSystem: 0.02, loopDelayMs: { mean: 200, p50: 180, p99: 300, max: 320 } })),
    errorsByKind: { interrupted: 200 },
  });
  const findings = diagnose(r, { profile: hotProfile });
  assert.equal(top(findings).category, 'event-loop-blocked', findings.map((x) => x.title).join('\n'));
  const errors = findings.find((x) => x.category === 'errors');
  assert.ok(errors !== undefined);
  assert.equal(errors.severity, 'medium');
  assert.match(errors.title, /\(timeouts: a symptom of event-loop-blocked above\)$/);
});

test('timeouts caused by a blocked loop rank below the cause; a starved, idle generator too', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 100, 900, 20, { timeout: 20 })),
    samples: seconds(N, (t) => sample(t, { elu: 1, cpuUser: 0.35, cpuSystem: 0.02, loopDelayMs: { mean: 200, p50: 180, p99: 300, max: 320 } })),
    errorsByKind: { timeout: 200 },
    generator: { limited: true, reasons: ['iterations started late'], eluMax: 0.1, cpuCoresMean: 0.05 },
  });
  const findings = diagnose(r, { profile: hotProfile });
  const f = top(findings);
  assert.equal(f.category, 'event-loop-blocked', findings.map((x) => x.title).join('\n'));
  assert.equal(f.severity, 'high');
  const errors = findings.find((x) => x.category === 'errors');
  assert.ok(errors !== undefined);
  assert.equal(errors.severity, 'medium');
  assert.match(errors.title, /\(timeouts: a symptom of event-loop-blocked above\)$/);
  const gen = findings.find((x) => x.category === 'generator-limited');
  assert.ok(gen !== undefined);
  assert.equal(gen.severity, 'medium');
  assert.ok(findings.indexOf(gen) > findings.indexOf(f));
  // A never-idle thread at 0.37 cores is CPU saturation on a crowded machine, explained by the loop.
  const cpu = findings.find((x) => x.category === 'cpu-saturated');
  assert.ok(cpu !== undefined);
  assert.equal(cpu.severity, 'medium');
  assert.match(cpu.title, /the machine gave it less than a core/);
});

test('a starved, idle generator ranks below a medium cause', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 100, 2)),
    samples: seconds(N, (t) => sample(t, { gcShare: 0.1 })),
    generator: { limited: true, reasons: ['iterations started late'], eluMax: 0.1, cpuCoresMean: 0.05 },
  });
  const findings = diagnose(r);
  assert.equal(top(findings).category, 'gc-pressure', findings.map((x) => x.title).join('\n'));
  assert.equal(top(findings).severity, 'medium');
  const gen = findings.find((x) => x.category === 'generator-limited');
  assert.equal(gen?.severity, 'low');
  assert.match(gen?.title ?? '', /\(the generator was idle: the machine was short of CPU\)$/);
});

test('errors that are not timeouts stay high next to a cause; timeouts without a cause stay high', () => {
  const mk = (kind: string): RunResult =>
    makeRunResult({
      durationS: N,
      timeseries: seconds(N, (t) => point(t, 100, 900, 20, { [kind]: 20 })),
      samples: seconds(N, (t) => sample(t, { elu: 1, cpuUser: 0.98, cpuSystem: 0.02, loopDelayMs: { mean: 200, p50: 180, p99: 300, max: 320 } })),
      errorsByKind: { [kind]: 200 },
    });
  const resets = diagnose(mk('reset'), { profile: hotProfile }).find((x) => x.category === 'errors');
  assert.equal(resets?.severity, 'high');
  const alone = makeRunResult({ durationS: N, timeseries: seconds(N, (t) => point(t, 100, 5, 20, { timeout: 20 })), samples: seconds(N, (t) => sample(t)), errorsByKind: { timeout: 200 } });
  assert.equal(top(diagnose(alone)).category, 'errors');
  assert.equal(top(diagnose(alone)).severity, 'high');
});

test('chunked work (immediates pile up) with a late loop is CPU saturation, not a blocked loop', () => {
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 95, 500)),
    samples: seconds(N, (t) => sample(t, { elu: 1, cpuUser: 0.4, cpuSystem: 0.02, loopDelayMs: { mean: 40, p50: 35, p99: 80, max: 90 }, activeResources: { TCPSocketWrap: 16, Immediate: 15 } })),
  });
  const findings = diagnose(r, { profile: hotProfile });
  assert.equal(top(findings).category, 'cpu-saturated', findings.map((x) => x.title).join('\n'));
  assert.equal(top(findings).severity, 'high');
  const loop = findings.find((x) => x.category === 'event-loop-blocked');
  assert.ok(loop !== undefined);
  assert.equal(loop.severity, 'medium');
  assert.equal(evidence(loop, 'target.active_resources.Immediate'), 15);
});

test('below saturation, long synchronous calls and a loop late by their length are a medium blocked loop', () => {
  const spans = hotProfile.syncSpansMs(hotProfile.attributedFrames(undefined, 1)[0]!.frameIndex);
  const spanMedianMs = weightedMedianSpan(spans);
  const p99 = Math.max(Thresholds.SYNC_SPAN_BLOCKING_MS, spanMedianMs / 2) + 5;
  const r = makeRunResult({
    durationS: N,
    timeseries: seconds(N, (t) => point(t, 60, 12)),
    samples: seconds(N, (t) => sample(t, { elu: 0.6, cpuUser: 0.5, cpuSystem: 0.02, loopDelayMs: { mean: p99 / 2, p50: p99 / 2, p99, max: p99 + 1 } })),
  });
  const findings = diagnose(r, { profile: hotProfile });
  const f = top(findings);
  assert.equal(f.category, 'event-loop-blocked', findings.map((x) => x.title).join('\n'));
  // The recorded fixture's stretch varies with the machine: below LOOP_DELAY_P99_MS only the profile proves it.
  assert.equal(f.severity, p99 < Thresholds.LOOP_DELAY_P99_MS ? 'medium' : 'high');
  assert.equal(evidence(f, 'target.loop_delay.p99'), Math.round(p99 * 100) / 100);
  assert.match(f.title, /burnCpuHot/);
});

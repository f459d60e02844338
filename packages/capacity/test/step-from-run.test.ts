import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isRedlineError, LatencyHistogram, type RunResult, type TimeseriesPoint } from '@redline/core';
import { measurementFromRunResult, type StepSpec } from '../src/index.ts';

/** A run of `seconds` seconds; second i records `perSecond` requests of (i + 1) × 10 ms, `errors` of them failed. */
function fakeRun(seconds: number, perSecond: number, errors: number, extra: Partial<TimeseriesPoint> = {}): RunResult {
  const timeseries: TimeseriesPoint[] = [];
  const intervals: string[] = [];
  for (let i = 0; i < seconds; i++) {
    const h = new LatencyHistogram();
    h.recordMs((i + 1) * 10, perSecond);
    intervals.push(h.encode());
    const q = { p50: 0, p90: 0, p99: 0, max: 0 };
    timeseries.push({
      t: i + 1,
      requests: perSecond,
      errors,
      errorsByKind: {},
      latency: q,
      serviceTime: q,
      iterations: perSecond,
      iterationsDropped: 0,
      vus: 4,
      intendedRate: perSecond,
      scheduleLagMs: { p50: 0, p99: 0, max: 0 },
      ...extra,
    });
  }
  // Only the fields the adapter reads are filled; the rest of RunResult is irrelevant here.
  return { timeseries, histograms: { intervals, latency: '', serviceTime: '', byName: {} }, generator: { limited: false } } as unknown as RunResult;
}

const STEP: StepSpec = { model: 'open', level: 100, durationMs: 3000, warmupMs: 2000 };

describe('measurementFromRunResult', () => {
  it('measures only the seconds after warm-up', () => {
    const m = measurementFromRunResult(fakeRun(5, 100, 2), STEP, { percentiles: [95], runDir: '/tmp/run-1' });
    // Seconds 3..5 recorded 30, 40 and 50 ms; warm-up seconds (10, 20 ms) are excluded.
    assert.ok(Math.abs(m.latency.mean - 40) < 0.1, `mean ${m.latency.mean}`);
    assert.ok(Math.abs(m.latency.max - 50) < 0.1);
    assert.ok(Math.abs(m.latency.p50 - 40) < 0.1);
    assert.ok(m.percentiles && Math.abs(m.percentiles['95']! - 50) < 0.1);
    assert.equal(m.throughput, 98);
    assert.equal(m.errorRate, 0.02);
    assert.equal(m.concurrencyMean, 4);
    assert.equal(m.generatorLimited, false);
    assert.equal(m.runDir, '/tmp/run-1');
  });

  it('counts throughput over the planned seconds only, but latency also from the drain after them', () => {
    const run = fakeRun(6, 100, 0);
    // Second 6 is the drain after the planned 5 s: few completions, one slow one.
    run.timeseries[5] = { ...run.timeseries[5]!, requests: 7 };
    const slow = new LatencyHistogram();
    slow.recordMs(900, 7);
    run.histograms.intervals[5] = slow.encode();
    const m = measurementFromRunResult(run, STEP);
    assert.equal(m.throughput, 100);
    assert.ok(Math.abs(m.latency.max - 900) < 1, `max ${m.latency.max}`);
  });

  it('prefers a measured in-flight count over VUs when the engine writes one', () => {
    const run = fakeRun(3, 10, 0, { inFlight: 2.5 } as Partial<TimeseriesPoint>);
    assert.equal(measurementFromRunResult(run, { ...STEP, warmupMs: 0 }).concurrencyMean, 2.5);
  });

  it('refuses a run with no second after warm-up', () => {
    assert.throws(
      () => measurementFromRunResult(fakeRun(2, 10, 0), STEP),
      (err: unknown) =>
        isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') &&
        err.message === 'the step at level 100 has no measured seconds after its 2000 ms warm-up (run lasted 2 s)',
    );
  });
});

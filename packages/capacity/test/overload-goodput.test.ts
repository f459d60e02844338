import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LatencyHistogram, type RunResult, type TimeseriesPoint } from '@redline/core';
import { goodputSeconds, parseSlo } from '../src/index.ts';

/**
 * One second of an open-model step: `ok` responses at 40 ms, `refused` 503s at 1 ms and `timedOut`
 * requests the client gave up on at its timeout (recorded at `timeoutMs` + 30 ms, as the timeout sweep
 * finds them), with a request timeout of `timeoutMs`.
 */
function step(ok: number, refused: number, timedOut: number, timeoutMs: number): RunResult {
  const h = new LatencyHistogram();
  if (ok > 0) h.recordMs(40, ok);
  if (refused > 0) h.recordMs(1, refused);
  if (timedOut > 0) h.recordMs(timeoutMs + 30, timedOut);
  const q = { p50: 0, p90: 0, p99: 0, max: 0 };
  const point: TimeseriesPoint = {
    t: 1,
    requests: ok + refused + timedOut,
    errors: refused + timedOut,
    errorsByKind: { ...(refused > 0 && { http_5xx: refused }), ...(timedOut > 0 && { timeout: timedOut }) },
    latency: q,
    serviceTime: q,
    iterations: ok + refused + timedOut,
    iterationsDropped: 0,
    vus: 10,
    intendedRate: 100,
    scheduleLagMs: { p50: 0, p99: 0, max: 0 },
  };
  // Only the fields goodputSeconds reads.
  return { config: { timeoutMs }, timeseries: [point], histograms: { intervals: [h.encode()], latency: '', serviceTime: '', byName: {} } } as unknown as RunResult;
}

/** A 1 s step's run as the engine writes it: second 1, then a drain second (nothing offered) of 8 stragglers. */
function withDrain(): RunResult {
  const r = step(90, 0, 0, 2000);
  const h = new LatencyHistogram();
  h.recordMs(60, 8);
  r.timeseries.push({ ...r.timeseries[0]!, t: 2, requests: 8, iterations: 8, intendedRate: 0 });
  r.histograms.intervals.push(h.encode());
  return r;
}

describe('goodputSeconds', () => {
  it('adds the drain second after the schedule to the last scheduled second', () => {
    const seconds = goodputSeconds(withDrain(), parseSlo('p(99)<250'), 10, 100, 1);
    assert.deepEqual(seconds.map((s) => [s.t, s.goodput, s.requests]), [[11, 98, 98]], 'one second of 98 good responses, not a mean of 49 over two');
    assert.equal(goodputSeconds(withDrain(), parseSlo('p(99)<250'), 0, 100).length, 2, 'without a schedule length every second is kept');
  });


  it('counts neither refusals nor the requests the client gave up on when the SLO limit is under the timeout', () => {
    const [s] = goodputSeconds(step(60, 25, 15, 2000), parseSlo('p(99)<250'), 0, 100);
    assert.equal(s!.goodput, 60);
    assert.equal(s!.errors, 40);
  });

  it('does not count timeouts as goodput when the SLO limit is at or above the request timeout', () => {
    // p(99)<5000 with a 2 s timeout: the abandoned requests' 2.03 s lies inside the latency bound.
    const [s] = goodputSeconds(step(60, 25, 15, 2000), parseSlo('p(99)<5000'), 0, 100);
    assert.equal(s!.goodput, 60, 'the 15 timeouts are not good responses');
    const [exact] = goodputSeconds(step(60, 0, 15, 2000), parseSlo('p(99)<2000'), 0, 100);
    assert.equal(exact!.goodput, 60, 'a limit equal to the timeout');
  });
});

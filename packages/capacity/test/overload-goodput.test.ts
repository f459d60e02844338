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

describe('goodputSeconds', () => {
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

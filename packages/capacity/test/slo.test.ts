import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { exitCodeFor, isRedlineError } from '@redline/core';
import { burnRate, exceedanceFromQuantiles, meetsSlo, parseSlo } from '../src/index.ts';

const EXPECTED = 'expected p(<percentile>)<<limit>, such as p(99)<100 or p(99.9)<=250ms (limit in ms unless a unit us, ms or s is given)';

function rejects(expression: string, message: string): void {
  assert.throws(
    () => parseSlo(expression),
    (err: unknown) => {
      assert.ok(isRedlineError(err, 'REDLINE_ERR_INVALID_THRESHOLD'), String(err));
      assert.equal(err.message, message);
      assert.equal(exitCodeFor(err), 2);
      return true;
    },
  );
}

describe('parseSlo', () => {
  it('parses p(99)<100 as 99th percentile under 100 ms', () => {
    assert.deepEqual(parseSlo('p(99)<100'), { percentile: 99, limitMs: 100, inclusive: false, expression: 'p(99)<100' });
  });

  it('accepts spaces, fractional percentiles, <= and units', () => {
    assert.deepEqual(parseSlo(' p(99.9) <= 1.5s '), { percentile: 99.9, limitMs: 1500, inclusive: true, expression: 'p(99.9) <= 1.5s' });
    assert.equal(parseSlo('p(95)<250ms').limitMs, 250);
    assert.equal(parseSlo('p(50)<800us').limitMs, 0.8);
  });

  it('rejects expressions that do not parse, naming the expected form', () => {
    rejects('p99<100', `invalid SLO "p99<100": ${EXPECTED}`);
    rejects('p(99)>100', `invalid SLO "p(99)>100": ${EXPECTED}`);
    rejects('p(99)<100 minutes', `invalid SLO "p(99)<100 minutes": ${EXPECTED}`);
    rejects('', `invalid SLO "": ${EXPECTED}`);
  });

  it('rejects a percentile above 100 or of 0, and a zero limit', () => {
    rejects('p(101)<100', 'invalid SLO "p(101)<100": the percentile must be greater than 0 and at most 100, got 101');
    rejects('p(0)<100', 'invalid SLO "p(0)<100": the percentile must be greater than 0 and at most 100, got 0');
    rejects('p(99)<0', 'invalid SLO "p(99)<0": the latency limit must be greater than 0');
  });
});

describe('SLO arithmetic', () => {
  it('compares strictly or inclusively', () => {
    assert.equal(meetsSlo(parseSlo('p(99)<100'), 100), false);
    assert.equal(meetsSlo(parseSlo('p(99)<=100'), 100), true);
  });

  it('computes burn rate against the allowed share', () => {
    const slo = parseSlo('p(99)<100');
    assert.ok(Math.abs(burnRate(slo, 0.02) - 2) < 1e-12);
    assert.equal(burnRate(parseSlo('p(100)<100'), 0.001), Infinity);
  });

  it('estimates exceedance from measured quantiles consistently with them', () => {
    const q = { p50: 10, p90: 40, p99: 100, max: 300 };
    assert.ok(Math.abs(exceedanceFromQuantiles(q, 40) - 0.1) < 1e-12);
    assert.ok(Math.abs(exceedanceFromQuantiles(q, 100) - 0.01) < 1e-12);
    assert.equal(exceedanceFromQuantiles(q, 300), 0);
    const mid = exceedanceFromQuantiles(q, 70);
    assert.ok(mid < 0.1 && mid > 0.01);
  });
});

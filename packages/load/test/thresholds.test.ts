import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCodes, LatencyHistogram, RedlineError } from '@redline/core';
import { evaluateThresholds, parseThresholdExpression, parseThresholds, resolvePlan, runLoad, startLoad, type MetricSource } from '@redline/load';
import { startTestServer, type TestServer } from './fixtures/test-server.ts';

let srv: TestServer;
before(async () => {
  srv = await startTestServer();
});
after(async () => {
  await srv.close();
});

function invalid(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof RedlineError);
    assert.equal(err.code, ErrorCodes.INVALID_THRESHOLD);
    assert.equal(err.message, message);
    return true;
  });
}

describe('threshold parsing', () => {
  it('parses k6 expressions', () => {
    const p95 = parseThresholdExpression('http.latency', 'p(95)<200');
    assert.deepEqual(
      { metric: p95.metric, tags: p95.tags, aggregation: p95.aggregation, percentile: p95.percentile, operator: p95.operator, value: p95.value, abortOnFail: p95.abortOnFail },
      { metric: 'http.latency', tags: {}, aggregation: 'p', percentile: 95, operator: '<', value: 200, abortOnFail: false },
    );
    const p999 = parseThresholdExpression('http.latency', ' p( 99.9 ) <  1000 ');
    assert.equal(p999.percentile, 99.9);
    assert.equal(p999.value, 1000);
    assert.equal(parseThresholdExpression('http.latency', 'max<2000').aggregation, 'max');
    // A unit on the value is converted to ms.
    assert.equal(parseThresholdExpression('http.latency', 'max<=2s').value, 2000);
    assert.equal(parseThresholdExpression('http.latency', 'max<=2s').operator, '<=');
    assert.equal(parseThresholdExpression('http.service_time', 'avg>=1.5').value, 1.5);
    assert.equal(parseThresholdExpression('http.errors', 'rate<0.01').aggregation, 'rate');
    assert.equal(parseThresholdExpression('checks', 'rate>0.99').operator, '>');
    assert.equal(parseThresholdExpression('iterations.dropped', 'count==0').operator, '==');
    assert.equal(parseThresholdExpression('iterations.dropped', 'count===0').operator, '==');
  });

  it('parses tag filters', () => {
    assert.deepEqual(parseThresholdExpression('http.latency{name:login}', 'p(99)<50').tags, { name: 'login' });
    assert.deepEqual(parseThresholdExpression('http.errors{scenario:api, status:5xx}', 'count<1').tags, { scenario: 'api', status: '5xx' });
    assert.deepEqual(parseThresholdExpression('checks{check:has token}', 'rate==1').tags, { check: 'has token' });
    assert.deepEqual(parseThresholdExpression('http.latency{name:GET /a:b}', 'max<1').tags, { name: 'GET /a:b' });
  });

  it('parses the object form with abortOnFail and delayAbortEval', () => {
    const list = parseThresholds({
      'http.latency': ['p(95)<200', { threshold: 'p(99)<500', abortOnFail: true, delayAbortEval: '10s' }],
      checks: [{ threshold: 'rate>0.9' }],
    });
    assert.deepEqual(
      list.map((t) => [t.key, t.expression, t.abortOnFail, t.delayAbortEvalMs]),
      [
        ['http.latency', 'p(95)<200', false, 0],
        ['http.latency', 'p(99)<500', true, 10_000],
        ['checks', 'rate>0.9', false, 0],
      ],
    );
    assert.deepEqual(parseThresholds(undefined), []);
  });

  it('rejects invalid expressions naming metric, expression and position', () => {
    invalid(() => parseThresholdExpression('http.latency', 'p95<200'), 'invalid threshold for "http.latency": "p95<200" at position 1: expected an aggregation: avg, min, max, med, p(N), rate, count or value');
    invalid(() => parseThresholdExpression('http.latency', 'p(95)<<200'), 'invalid threshold for "http.latency": "p(95)<<200" at position 7: expected a number');
    invalid(() => parseThresholdExpression('http.latency', 'p(95)'), 'invalid threshold for "http.latency": "p(95)" at position 6: expected a comparison: <, <=, >, >=, == or !=');
    invalid(() => parseThresholdExpression('http.latency', 'p(95)<200 ms'), 'invalid threshold for "http.latency": "p(95)<200 ms" at position 11: unexpected "ms"');
    invalid(() => parseThresholdExpression('http.latency', 'p(101)<5'), 'invalid threshold for "http.latency": "p(101)<5" at position 3: percentile must be between 0 and 100');
    invalid(
      () => parseThresholdExpression('http.latency{name:login}', 'rate<0.1'),
      'invalid threshold for "http.latency{name:login}": "rate<0.1" at position 1: "rate" does not apply to http.latency; use one of avg, min, max, med, p(N), count',
    );
    invalid(() => parseThresholdExpression('http.errors', 'p(99)<1'), 'invalid threshold for "http.errors": "p(99)<1" at position 1: "p(N)" does not apply to http.errors; use one of rate, count');
  });

  it('rejects unknown metrics and bad tag filters', () => {
    invalid(
      () => parseThresholds({ 'http.latncy': ['p(95)<1'] }),
      'unknown threshold metric "http.latncy": expected one of http.latency, http.service_time, http.timing.dns, http.timing.connect, http.timing.tls, http.timing.waiting, http.timing.receiving, http.errors, http.requests, checks, iterations, iterations.dropped, generator.schedule_lag, group_duration (a custom metric must be created with new Counter/Gauge/Rate/Trend("http.latncy") when the scenario file loads)',
    );
    invalid(
      () => parseThresholds({ 'http.latency{url:/x}': ['p(95)<1'] }),
      'invalid tag filter "url:/x" in threshold metric "http.latency{url:/x}": expected name:<value>, scenario:<value>, status:<value>, check:<value>, group:<value>, kind:<value>, grpc_status:<value>',
    );
    invalid(
      () => parseThresholds({ 'http.latency{kind:timeout}': ['p(95)<1'] }),
      'threshold metric "http.latency{kind:timeout}": the kind tag picks errors of one kind and applies to http.errors only',
    );
    invalid(
      () => parseThresholds({ 'http.errors{kind:timeout,grpc_status:NOT_FOUND}': ['rate<0.1'] }),
      'threshold metric "http.errors{kind:timeout,grpc_status:NOT_FOUND}": give kind or grpc_status, not both',
    );
    invalid(() => parseThresholds({ 'http latency': ['p(95)<1'] }), 'invalid threshold metric "http latency": expected a metric name with an optional tag filter, such as http.latency{name:login}');
  });
});

describe('threshold evaluation', () => {
  const hist = (valuesMs: number[]): LatencyHistogram => {
    const h = new LatencyHistogram();
    for (const v of valuesMs) h.recordMs(v);
    return h;
  };
  const all = hist(Array.from({ length: 100 }, (_, i) => i + 1));
  const login = hist([300, 320, 340]);
  const source: MetricSource = {
    histogram: (metric, slice) => (metric === 'http.latency' ? (slice === 'all' ? all : slice === 'name:login' ? login : null) : slice === 'all' ? hist([1, 2, 3]) : null),
    lagHistogram: () => hist([0.5, 1]),
    counts: (slice) => (slice === 'all' ? { requests: 200, errors: 3 } : slice === 'status:5xx' ? { requests: 3, errors: 3 } : null),
    checkCounts: (name) => (name === 'login ok' ? { passes: 9, fails: 1 } : { passes: 99, fails: 1 }),
    iterationCounts: (scenario) => (scenario === 'api' ? { done: 90, dropped: 10 } : { done: 190, dropped: 10 }),
    elapsedSeconds: () => 10,
  };
  const evaluate = (metric: string, expression: string) => evaluateThresholds(parseThresholds({ [metric]: [expression] }), source)[0]!;

  it('compares each aggregation with its observed value', () => {
    const p95 = evaluate('http.latency', 'p(95)<90');
    assert.equal(p95.ok, false);
    assert.equal(p95.actual, all.percentileMs(95));
    assert.ok(p95.actual! >= 94.5 && p95.actual! <= 95.5);
    assert.equal(evaluate('http.latency', 'p(95)<100').ok, true);
    // HDR reports the top of the 3-significant-digit bucket: 100 ms reads as 100.031.
    assert.equal(evaluate('http.latency', 'max<=100.1').ok, true);
    assert.equal(evaluate('http.latency', 'max<100').ok, false);
    assert.equal(evaluate('http.latency', 'count==100').ok, true);
    assert.ok(Math.abs(evaluate('http.latency', 'avg<51').actual! - 50.5) < 0.2);
    assert.equal(evaluate('http.latency', 'med<=51').ok, true);
    assert.equal(evaluate('http.service_time', 'max<4').ok, true);
    assert.equal(evaluate('http.errors', 'rate<0.01').actual, 0.015);
    assert.equal(evaluate('http.errors', 'rate<0.01').ok, false);
    assert.equal(evaluate('http.errors', 'count<=3').ok, true);
    assert.equal(evaluate('http.requests', 'rate>=20').actual, 20);
    assert.equal(evaluate('checks', 'rate>0.98').actual, 0.99);
    assert.equal(evaluate('checks', 'rate>0.98').ok, true);
    assert.equal(evaluate('iterations.dropped', 'rate<0.01').actual, 0.05);
    assert.equal(evaluate('iterations', 'count==190').ok, true);
    assert.equal(evaluate('generator.schedule_lag', 'max<2').ok, true);
  });

  it('applies tag filters to the matching slice', () => {
    assert.equal(evaluate('http.latency{name:login}', 'p(99)<300').ok, false);
    assert.equal(evaluate('http.latency{name:login}', 'min>=299').ok, true);
    assert.equal(evaluate('http.errors{status:5xx}', 'rate==1').ok, true);
    assert.equal(evaluate('checks{check:login ok}', 'rate>0.95').actual, 0.9);
    assert.equal(evaluate('iterations.dropped{scenario:api}', 'rate<0.05').actual, 0.1);
  });

  it('passes when there is no data, except that count sees zero', () => {
    const none = evaluate('http.latency{name:nothing}', 'p(95)<1');
    assert.deepEqual([none.ok, none.actual], [true, null]);
    const count = evaluate('http.latency{name:nothing}', 'count>0');
    assert.deepEqual([count.ok, count.actual], [false, 0]);
  });
});

describe('thresholds in a run', () => {
  it('reports failed thresholds without aborting when abortOnFail is not set', async () => {
    const r = await runLoad(
      resolvePlan(
        {
          executor: 'per-vu-iterations',
          vus: 2,
          iterations: 10,
          requests: [{ url: `${srv.url}/status/500` }],
          thresholds: { 'http.errors': ['rate<0.1'], 'http.latency': ['p(99)<5000'], 'http.errors{status:5xx}': ['count==20'] },
        },
        'thresholds.test.ts',
      ),
      { workers: 0 },
    );
    assert.equal(r.status, 'completed');
    assert.deepEqual(
      r.thresholds.map((t) => [t.metric, t.expression, t.ok, t.actual]),
      [
        ['http.errors', 'rate<0.1', false, 1],
        ['http.latency', 'p(99)<5000', true, r.summary.latency!.p99],
        ['http.errors{status:5xx}', 'count==20', true, 20],
      ],
    );
  });

  it('tag filters select request names and scenarios in a real run', async () => {
    const r = await runLoad(
      resolvePlan(
        {
          baseUrl: srv.url,
          executor: 'per-vu-iterations',
          vus: 2,
          iterations: 10,
          requests: [
            { url: '/ok', name: 'fast' },
            { url: '/sleep?ms=40', name: 'slow' },
          ],
          thresholds: {
            'http.latency{name:slow}': ['p(50)<30', 'min>=39'],
            'http.requests{scenario:default}': ['count==20'],
            'http.requests{name:fast}': ['count==10'],
            'http.errors{status:2xx}': ['count==0'],
            'iterations.dropped': ['count==0'],
          },
        },
        'thresholds.test.ts',
      ),
      { workers: 1 },
    );
    assert.deepEqual(
      r.thresholds.map((t) => [t.metric, t.expression, t.ok]),
      [
        ['http.latency{name:slow}', 'p(50)<30', false],
        ['http.latency{name:slow}', 'min>=39', true],
        ['http.requests{scenario:default}', 'count==20', true],
        ['http.requests{name:fast}', 'count==10', true],
        ['http.errors{status:2xx}', 'count==0', true],
        ['iterations.dropped', 'count==0', true],
      ],
    );
    assert.equal(r.thresholds[0]!.actual, r.summary.byName.slow!.latency!.p50);
  });

  it('abortOnFail stops the run early with status aborted', async () => {
    const plan = resolvePlan(
      {
        executor: 'constant-arrival-rate',
        rate: 50,
        duration: '20s',
        requests: [{ url: `${srv.url}/status/500` }],
        thresholds: { 'http.errors': [{ threshold: 'rate<0.1', abortOnFail: true }] },
      },
      'thresholds.test.ts',
    );
    const r = await startLoad(plan, { workers: 1 }).result;
    assert.equal(r.status, 'aborted');
    assert.ok(r.summary.durationMs < 6000, `ran ${r.summary.durationMs} ms of 20 s`);
    assert.ok(r.summary.requests > 0 && r.summary.requests < 300, `requests ${r.summary.requests}`);
    assert.deepEqual(r.thresholds.map((t) => [t.ok, t.abortOnFail]), [[false, true]]);
  });

  it('delayAbortEval holds the abort back', async () => {
    const plan = resolvePlan(
      {
        executor: 'constant-arrival-rate',
        rate: 50,
        duration: '20s',
        requests: [{ url: `${srv.url}/status/500` }],
        thresholds: { 'http.errors': [{ threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: '3s' }] },
      },
      'thresholds.test.ts',
    );
    const r = await startLoad(plan, { workers: 1 }).result;
    assert.equal(r.status, 'aborted');
    assert.ok(r.summary.durationMs >= 2900 && r.summary.durationMs < 9000, `ran ${r.summary.durationMs} ms`);
    assert.ok(r.timeseries.length >= 3, `seconds ${r.timeseries.length}`);
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes, LatencyHistogram, formatThresholdActual, readRunResult } from '@redline/core';
import { Counter, Gauge, Rate, Trend, parseThresholds, planFromFile, resolvePlan, runLoad, startLoad, writeRunDir, type IterationContext } from '@redline/load';
import { FIXTURES, useTestServer } from './fixtures/test-server.ts';

const srv = useTestServer();

function scripted(exec: (ctx: IterationContext) => Promise<void>, extra: Record<string, unknown> = {}) {
  return resolvePlan({ baseUrl: srv.url, executor: 'per-vu-iterations', vus: 2, iterations: 3, exec, ...extra }, 'groups-and-metrics.test.ts');
}

/** Within HDR's 3 significant digits. */
function near(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 1e-9, `${actual} ≈ ${expected}`);
}

describe('groups and custom metrics across two worker threads', () => {
  it('merges Counter, Gauge, Rate and Trend from every worker, tags requests with the group path, and evaluates thresholds on both', async () => {
    const r = await runLoad(await planFromFile(join(FIXTURES, 'metrics-scenario.ts')), { workers: 2 });
    assert.equal(r.environment.workers, 2);
    const m = r.summary.metrics!;
    assert.deepEqual(Object.keys(m), ['order_ok', 'order_wait', 'orders_placed', 'queue_depth']);
    assert.equal(m.orders_placed!.type, 'counter');
    assert.equal(m.orders_placed!.type === 'counter' && m.orders_placed!.count, 40);
    assert.deepEqual(m.order_ok, { type: 'rate', passes: 16, fails: 4, rate: 0.8 });
    const gauge = m.queue_depth!;
    assert.ok(gauge.type === 'gauge');
    assert.equal(gauge.min, 1);
    assert.equal(gauge.max, 8);
    assert.ok(gauge.value >= 1 && gauge.value <= 8);
    const trend = m.order_wait!;
    assert.ok(trend.type === 'trend');
    assert.equal(trend.count, 20);
    near(trend.min, 10);
    near(trend.p50, 30);
    near(trend.max, 50);
    near(trend.mean, 30);
    // The trend's encoded histogram decodes to the same distribution (µs = value × 1000).
    near(LatencyHistogram.decode(r.histograms.metrics!.order_wait!).percentileMs(50), 30);

    const g = r.summary.byGroup!;
    assert.deepEqual(Object.keys(g), ['::checkout', '::checkout::pay']);
    assert.equal(g['::checkout']!.requests, 20);
    assert.equal(g['::checkout::pay']!.requests, 20);
    assert.equal(g['::checkout']!.duration!.count, 20);
    assert.equal(g['::checkout::pay']!.duration!.count, 20);
    // A group lasts at least as long as the group nested in it.
    assert.ok(g['::checkout']!.duration!.max >= g['::checkout::pay']!.duration!.min);
    assert.equal(r.summary.requests, 60);
    assert.ok(r.histograms.groups!['::checkout']);

    const byExpr = Object.fromEntries(r.thresholds.map((t) => [`${t.metric} ${t.expression}`, t]));
    assert.equal(byExpr['order_wait p(95)<200']!.ok, true);
    assert.equal(byExpr['order_wait max<20']!.ok, false);
    near(byExpr['order_wait max<20']!.actual!, 50);
    assert.equal(byExpr['order_wait count==20']!.ok, true);
    assert.deepEqual([byExpr['order_ok rate>0.7']!.ok, byExpr['order_ok rate>0.9']!.ok, byExpr['order_ok rate>0.9']!.actual], [true, false, 0.8]);
    assert.deepEqual([byExpr['orders_placed count>10']!.ok, byExpr['orders_placed count==40']!.ok], [true, true]);
    assert.deepEqual([byExpr['queue_depth max<=8']!.ok, byExpr['queue_depth min>=1']!.ok], [true, true]);
    // Each actual carries its unit: a Counter's rate is per second (k6), a Rate's a share.
    assert.deepEqual(
      ['orders_placed rate>0', 'orders_placed count>10', 'order_ok rate>0.7', 'order_wait max<20', 'queue_depth max<=8'].map((k) => byExpr[k]!.unit),
      ['per-second', 'count', 'ratio', 'number', 'number'],
    );
    assert.match(formatThresholdActual('orders_placed', 'rate>0', byExpr['orders_placed rate>0']!.actual, byExpr['orders_placed rate>0']!.unit), /^[\d.]+\/s$/);
    assert.equal(byExpr['group_duration{group:::checkout} count==20']!.ok, true);
    assert.equal(byExpr['http.requests{group:::checkout::pay} count==20']!.ok, true);
    assert.equal(byExpr['http.latency{group:::checkout} count==20']!.ok, true);

    // The result with groups and metrics passes the result.json schema.
    const dir = await mkdtemp(join(tmpdir(), 'redline-metrics-'));
    try {
      await writeRunDir(r, dir);
      const back = await readRunResult(dir);
      assert.deepEqual(back.summary.metrics, r.summary.metrics);
      assert.deepEqual(back.summary.byGroup, r.summary.byGroup);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('custom metrics on the calling thread', () => {
  it('records metrics of a plan made in code, and an add() with a bad value fails the iteration with its message', async () => {
    const t = new Trend('inproc_trend');
    const c = new Counter('inproc_counter');
    const r = await runLoad(
      scripted(async (ctx) => {
        await ctx.http.get('/ok');
        t.add(5);
        c.add();
        if (ctx.iteration === 2) t.add(-1);
      }),
      { workers: 0 },
    );
    const m = r.summary.metrics!;
    assert.equal(m.inproc_trend!.type === 'trend' && m.inproc_trend!.count, 6);
    assert.equal(m.inproc_counter!.type === 'counter' && m.inproc_counter!.count, 6);
    assert.equal(r.summary.iterationErrors, 2);
    assert.ok(r.warnings?.includes('iterations failed: inproc_trend.add(): a Trend records values ≥ 0, got -1'), String(r.warnings));
  });

  it('a metric created inside an iteration fails that iteration: metrics are created when the file loads', async () => {
    const r = await runLoad(scripted(async (ctx) => void (await ctx.http.get('/ok'), new Counter(`late_${ctx.iteration}`))), { workers: 0 });
    assert.equal(r.summary.iterationErrors, 6);
    assert.ok(r.warnings?.includes('iterations failed: metric "late_0" was created during the run; create custom metrics when the scenario file loads (at its top level), as in k6'), String(r.warnings));
    assert.equal(r.summary.metrics, undefined);
  });

  it('has no metrics or groups in the result of a run without them', async () => {
    const r = await runLoad(scripted(async (ctx) => void (await ctx.http.get('/ok'))), { workers: 0 });
    assert.equal(r.summary.metrics, undefined);
    assert.equal(r.summary.byGroup, undefined);
    assert.equal(r.histograms.groups, undefined);
  });

  it('tags each of concurrent groups of one VU (Promise.all) with its own path, nested ones under their parent', async () => {
    const r = await runLoad(
      scripted(async (ctx) => {
        const twice = async (tag: string): Promise<void> => {
          await ctx.http.get(`/ok?${tag}=1`);
          await ctx.sleep(1);
          await ctx.http.get(`/ok?${tag}=2`);
        };
        await Promise.all([
          ctx.group('a', () => twice('a')),
          ctx.group('b', async () => {
            await twice('b');
            await Promise.all([ctx.group('x', () => twice('x')), ctx.group('y', () => twice('y'))]);
            await ctx.http.get('/ok?b=3');
          }),
        ]);
        await ctx.http.get('/ok?outside=1');
      }),
      { workers: 0 },
    );
    assert.equal(r.summary.iterationErrors, 0);
    assert.equal(r.summary.requests, 6 * 10);
    const g = r.summary.byGroup!;
    // Before: b's path was "::a::b" (started while a was open), and a's second request read b's path.
    assert.deepEqual(Object.keys(g).sort(), ['::a', '::b', '::b::x', '::b::y']);
    assert.deepEqual(['::a', '::b', '::b::x', '::b::y'].map((p) => g[p]!.requests), [12, 18, 12, 12]);
    assert.deepEqual(['::a', '::b', '::b::x', '::b::y'].map((p) => g[p]!.duration!.count), [6, 6, 6, 6]);
  });

  it('a group name with "::" fails the iteration', async () => {
    const r = await runLoad(scripted(async (ctx) => void (await ctx.group('a::b', () => ctx.http.get('/ok')))), { workers: 0 });
    assert.equal(r.summary.iterationErrors, 6);
    assert.ok(r.warnings?.some((w) => w.includes('group(): the name must be a non-empty string without "::", got "a::b"')));
  });
});

describe('bad metric declarations and thresholds', () => {
  it('refuses invalid, built-in and conflicting metric names', () => {
    assert.throws(() => new Counter('bad name'), { code: ErrorCodes.INVALID_ARGUMENT, message: 'invalid metric name "bad name": expected a letter or _ followed by up to 127 letters, digits or _ (such as login_time)' });
    assert.throws(() => new Rate('checks'), { code: ErrorCodes.INVALID_ARGUMENT, message: 'metric name "checks" is built in; choose another name' });
    new Gauge('conflicting_metric');
    assert.throws(() => new Trend('conflicting_metric'), { code: ErrorCodes.INVALID_ARGUMENT, message: 'metric "conflicting_metric" is already declared as a gauge; it cannot also be a trend' });
  });

  it('an unknown metric in a threshold fails before the run with REDLINE_ERR_INVALID_THRESHOLD', () => {
    new Trend('known_trend');
    const plan = scripted(async () => undefined, { thresholds: { no_such_metric: ['count>10'] } });
    const seen = srv.requests.length;
    assert.throws(() => startLoad(plan, { workers: 0 }), (err: Error & { code?: string }) => {
      assert.equal(err.code, ErrorCodes.INVALID_THRESHOLD);
      assert.match(err.message, /^unknown threshold metric "no_such_metric": expected one of http\.latency, .*, group_duration, .*known_trend.* \(a custom metric must be created with new Counter\/Gauge\/Rate\/Trend\("no_such_metric"\) when the scenario file loads\)$/);
      return true;
    });
    assert.equal(srv.requests.length, seen);
  });

  it('refuses an aggregation that does not fit the metric type, and tags on a custom metric', () => {
    new Rate('typed_rate');
    new Counter('typed_counter');
    assert.throws(() => parseThresholds({ typed_rate: ['p(95)<1'] }), {
      code: ErrorCodes.INVALID_THRESHOLD,
      message: 'invalid threshold for "typed_rate": "p(95)<1" at position 1: "p(N)" does not apply to typed_rate (a Rate); use one of rate, count',
    });
    assert.throws(() => parseThresholds({ typed_counter: ['value>1'] }), {
      code: ErrorCodes.INVALID_THRESHOLD,
      message: 'invalid threshold for "typed_counter": "value>1" at position 1: "value" does not apply to typed_counter (a Counter); use one of count, rate',
    });
    assert.throws(() => parseThresholds({ 'typed_rate{name:x}': ['rate>0.5'] }), { code: ErrorCodes.INVALID_THRESHOLD, message: 'threshold metric "typed_rate{name:x}": custom metrics have no tags; use "typed_rate" without a tag filter' });
    assert.throws(() => parseThresholds({ 'group_duration{name:x}': ['p(95)<1'] }), { code: ErrorCodes.INVALID_THRESHOLD, message: 'threshold metric "group_duration{name:x}": group_duration takes only a group filter, such as group_duration{group:::login}' });
  });
});

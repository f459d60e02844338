import { ErrorCodes, RedlineError, parseDuration, thresholdUnit, type LatencyHistogram, type ThresholdResult } from '@redline/core';
import { declaredMetrics, type CustomMetricTotal, type CustomMetricType } from './custom-metrics.js';
import type { ThresholdInput } from './scenario.js';

/** Metrics thresholds may name, with the aggregations each supports. */
const METRICS: Record<string, readonly Aggregation[]> = {
  'http.latency': ['avg', 'min', 'max', 'med', 'p', 'count'],
  'http.service_time': ['avg', 'min', 'max', 'med', 'p', 'count'],
  'http.timing.dns': ['avg', 'min', 'max', 'med', 'p', 'count'],
  'http.timing.connect': ['avg', 'min', 'max', 'med', 'p', 'count'],
  'http.timing.tls': ['avg', 'min', 'max', 'med', 'p', 'count'],
  'http.timing.waiting': ['avg', 'min', 'max', 'med', 'p', 'count'],
  'http.timing.receiving': ['avg', 'min', 'max', 'med', 'p', 'count'],
  'http.errors': ['rate', 'count'],
  'http.requests': ['rate', 'count'],
  checks: ['rate', 'count'],
  iterations: ['rate', 'count'],
  'iterations.dropped': ['rate', 'count'],
  'generator.schedule_lag': ['avg', 'min', 'max', 'med', 'p'],
  group_duration: ['avg', 'min', 'max', 'med', 'p', 'count'],
};
/** Aggregations of custom metrics, by type (k6's, plus `count` and `min`/`max` where they mean something). */
const CUSTOM_AGGREGATIONS: Record<CustomMetricType, readonly Aggregation[]> = {
  counter: ['count', 'rate'],
  gauge: ['value', 'min', 'max'],
  rate: ['rate', 'count'],
  trend: ['avg', 'min', 'max', 'med', 'p', 'count'],
};
const TAG_KEYS = ['name', 'scenario', 'status', 'check', 'group', 'kind', 'grpc_status'] as const;
/** Tags that pick errors of one kind (`http.errors` only): `kind:timeout`, `grpc_status:NOT_FOUND` (= `kind:grpc_not_found`). */
const KIND_TAGS = new Set(['kind', 'grpc_status']);

type Aggregation = 'avg' | 'min' | 'max' | 'med' | 'p' | 'rate' | 'count' | 'value';
type Operator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A parsed threshold, ready to evaluate. */
export interface Threshold {
  /** The metric key as written, e.g. `http.latency{name:login}`. */
  key: string;
  metric: string;
  tags: Record<string, string>;
  expression: string;
  aggregation: Aggregation;
  percentile: number | null;
  operator: Operator;
  value: number;
  abortOnFail: boolean;
  delayAbortEvalMs: number;
  /** The custom metric's type when `metric` is a declared Counter, Gauge, Rate or Trend, else null. */
  custom: CustomMetricType | null;
}

function fail(key: string, expression: string, position: number, what: string): RedlineError {
  return new RedlineError(
    ErrorCodes.INVALID_THRESHOLD,
    `invalid threshold for "${key}": "${expression}" at position ${position + 1}: ${what}`,
    { details: { metric: key, expression, position: position + 1 } },
  );
}

/** Parses `metric{tag:value}` keys. */
function parseKey(key: string, custom: ReadonlyMap<string, CustomMetricType>): { metric: string; tags: Record<string, string>; aggregations: readonly Aggregation[]; type: CustomMetricType | null } {
  const m = /^([a-z_][a-z0-9_.]*)(?:\{([^}]*)\})?$/i.exec(key.trim());
  if (!m) throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `invalid threshold metric "${key}": expected a metric name with an optional tag filter, such as http.latency{name:login}`);
  const metric = m[1]!;
  const type = METRICS[metric] ? null : (custom.get(metric) ?? null);
  if (!METRICS[metric] && type === null) {
    const names = [...Object.keys(METRICS), ...[...custom.keys()].sort()];
    throw new RedlineError(
      ErrorCodes.INVALID_THRESHOLD,
      `unknown threshold metric "${metric}": expected one of ${names.join(', ')} (a custom metric must be created with new Counter/Gauge/Rate/Trend("${metric}") when the scenario file loads)`,
      { details: { metric } },
    );
  }
  if (type !== null && m[2] !== undefined) {
    throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `threshold metric "${key}": custom metrics have no tags; use "${metric}" without a tag filter`);
  }
  if (metric === 'group_duration' && m[2] !== undefined && !/^\s*group\s*:/.test(m[2])) {
    throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `threshold metric "${key}": group_duration takes only a group filter, such as group_duration{group:::login}`);
  }
  const tags: Record<string, string> = {};
  if (m[2] !== undefined) {
    for (const part of m[2].split(',')) {
      const [k, ...rest] = part.split(':');
      const tag = k?.trim() ?? '';
      if (!(TAG_KEYS as readonly string[]).includes(tag) || rest.length === 0) {
        throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `invalid tag filter "${part}" in threshold metric "${key}": expected ${TAG_KEYS.map((t) => `${t}:<value>`).join(', ')}`);
      }
      tags[tag] = rest.join(':').trim();
    }
  }
  return { metric, tags, aggregations: type !== null ? CUSTOM_AGGREGATIONS[type] : METRICS[metric]!, type };
}

/** Parses one expression such as `p(95)<200`, `rate<0.01`, `max<=2s`. */
export function parseThresholdExpression(
  key: string,
  expression: string,
  abortOnFail = false,
  delayAbortEvalMs = 0,
  custom: ReadonlyMap<string, CustomMetricType> = declaredMetrics(),
): Threshold {
  const { metric, tags, aggregations, type } = parseKey(key, custom);
  const what = type !== null ? `${metric} (a ${type[0]!.toUpperCase()}${type.slice(1)})` : metric;
  const kindTag = Object.keys(tags).find((k) => KIND_TAGS.has(k));
  if (kindTag && metric !== 'http.errors') {
    throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `threshold metric "${key}": the ${kindTag} tag picks errors of one kind and applies to http.errors only`);
  }
  if (tags.kind !== undefined && tags.grpc_status !== undefined) {
    throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `threshold metric "${key}": give kind or grpc_status, not both`);
  }
  if (metric.startsWith('http.timing.') && Object.keys(tags).length) {
    throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `threshold metric "${key}": ${metric} is measured over the whole run; tag filters are not supported on it`);
  }
  const src = expression;
  let i = 0;
  const skip = (): void => {
    while (src[i] === ' ') i++;
  };
  skip();
  const agg = /^(avg|min|max|med|rate|count|value|p\(\s*(\d+(?:\.\d+)?)\s*\))/.exec(src.slice(i));
  if (!agg) throw fail(key, src, i, 'expected an aggregation: avg, min, max, med, p(N), rate, count or value');
  const aggregation = (agg[1]!.startsWith('p(') ? 'p' : agg[1]) as Aggregation;
  const percentile = aggregation === 'p' ? Number(agg[2]) : null;
  if (percentile !== null && !(percentile >= 0 && percentile <= 100)) throw fail(key, src, i + 2, 'percentile must be between 0 and 100');
  if (!aggregations.includes(aggregation)) {
    throw fail(key, src, i, `"${aggregation === 'p' ? 'p(N)' : aggregation}" does not apply to ${what}; use one of ${aggregations.map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')}`);
  }
  i += agg[0].length;
  skip();
  const op = /^(<=|>=|===|==|!=|<|>)/.exec(src.slice(i));
  if (!op) throw fail(key, src, i, 'expected a comparison: <, <=, >, >=, == or !=');
  const operator = (op[1] === '===' ? '==' : op[1]) as Operator;
  i += op[0].length;
  skip();
  const num = /^(-?\d+(?:\.\d+)?)(ms|s|m|us)?/.exec(src.slice(i));
  if (!num) throw fail(key, src, i, 'expected a number');
  const value = num[2] ? parseDuration(`${num[1]}${num[2]}`) : Number(num[1]);
  i += num[0].length;
  skip();
  if (i < src.length) throw fail(key, src, i, `unexpected "${src.slice(i)}"`);
  return { key, metric, tags, expression, aggregation, percentile, operator, value, abortOnFail, delayAbortEvalMs, custom: type };
}

/**
 * Parses a scenario's `thresholds` block; rejects any invalid expression before the run starts.
 * `custom` lists the custom metrics thresholds may name (default: those declared in this thread).
 */
export function parseThresholds(input: Record<string, ThresholdInput[]> | undefined, custom: ReadonlyMap<string, CustomMetricType> = declaredMetrics()): Threshold[] {
  const out: Threshold[] = [];
  for (const [key, list] of Object.entries(input ?? {})) {
    for (const t of list) {
      if (typeof t === 'string') out.push(parseThresholdExpression(key, t, false, 0, custom));
      else out.push(parseThresholdExpression(key, t.threshold, t.abortOnFail ?? false, t.delayAbortEval !== undefined ? parseDuration(t.delayAbortEval) : 0, custom));
    }
  }
  return out;
}

/** What thresholds are evaluated against: the run's aggregates so far. */
export interface MetricSource {
  /** Latency or service-time histogram for a slice (`all`, `name:x`, `scenario:x`, `status:2xx`). */
  histogram(metric: 'http.latency' | 'http.service_time', slice: string): LatencyHistogram | null;
  lagHistogram(): LatencyHistogram | null;
  /** Run-wide histogram of a request phase (`dns`, `connect`, `tls`, `waiting`, `receiving`); optional for older sources. */
  timingHistogram?(phase: string): LatencyHistogram | null;
  counts(slice: string): { requests: number; errors: number } | null;
  /** Errors of one `errorsByKind` kind in a slice (`http.errors{kind:...}`); optional for older sources. */
  errorKindCount?(slice: string, kind: string): number;
  checkCounts(name?: string): { passes: number; fails: number };
  iterationCounts(scenario?: string): { done: number; dropped: number };
  elapsedSeconds(): number;
  /** Group durations of one group path, or of every group merged; optional for older sources. */
  groupHistogram?(path?: string): LatencyHistogram | null;
  /** A custom metric's run total so far; optional for older sources. */
  customMetric?(name: string): CustomMetricTotal | null;
}

function sliceOf(tags: Record<string, string>): string {
  if (tags.name !== undefined) return `name:${tags.name}`;
  if (tags.scenario !== undefined) return `scenario:${tags.scenario}`;
  if (tags.status !== undefined) return `status:${tags.status}`;
  if (tags.group !== undefined) return `group:${tags.group}`;
  return 'all';
}

function fromHistogram(t: Threshold, h: LatencyHistogram | null): number | null {
  if (!h || h.count === 0) return t.aggregation === 'count' ? 0 : null;
  switch (t.aggregation) {
    case 'avg':
      return h.meanMs;
    case 'min':
      return h.percentileMs(0);
    case 'max':
      return h.maxMs;
    case 'med':
      return h.percentileMs(50);
    case 'p':
      return h.percentileMs(t.percentile!);
    case 'count':
      return h.count;
    default:
      return null;
  }
}

/** A custom metric's observed value: null (no verdict) until it has a value, except counts. */
function observeCustom(t: Threshold, m: CustomMetricTotal | null, src: MetricSource): number | null {
  if (!m) return t.aggregation === 'count' ? 0 : null;
  switch (m.type) {
    case 'counter':
      return t.aggregation === 'count' ? m.sum : m.sum / Math.max(src.elapsedSeconds(), 1e-9);
    case 'gauge':
      return t.aggregation === 'min' ? m.min : t.aggregation === 'max' ? m.max : m.value;
    case 'rate':
      if (t.aggregation === 'count') return m.trues;
      return m.total === 0 ? null : m.trues / m.total;
    case 'trend':
      return fromHistogram(t, m.histogram);
  }
}

/** The `errorsByKind` key a threshold's `kind`/`grpc_status` tag names, or null for all errors. */
function errorKindOf(tags: Record<string, string>): string | null {
  if (tags.kind !== undefined) return tags.kind;
  if (tags.grpc_status !== undefined) return `grpc_${tags.grpc_status.toLowerCase()}`;
  return null;
}

/** The observed value of a threshold's aggregation, or null when there is no data. */
export function observe(t: Threshold, src: MetricSource): number | null {
  if (t.custom !== null) return observeCustom(t, src.customMetric?.(t.metric) ?? null, src);
  const slice = sliceOf(t.tags);
  switch (t.metric) {
    case 'group_duration':
      return fromHistogram(t, src.groupHistogram?.(t.tags.group) ?? null);
    case 'http.latency':
    case 'http.service_time':
    case 'http.timing.dns':
    case 'http.timing.connect':
    case 'http.timing.tls':
    case 'http.timing.waiting':
    case 'http.timing.receiving':
    case 'generator.schedule_lag': {
      const h =
        t.metric === 'generator.schedule_lag'
          ? src.lagHistogram()
          : t.metric.startsWith('http.timing.')
            ? (src.timingHistogram?.(t.metric.slice(12)) ?? null)
            : src.histogram(t.metric as 'http.latency' | 'http.service_time', slice);
      return fromHistogram(t, h);
    }
    case 'http.errors':
    case 'http.requests': {
      const c = src.counts(slice);
      if (!c || c.requests === 0) return t.aggregation === 'count' ? 0 : null;
      if (t.metric === 'http.errors') {
        const kind = errorKindOf(t.tags);
        const errors = kind === null ? c.errors : (src.errorKindCount?.(slice, kind) ?? 0);
        return t.aggregation === 'count' ? errors : errors / c.requests;
      }
      return t.aggregation === 'count' ? c.requests : c.requests / Math.max(src.elapsedSeconds(), 1e-9);
    }
    case 'checks': {
      const c = src.checkCounts(t.tags.check);
      const total = c.passes + c.fails;
      if (t.aggregation === 'count') return c.passes;
      return total === 0 ? null : c.passes / total;
    }
    case 'iterations':
    case 'iterations.dropped': {
      const it = src.iterationCounts(t.tags.scenario);
      const n = t.metric === 'iterations' ? it.done : it.dropped;
      if (t.aggregation === 'count') return n;
      if (t.metric === 'iterations.dropped') return it.done + it.dropped === 0 ? null : n / (it.done + it.dropped);
      return n / Math.max(src.elapsedSeconds(), 1e-9);
    }
    default:
      return null;
  }
}

function compare(a: number, op: Operator, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '==':
      return a === b;
    case '!=':
      return a !== b;
  }
}

/** Evaluates thresholds. A threshold with no data passes only for `count` aggregations (k6 behaviour: no data, no verdict → ok). */
export function evaluateThresholds(thresholds: readonly Threshold[], src: MetricSource): ThresholdResult[] {
  return thresholds.map((t) => {
    const actual = observe(t, src);
    return { metric: t.key, expression: t.expression, ok: actual === null ? true : compare(actual, t.operator, t.value), actual, abortOnFail: t.abortOnFail, unit: thresholdUnit(t.key, t.expression, t.custom) };
  });
}

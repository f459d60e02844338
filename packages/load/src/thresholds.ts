import { ErrorCodes, RedlineError, parseDuration, type LatencyHistogram, type ThresholdResult } from '@redline/core';
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
};
const TAG_KEYS = ['name', 'scenario', 'status', 'check', 'kind', 'grpc_status'] as const;
/** Tags that pick errors of one kind (`http.errors` only): `kind:timeout`, `grpc_status:NOT_FOUND` (= `kind:grpc_not_found`). */
const KIND_TAGS = new Set(['kind', 'grpc_status']);

type Aggregation = 'avg' | 'min' | 'max' | 'med' | 'p' | 'rate' | 'count';
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
}

function fail(key: string, expression: string, position: number, what: string): RedlineError {
  return new RedlineError(
    ErrorCodes.INVALID_THRESHOLD,
    `invalid threshold for "${key}": "${expression}" at position ${position + 1}: ${what}`,
    { details: { metric: key, expression, position: position + 1 } },
  );
}

/** Parses `metric{tag:value}` keys. */
function parseKey(key: string): { metric: string; tags: Record<string, string> } {
  const m = /^([a-z_][a-z0-9_.]*)(?:\{([^}]*)\})?$/i.exec(key.trim());
  if (!m) throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `invalid threshold metric "${key}": expected a metric name with an optional tag filter, such as http.latency{name:login}`);
  const metric = m[1]!;
  if (!METRICS[metric]) {
    throw new RedlineError(ErrorCodes.INVALID_THRESHOLD, `unknown threshold metric "${metric}": expected one of ${Object.keys(METRICS).join(', ')}`);
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
  return { metric, tags };
}

/** Parses one expression such as `p(95)<200`, `rate<0.01`, `max<=2s`. */
export function parseThresholdExpression(key: string, expression: string, abortOnFail = false, delayAbortEvalMs = 0): Threshold {
  const { metric, tags } = parseKey(key);
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
  const agg = /^(avg|min|max|med|rate|count|p\(\s*(\d+(?:\.\d+)?)\s*\))/.exec(src.slice(i));
  if (!agg) throw fail(key, src, i, 'expected an aggregation: avg, min, max, med, p(N), rate or count');
  const aggregation = (agg[1]!.startsWith('p(') ? 'p' : agg[1]) as Aggregation;
  const percentile = aggregation === 'p' ? Number(agg[2]) : null;
  if (percentile !== null && !(percentile >= 0 && percentile <= 100)) throw fail(key, src, i + 2, 'percentile must be between 0 and 100');
  if (!METRICS[metric]!.includes(aggregation)) {
    throw fail(key, src, i, `"${aggregation === 'p' ? 'p(N)' : aggregation}" does not apply to ${metric}; use one of ${METRICS[metric]!.map((a) => (a === 'p' ? 'p(N)' : a)).join(', ')}`);
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
  return { key, metric, tags, expression, aggregation, percentile, operator, value, abortOnFail, delayAbortEvalMs };
}

/** Parses a scenario's `thresholds` block; rejects any invalid expression before the run starts. */
export function parseThresholds(input: Record<string, ThresholdInput[]> | undefined): Threshold[] {
  const out: Threshold[] = [];
  for (const [key, list] of Object.entries(input ?? {})) {
    for (const t of list) {
      if (typeof t === 'string') out.push(parseThresholdExpression(key, t));
      else out.push(parseThresholdExpression(key, t.threshold, t.abortOnFail ?? false, t.delayAbortEval !== undefined ? parseDuration(t.delayAbortEval) : 0));
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
}

function sliceOf(tags: Record<string, string>): string {
  if (tags.name !== undefined) return `name:${tags.name}`;
  if (tags.scenario !== undefined) return `scenario:${tags.scenario}`;
  if (tags.status !== undefined) return `status:${tags.status}`;
  return 'all';
}

/** The `errorsByKind` key a threshold's `kind`/`grpc_status` tag names, or null for all errors. */
function errorKindOf(tags: Record<string, string>): string | null {
  if (tags.kind !== undefined) return tags.kind;
  if (tags.grpc_status !== undefined) return `grpc_${tags.grpc_status.toLowerCase()}`;
  return null;
}

/** The observed value of a threshold's aggregation, or null when there is no data. */
export function observe(t: Threshold, src: MetricSource): number | null {
  const slice = sliceOf(t.tags);
  switch (t.metric) {
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
    return { metric: t.key, expression: t.expression, ok: actual === null ? true : compare(actual, t.operator, t.value), actual, abortOnFail: t.abortOnFail };
  });
}

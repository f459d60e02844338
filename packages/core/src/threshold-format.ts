/** What a threshold's observed value measures, from its metric and aggregation. */
export type ThresholdUnit = 'ms' | 'count' | 'ratio' | 'per-second' | 'number';

/**
 * The unit of a threshold's `actual`: latencies are milliseconds, `count` is a count, `rate` is a
 * share (errors, checks, dropped iterations) or a per-second rate (requests, iterations).
 * `metric` may carry a tag filter (`http.latency{name:login}`).
 */
export function thresholdUnit(metric: string, expression: string, custom: 'counter' | 'gauge' | 'rate' | 'trend' | null = null): ThresholdUnit {
  const base = metric.replace(/\{.*$/, '').trim();
  const aggregation = /^\s*([a-z]+)/.exec(expression)?.[1] ?? '';
  if (aggregation === 'count') return 'count';
  // A declared custom metric: a Counter's rate is per second (k6), a Rate's a share, the rest its own unit.
  if (custom !== null) return custom === 'counter' ? (aggregation === 'rate' ? 'per-second' : 'number') : custom === 'rate' ? 'ratio' : 'number';
  if (base === 'http.latency' || base === 'http.service_time' || base === 'generator.schedule_lag' || base === 'group_duration' || base.startsWith('http.timing.')) return 'ms';
  // A custom metric (no dot in its name): Trend and Gauge values are in the script's own unit.
  if (!base.includes('.') && base !== 'checks' && base !== 'iterations' && aggregation !== 'rate') return 'number';
  if (base === 'http.requests' || base === 'iterations') return 'per-second';
  return 'ratio';
}

/**
 * A threshold's observed value for people, with its unit: `2.95 s`, `412 ms`, `0.42 %`, `1,930/s`,
 * `17,004`; `no data` for null.
 */
export function formatThresholdActual(metric: string, expression: string, actual: number | null, unit: ThresholdUnit = thresholdUnit(metric, expression)): string {
  if (actual === null || !Number.isFinite(actual)) return 'no data';
  const group = (v: number, digits: number): string => v.toLocaleString('en-US', { maximumFractionDigits: digits });
  switch (unit) {
    case 'ms':
      if (actual >= 1000) return `${(actual / 1000).toFixed(2)} s`;
      if (actual >= 100) return `${actual.toFixed(0)} ms`;
      if (actual >= 10) return `${actual.toFixed(1)} ms`;
      return `${actual.toFixed(2)} ms`;
    case 'count':
      return group(actual, 0);
    case 'per-second':
      return `${group(actual, actual >= 100 ? 0 : 1)}/s`;
    case 'ratio':
      return `${(actual * 100).toFixed(actual > 0 && actual < 0.01 ? 3 : 2)} %`;
    case 'number':
      return group(actual, 3);
  }
}

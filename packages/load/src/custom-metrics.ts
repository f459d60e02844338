import { ErrorCodes, LatencyHistogram, RedlineError, type CustomMetricSummary } from '@redline/core';

/** The four kinds of custom metric, as in k6. */
export type CustomMetricType = 'counter' | 'gauge' | 'rate' | 'trend';

/** Where `add()` calls go: the engine running on this thread. */
export interface CustomMetricSink {
  add(name: string, type: CustomMetricType, value: number): void;
}

interface Registry {
  /** Every custom metric declared in this thread, by name. */
  declared: Map<string, CustomMetricType>;
  sink: CustomMetricSink | null;
}

// On globalThis under a registered symbol: a scenario file loaded through tsx may get its own copy
// of this module, and its metrics must still reach the engine's sink.
const KEY = Symbol.for('redline.customMetrics');

function registry(): Registry {
  const g = globalThis as unknown as Record<symbol, Registry | undefined>;
  return (g[KEY] ??= { declared: new Map(), sink: null });
}

/** Metric names that are built in (thresholds name them) and cannot be declared again. */
const RESERVED = new Set(['checks', 'iterations', 'group_duration']);
const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The custom metrics declared so far in this thread (name → type). */
export function declaredMetrics(): ReadonlyMap<string, CustomMetricType> {
  return registry().declared;
}

/**
 * Routes `add()` calls on this thread to `sink` until the returned function is called. Values
 * added while no run is on the thread (e.g. in `setup()`) are not recorded.
 */
export function attachMetricSink(sink: CustomMetricSink): () => void {
  const r = registry();
  const previous = r.sink;
  r.sink = sink;
  return () => {
    if (r.sink === sink) r.sink = previous;
  };
}

abstract class CustomMetric {
  /** The name thresholds and the result use. */
  readonly name: string;
  readonly type: CustomMetricType;

  protected constructor(name: string, type: CustomMetricType) {
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `invalid metric name ${JSON.stringify(name)}: expected a letter or _ followed by up to 127 letters, digits or _ (such as login_time)`);
    }
    if (RESERVED.has(name)) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `metric name "${name}" is built in; choose another name`);
    if (registry().sink !== null) {
      throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `metric "${name}" was created during the run; create custom metrics when the scenario file loads (at its top level), as in k6`);
    }
    const declared = registry().declared;
    const existing = declared.get(name);
    if (existing !== undefined && existing !== type) {
      throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `metric "${name}" is already declared as a ${existing}; it cannot also be a ${type}`);
    }
    declared.set(name, type);
    this.name = name;
    this.type = type;
  }

  protected record(value: number): void {
    registry().sink?.add(this.name, this.type, value);
  }
}

function finite(metric: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new TypeError(`${metric}.add(): expected a finite number, got ${String(value)}`);
  return value;
}

/** A sum (k6's Counter): `add(n)` adds n (default 1). Thresholds: `count` (the sum), `rate` (sum per second). */
export class Counter extends CustomMetric {
  constructor(name: string) {
    super(name, 'counter');
  }
  add(value = 1): void {
    this.record(finite(this.name, value));
  }
}

/** The latest value (k6's Gauge): `add(v)` sets it. Thresholds: `value` (the last one set), `min`, `max`. */
export class Gauge extends CustomMetric {
  constructor(name: string) {
    super(name, 'gauge');
  }
  add(value: number): void {
    this.record(finite(this.name, value));
  }
}

/** The share of non-zero values (k6's Rate): `add(true | false | number)`. Thresholds: `rate`, `count` (of true values). */
export class Rate extends CustomMetric {
  constructor(name: string) {
    super(name, 'rate');
  }
  add(value: boolean | number): void {
    if (typeof value === 'boolean') this.record(value ? 1 : 0);
    else this.record(finite(this.name, value) !== 0 ? 1 : 0);
  }
}

/**
 * A distribution (k6's Trend) on an HDR histogram: values from 0 to 3,600,000 in your unit (ms
 * usually), 3 significant digits, finest step 0.001. Thresholds: `avg`, `min`, `med`, `max`,
 * `p(N)`, `count`.
 */
export class Trend extends CustomMetric {
  constructor(name: string) {
    super(name, 'trend');
  }
  add(value: number): void {
    const v = finite(this.name, value);
    if (v < 0) throw new RangeError(`${this.name}.add(): a Trend records values ≥ 0, got ${v}`);
    this.record(v);
  }
}

/** One custom metric's values within one interval of one worker, as sent to the runner. */
export type CustomMetricSnapshot =
  | { type: 'counter'; sum: number; adds: number }
  | { type: 'gauge'; value: number; at: number; min: number; max: number }
  | { type: 'rate'; trues: number; total: number }
  | { type: 'trend'; histogram: string };

type State =
  | { type: 'counter'; sum: number; adds: number }
  | { type: 'gauge'; value: number; at: number; min: number; max: number }
  | { type: 'rate'; trues: number; total: number }
  | { type: 'trend'; histogram: LatencyHistogram };

/**
 * Per-interval state of the custom metrics one engine records. Bounded by the number of declared
 * metrics (at most `maxMetrics`; further names are dropped and counted).
 */
export class CustomMetricRecorder implements CustomMetricSink {
  readonly #states = new Map<string, State>();
  readonly #maxMetrics: number;
  readonly #now: () => number;
  dropped = 0;

  constructor(now: () => number, maxMetrics = 1000) {
    this.#now = now;
    this.#maxMetrics = maxMetrics;
  }

  add(name: string, type: CustomMetricType, value: number): void {
    let s = this.#states.get(name);
    if (!s) {
      if (this.#states.size >= this.#maxMetrics) {
        this.dropped++;
        return;
      }
      s = fresh(type, value);
      this.#states.set(name, s);
    }
    switch (s.type) {
      case 'counter':
        s.sum += value;
        s.adds++;
        break;
      case 'gauge':
        s.value = value;
        s.at = this.#now();
        if (value < s.min) s.min = value;
        if (value > s.max) s.max = value;
        break;
      case 'rate':
        s.total++;
        if (value !== 0) s.trues++;
        break;
      case 'trend':
        s.histogram.recordMs(value);
        break;
    }
  }

  /** The interval's values (metrics that got an `add`), and a clean slate for the next interval. */
  snapshot(): Record<string, CustomMetricSnapshot> | null {
    if (this.#states.size === 0) return null;
    const out: Record<string, CustomMetricSnapshot> = {};
    for (const [name, s] of this.#states) out[name] = s.type === 'trend' ? { type: 'trend', histogram: s.histogram.encode() } : { ...s };
    this.#states.clear();
    return out;
  }
}

function fresh(type: CustomMetricType, value: number): State {
  switch (type) {
    case 'counter':
      return { type, sum: 0, adds: 0 };
    case 'gauge':
      return { type, value, at: 0, min: value, max: value };
    case 'rate':
      return { type, trues: 0, total: 0 };
    case 'trend':
      return { type, histogram: new LatencyHistogram() };
  }
}

/** Run totals of one custom metric, merged from every worker's intervals (lossless for trends). */
export type CustomMetricTotal =
  | { type: 'counter'; sum: number }
  | { type: 'gauge'; value: number; at: number; min: number; max: number }
  | { type: 'rate'; trues: number; total: number }
  | { type: 'trend'; histogram: LatencyHistogram };

/** Folds one interval snapshot into the run totals. A metric that changes type between workers keeps its first type. */
export function mergeCustomMetric(totals: Map<string, CustomMetricTotal>, name: string, snap: CustomMetricSnapshot): void {
  const t = totals.get(name);
  if (!t) {
    totals.set(name, snap.type === 'trend' ? { type: 'trend', histogram: LatencyHistogram.decode(snap.histogram) } : snap.type === 'counter' ? { type: 'counter', sum: snap.sum } : { ...snap });
    return;
  }
  if (t.type === 'counter' && snap.type === 'counter') t.sum += snap.sum;
  else if (t.type === 'gauge' && snap.type === 'gauge') {
    if (snap.at >= t.at) {
      t.value = snap.value;
      t.at = snap.at;
    }
    t.min = Math.min(t.min, snap.min);
    t.max = Math.max(t.max, snap.max);
  } else if (t.type === 'rate' && snap.type === 'rate') {
    t.trues += snap.trues;
    t.total += snap.total;
  } else if (t.type === 'trend' && snap.type === 'trend') t.histogram.merge(LatencyHistogram.decode(snap.histogram));
}

/** The result's summary of one custom metric. */
export function summarizeCustomMetric(t: CustomMetricTotal, seconds: number): CustomMetricSummary {
  switch (t.type) {
    case 'counter':
      return { type: 'counter', count: t.sum, rate: seconds > 0 ? t.sum / seconds : 0 };
    case 'gauge':
      return { type: 'gauge', value: t.value, min: t.min, max: t.max };
    case 'rate':
      return { type: 'rate', passes: t.trues, fails: t.total - t.trues, rate: t.total > 0 ? t.trues / t.total : 0 };
    case 'trend':
      return { type: 'trend', ...t.histogram.summary() };
  }
}

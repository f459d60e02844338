import { ErrorCodes, LatencyHistogram, RedlineError } from '@redline/core';
import { createBatcher, type BatcherOptions } from '@redline/flow';
import { meetsSlo, parseSlo, type Slo } from './slo.js';

/**
 * A data-pipeline stage as `redline tune` drives it: `setup()` once, then `stage(batch)` for each
 * batch of records taken from `records()` (a fresh iterable per configuration).
 */
export interface StageModule<T = unknown> {
  setup(): unknown;
  stage(batch: T[]): unknown;
  records(): AsyncIterable<T> | Iterable<T>;
  /** Called once after the last configuration. */
  teardown?(): unknown;
}

/** The exports a stage module must have. */
export const STAGE_EXPORTS = ['setup', 'stage', 'records'] as const;

/** Checks a loaded module's exports; throws REDLINE_ERR_INVALID_SCENARIO (exit 2) naming the first one missing. */
export function checkStageModule(mod: Record<string, unknown>, file: string): StageModule {
  for (const name of STAGE_EXPORTS) {
    if (typeof mod[name] !== 'function') {
      const what = mod[name] === undefined ? 'does not export' : `exports a ${typeof mod[name]} as`;
      throw new RedlineError(ErrorCodes.INVALID_SCENARIO, `${file} ${what} ${name}(): a stage module exports setup(), stage(batch) and records()`);
    }
  }
  return mod as unknown as StageModule;
}

/** One configuration of a stage. */
export interface TuneConfig {
  batchSize: number;
  concurrency: number;
}

/** What one configuration measured. */
export interface TuneMeasurement extends TuneConfig {
  /** Records completed. */
  records: number;
  recordsPerSec: number;
  /** Per-record latency, enqueue → its batch done, ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Latency at the SLO's percentile, ms. */
  sloLatencyMs: number;
  /** Met the SLO, measured at least one record, and no batch failed. */
  ok: boolean;
  failedRecords: number;
  elapsedMs: number;
  /** Set for the adaptive batcher run: the batch size it settled on. */
  finalBatchSize?: number;
}

/** Options of {@link measureStage}. */
export interface MeasureOptions {
  slo: Slo;
  /** How long to feed records, ms. */
  durationMs: number;
  /** A partial batch is flushed after this, ms. Default 5. */
  maxWaitMs?: number;
  /** Run the adaptive batcher (`targetLatencyMs`) with `batchSize` as its maximum. */
  adaptiveTargetMs?: number;
}

/**
 * Feeds a stage for `durationMs` through a batcher of `batchSize` × `concurrency` batches at once,
 * keeping `2 × batchSize × concurrency` records outstanding (a closed loop, so the stage runs at its
 * own pace), and measures records/s and the per-record latency from enqueue to done.
 */
export async function measureStage(mod: StageModule, config: TuneConfig, options: MeasureOptions): Promise<TuneMeasurement> {
  const hist = new LatencyHistogram();
  const batcherOptions: BatcherOptions<unknown, unknown> = {
    name: `tune-${config.batchSize}x${config.concurrency}`,
    handler: async (items) => {
      await mod.stage(items);
    },
    maxBatch: config.batchSize,
    maxWaitMs: options.maxWaitMs ?? 5,
    concurrency: config.concurrency,
    maxPending: Math.max(4, 4 * config.batchSize * config.concurrency),
    statsIntervalMs: 0,
    ...(options.adaptiveTargetMs !== undefined && { targetLatencyMs: options.adaptiveTargetMs }),
  };
  const batcher = createBatcher(batcherOptions);
  const source = mod.records();
  const iterator = Symbol.asyncIterator in source ? (source as AsyncIterable<unknown>)[Symbol.asyncIterator]() : (source as Iterable<unknown>)[Symbol.iterator]();
  const window = Math.max(2, 2 * config.batchSize * config.concurrency);
  let outstanding = 0;
  let done = 0;
  let failed = 0;
  let wake: (() => void) | undefined;
  const start = performance.now();
  try {
    while (performance.now() - start < options.durationMs) {
      if (outstanding >= window) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      const next = await iterator.next();
      if (next.done) break;
      outstanding++;
      const t0 = performance.now();
      batcher.add(next.value).then(
        () => {
          hist.recordMs(performance.now() - t0);
          done++;
        },
        () => {
          failed++;
        },
      ).finally(() => {
        outstanding--;
        const w = wake;
        wake = undefined;
        w?.();
      });
    }
    await batcher.close();
  } finally {
    await iterator.return?.();
  }
  const elapsedMs = performance.now() - start;
  const sloLatencyMs = hist.count > 0 ? hist.percentileMs(options.slo.percentile) : 0;
  return {
    ...config,
    records: done,
    recordsPerSec: elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0,
    p50Ms: hist.count > 0 ? hist.percentileMs(50) : 0,
    p99Ms: hist.count > 0 ? hist.percentileMs(99) : 0,
    maxMs: hist.count > 0 ? hist.percentileMs(100) : 0,
    sloLatencyMs,
    ok: done > 0 && failed === 0 && meetsSlo(options.slo, sloLatencyMs),
    failedRecords: failed,
    elapsedMs,
    ...(options.adaptiveTargetMs !== undefined && { finalBatchSize: batcher.batchSize }),
  };
}

/** Options of {@link tuneStage}. */
export interface TuneOptions {
  slo: Slo | string;
  /** Largest batch size tried (a power of two is not required). Default 1024. */
  maxBatch?: number;
  /** Largest concurrency tried. Default 8. */
  maxConcurrency?: number;
  /** Measurement time per configuration, ms. Default 1500. */
  durationMs?: number;
  maxWaitMs?: number;
  /** `search` (default): coarse-to-fine, a fraction of the grid; `grid`: every batch size × concurrency. */
  mode?: 'search' | 'grid';
  onMeasure?: (m: TuneMeasurement) => void;
}

/** Result of {@link tuneStage}. */
export interface TuneResult {
  slo: Slo;
  mode: 'search' | 'grid';
  batchSizes: number[];
  concurrencies: number[];
  measurements: TuneMeasurement[];
  /** Highest records/s among the configurations that met the SLO; null when none did. */
  best: TuneMeasurement | null;
  /** Size of the full grid, for comparison with `measurements.length`. */
  gridSize: number;
  elapsedMs: number;
}

/** Powers of two from 1 up to `max` (and `max` itself). */
export function ladder(max: number): number[] {
  const out: number[] = [];
  for (let v = 1; v < max; v *= 2) out.push(v);
  out.push(max);
  return out;
}

function better(a: TuneMeasurement | undefined, b: TuneMeasurement | undefined): TuneMeasurement | undefined {
  if (!a) return b;
  if (!b) return a;
  if (a.ok !== b.ok) return a.ok ? a : b;
  return b.recordsPerSec > a.recordsPerSec ? b : a;
}

/**
 * Finds the stage's best batch size × concurrency under the SLO. `search` measures a fraction of
 * the grid, coarse to fine: batch sizes ×4 at concurrency 1 until the SLO breaks or two steps in a
 * row bring less than 5 % more records/s, the ×2 neighbours of the best, then concurrency ×2 at that batch size the same
 * way, then the two trades (half the batch at twice the concurrency, and the reverse). `grid`
 * measures everything. The best is the highest records/s that met the SLO.
 */
export async function tuneStage(mod: StageModule, options: TuneOptions): Promise<TuneResult> {
  const slo = typeof options.slo === 'string' ? parseSlo(options.slo) : options.slo;
  const maxBatch = options.maxBatch ?? 1024;
  const maxConcurrency = options.maxConcurrency ?? 8;
  for (const [name, v] of [['maxBatch', maxBatch], ['maxConcurrency', maxConcurrency]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `${name} must be an integer ≥ 1, got ${v}`);
  }
  const batchSizes = ladder(maxBatch);
  const concurrencies = ladder(maxConcurrency);
  const mode = options.mode ?? 'search';
  const measureOptions: MeasureOptions = { slo, durationMs: options.durationMs ?? 1500, ...(options.maxWaitMs !== undefined && { maxWaitMs: options.maxWaitMs }) };
  const seen = new Map<string, TuneMeasurement>();
  let start = 0;
  let end = 0;
  const measure = async (bi: number, ci: number): Promise<TuneMeasurement | undefined> => {
    if (bi < 0 || ci < 0 || bi >= batchSizes.length || ci >= concurrencies.length) return undefined;
    const key = `${bi}:${ci}`;
    const known = seen.get(key);
    if (known) return known;
    const m = await measureStage(mod, { batchSize: batchSizes[bi]!, concurrency: concurrencies[ci]! }, measureOptions);
    seen.set(key, m);
    options.onMeasure?.(m);
    return m;
  };
  await mod.setup();
  // Measuring time only: setup (e.g. starting a database) costs the same for a search and a grid.
  start = performance.now();
  try {
    if (mode === 'grid') {
      for (let ci = 0; ci < concurrencies.length; ci++) for (let bi = 0; bi < batchSizes.length; bi++) await measure(bi, ci);
    } else {
      await search(measure, batchSizes.length, concurrencies.length, seen);
    }
    end = performance.now();
  } finally {
    await mod.teardown?.();
  }
  const elapsedMs = end - start;
  const measurements = [...seen.values()];
  const best = measurements.filter((m) => m.ok).reduce<TuneMeasurement | undefined>((a, b) => better(a, b), undefined) ?? null;
  return { slo, mode, batchSizes, concurrencies, measurements, best, gridSize: batchSizes.length * concurrencies.length, elapsedMs };
}

type Measure = (bi: number, ci: number) => Promise<TuneMeasurement | undefined>;

async function search(measure: Measure, nb: number, nc: number, seen: Map<string, TuneMeasurement>): Promise<void> {
  const indexOf = (m: TuneMeasurement): [number, number] => {
    for (const [key, v] of seen) if (v === m) return key.split(':').map(Number) as [number, number];
    return [0, 0];
  };
  const grows = (prev: TuneMeasurement, next: TuneMeasurement): boolean => next.ok && next.recordsPerSec > prev.recordsPerSec * 1.05;
  // 1. Batch sizes ×4 at concurrency 1, on while the SLO holds; measurements are noisy, so only two
  //    steps in a row without 5 % more records/s end the ramp.
  let best = (await measure(0, 0))!;
  let flat = 0;
  for (let bi = 2; ; bi += 2) {
    const m = await measure(Math.min(bi, nb - 1), 0);
    if (!m || !m.ok) break;
    if (grows(best, m)) flat = 0;
    else if (++flat >= 2) break;
    best = better(best, m)!;
    if (bi >= nb - 1) break;
  }
  // 2. The ×2 neighbours of the best batch size.
  let [bb] = indexOf(best);
  best = better(best, better(await measure(bb - 1, 0), await measure(bb + 1, 0)))!;
  [bb] = indexOf(best);
  // 3. Concurrency ×2 at that batch size.
  for (let ci = 1; ci < nc; ci++) {
    const m = await measure(bb, ci);
    if (!m || !grows(best, m)) break;
    best = m;
  }
  // 4. Trade batch size against concurrency once around the best.
  const [b2, c2] = indexOf(best);
  await measure(b2 - 1, c2 + 1);
  await measure(b2 + 1, c2 - 1);
}

import { linearRegression } from '@redline/core';
import type { Finding } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { allocationNote, meanOf, responsibleCode, round, type RuleContext } from '../timeline.js';

const MB = 1024 * 1024;

interface HeapPoint {
  t: number;
  mb: number;
  /** Mean requests in flight in the point's second (0 outside the load). */
  inFlight: number;
}

/**
 * Takes out the heap that requests in flight hold. Fits heap = a + b·t + c·inFlight and subtracts the
 * in-flight term, so a backlog that builds up (a saturated server holding every waiting request) is not
 * read as a leak, while memory kept after responses still grows with time. Points stay as they are
 * when in-flight hardly varies: then the two cannot be told apart, and need not be.
 */
export function withoutInFlightHeap(points: readonly HeapPoint[]): HeapPoint[] {
  const fs = points.map((p) => p.inFlight);
  if (points.length < 3 || Math.max(...fs) - Math.min(...fs) <= Thresholds.LEAK_INFLIGHT_MIN_SPREAD) return [...points];
  const mt = meanOf(points.map((p) => p.t));
  const mf = meanOf(fs);
  const my = meanOf(points.map((p) => p.mb));
  let stt = 0, sff = 0, stf = 0, sty = 0, sfy = 0;
  for (const p of points) {
    const dt = p.t - mt, df = p.inFlight - mf, dy = p.mb - my;
    stt += dt * dt; sff += df * df; stf += dt * df; sty += dt * dy; sfy += df * dy;
  }
  const det = stt * sff - stf * stf;
  if (det <= 1e-9 * stt * sff) return [...points];
  const perInFlightMb = (stt * sfy - stf * sty) / det;
  if (perInFlightMb <= 0) return [...points];
  return points.map((p) => ({ ...p, mb: p.mb - perInFlightMb * (p.inFlight - mf) }));
}

/** Heap points of the run (after major GCs, or per-second heap used) with their seconds' requests in flight. */
function heapPoints(ctx: RuleContext, read: (s: RuleContext['allSamples'][number]) => number | null): HeapPoint[] {
  const inFlightAt = new Map(ctx.result.timeseries.map((p) => [p.t, p.inFlight ?? 0]));
  return ctx.allSamples.flatMap((s) => {
    const bytes = read(s);
    return bytes === null ? [] : [{ t: s.t, mb: bytes / MB, inFlight: inFlightAt.get(Math.ceil(s.t)) ?? 0 }];
  });
}

/**
 * Memory leak: a positive linear trend of heap used after major GCs (per-second heap used when there
 * are too few GC points, with lower confidence), net of the heap requests in flight hold (see
 * {@link withoutInFlightHeap}). Needs slope ≥ LEAK_MIN_SLOPE_MB_PER_MIN, R² ≥ LEAK_MIN_R2, growth ≥
 * LEAK_MIN_GROWTH_MB, and growth that goes on in the last third (a warm-up that levels off is no leak).
 */
export function memoryLeakRule(ctx: RuleContext): Finding | null {
  const afterGc = heapPoints(ctx, (s) => s.heapAfterGcBytes);
  const fromGc = afterGc.length >= Thresholds.LEAK_MIN_POINTS;
  const points = withoutInFlightHeap(fromGc ? afterGc : heapPoints(ctx, (s) => s.heapUsedBytes));
  if (points.length < Thresholds.LEAK_MIN_POINTS) return null;
  const fit = linearRegression(points.map((p) => p.t), points.map((p) => p.mb));
  const slopePerMin = fit.slope * 60;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const growthMb = fit.slope * (last.t - first.t);
  const third = Math.max(1, Math.floor(points.length / 3));
  const early = meanOf(points.slice(0, third).map((p) => p.mb));
  const middle = meanOf(points.slice(third, points.length - third).map((p) => p.mb));
  const late = meanOf(points.slice(points.length - third).map((p) => p.mb));
  const keepsGrowing = late > middle && middle > early;
  if (slopePerMin < Thresholds.LEAK_MIN_SLOPE_MB_PER_MIN || fit.r2 < Thresholds.LEAK_MIN_R2 || growthMb < Thresholds.LEAK_MIN_GROWTH_MB || !keepsGrowing) {
    return null;
  }
  const window = { startS: Math.max(0, first.t - 1), endS: last.t };
  const confidence = fit.r2 * (points.length >= 10 ? 1 : 0.85) * (fromGc ? 1 : 0.75);
  const code = responsibleCode(ctx, window);
  const source = fromGc ? 'heap after GC' : 'heap used (too few GC points)';
  return {
    category: 'memory-leak',
    // Without major GCs, heap used counts garbage not collected yet: a few MB of growth is what any
    // allocating service shows between them.
    severity: slopePerMin >= Thresholds.LEAK_HIGH_SLOPE_MB_PER_MIN && fit.r2 >= 0.8 && (fromGc || growthMb >= Thresholds.LEAK_HEAP_USED_HIGH_GROWTH_MB) ? 'high' : 'medium',
    confidence: round(confidence),
    title: `Memory leak: ${source} grows ${round(slopePerMin, 1)} MB/min (R² ${round(fit.r2)}, +${round(growthMb, 1)} MB over ${Math.round(last.t - first.t)} s)${allocationNote(ctx)}`,
    window,
    evidence: [
      { metric: 'target.heap_after_gc.slope', value: round(slopePerMin, 2), threshold: Thresholds.LEAK_MIN_SLOPE_MB_PER_MIN, comparison: '>=', unit: 'MB/min' },
      { metric: 'target.heap_after_gc.r2', value: round(fit.r2, 3), threshold: Thresholds.LEAK_MIN_R2, comparison: '>=', unit: 'ratio' },
      { metric: 'target.heap_after_gc.growth', value: round(growthMb, 1), threshold: Thresholds.LEAK_MIN_GROWTH_MB, comparison: '>=', unit: 'MB' },
    ],
    frames: code.frames,
    recommendation:
      'Something keeps references across requests: look for module-level arrays, maps or caches without a bound, listeners or timers added per request, and closures that capture request data. Compare two heap snapshots taken a minute apart, and give every cache a size limit (e.g. lru-cache).',
  };
}

import { linearRegression } from '@redline/core';
import type { Finding } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { allocationNote, meanOf, responsibleCode, round, type RuleContext } from '../timeline.js';

const MB = 1024 * 1024;

/**
 * Memory leak: a positive linear trend of heap used after major GCs across the run (per-second heap
 * used when there are too few GC points, with lower confidence). Needs slope ≥ LEAK_MIN_SLOPE_MB_PER_MIN,
 * R² ≥ LEAK_MIN_R2, growth ≥ LEAK_MIN_GROWTH_MB, and growth that goes on in the last third of the run
 * (a warm-up that levels off is no leak).
 */
export function memoryLeakRule(ctx: RuleContext): Finding | null {
  const afterGc = ctx.allSamples.filter((s) => s.heapAfterGcBytes !== null).map((s) => ({ t: s.t, mb: s.heapAfterGcBytes! / MB }));
  const fromGc = afterGc.length >= Thresholds.LEAK_MIN_POINTS;
  const points = fromGc ? afterGc : ctx.allSamples.map((s) => ({ t: s.t, mb: s.heapUsedBytes / MB }));
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
    severity: slopePerMin >= Thresholds.LEAK_HIGH_SLOPE_MB_PER_MIN && fit.r2 >= 0.8 ? 'high' : 'medium',
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

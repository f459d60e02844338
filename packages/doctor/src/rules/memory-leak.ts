import { linearRegression } from '@redline/core';
import type { Finding, HotFrame, LeakSuspect } from '@redline/core';
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

/** Per-second heap points of the run (`read` picks the value) with their seconds' requests in flight. */
function heapPoints(ctx: RuleContext, read: (s: RuleContext['allSamples'][number]) => number | null): HeapPoint[] {
  const inFlightAt = inFlightBySecond(ctx);
  return ctx.allSamples.flatMap((s) => {
    const bytes = read(s);
    return bytes === null ? [] : [{ t: s.t, mb: bytes / MB, inFlight: inFlightAt.get(Math.ceil(s.t)) ?? 0 }];
  });
}

function inFlightBySecond(ctx: RuleContext): Map<number, number> {
  return new Map(ctx.result.timeseries.map((p) => [p.t, p.inFlight ?? 0]));
}

/**
 * Heap after full collections: the ones the probe forced (exact: read right after the collection)
 * and V8's own major GCs in the other seconds. Heap *used* is no evidence: it rises on every healthy
 * service until V8 runs a full collection.
 */
export function fullGcPoints(ctx: RuleContext): HeapPoint[] {
  const inFlightAt = inFlightBySecond(ctx);
  const forced = ctx.result.target?.fullGcs ?? [];
  const forcedSeconds = new Set(forced.map((g) => Math.ceil(g.t)));
  const points = [
    ...forced.map((g) => ({ t: g.t, mb: g.heapUsedBytes / MB, inFlight: inFlightAt.get(Math.ceil(g.t)) ?? 0 })),
    ...heapPoints(ctx, (s) => (forcedSeconds.has(Math.ceil(s.t)) ? null : s.heapAfterGcBytes)),
  ];
  return points.sort((a, b) => a.t - b.t);
}

interface Trend {
  slopePerMin: number;
  r2: number;
  growthMb: number;
  keepsGrowing: boolean;
  first: HeapPoint;
  last: HeapPoint;
}

function trend(points: readonly HeapPoint[]): Trend {
  const fit = linearRegression(points.map((p) => p.t), points.map((p) => p.mb));
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const third = Math.max(1, Math.floor(points.length / 3));
  const early = meanOf(points.slice(0, third).map((p) => p.mb));
  const middle = meanOf(points.slice(third, points.length - third).map((p) => p.mb));
  const late = meanOf(points.slice(points.length - third).map((p) => p.mb));
  return { slopePerMin: fit.slope * 60, r2: fit.r2, growthMb: fit.slope * (last.t - first.t), keepsGrowing: late > middle && middle > early, first, last };
}

function isLeakTrend(t: Trend): boolean {
  return t.slopePerMin >= Thresholds.LEAK_MIN_SLOPE_MB_PER_MIN && t.r2 >= Thresholds.LEAK_MIN_R2 && t.growthMb >= Thresholds.LEAK_MIN_GROWTH_MB && t.keepsGrowing;
}

const MB_TEXT = (bytes: number): string => `${round(bytes / MB, 1)} MB`;

/** "; growing: Map in SessionStore.sessions (+5000 Object, +2.9 MB retained)" for the top suspect. */
function suspectNote(s: LeakSuspect): string {
  const top = s.classes[0];
  const what = top === undefined ? '' : `+${top.added} ${top.name}, `;
  return `${s.pathText.split(' ← ').slice(0, 2).join(' ← ')} (${what}+${MB_TEXT(s.retainedLastBytes - s.retainedFirstBytes)} retained)`;
}

/** Closures on the suspects' retainer paths, as frames (app code first). */
function retainerFrames(suspects: readonly LeakSuspect[]): HotFrame[] {
  const frames: HotFrame[] = [];
  const seen = new Set<string>();
  for (const s of suspects) {
    for (const step of s.path) {
      if (step.file === undefined || step.line === undefined) continue;
      const functionName = step.inFunction ?? step.label.replace(/^closure /, '');
      const key = `${functionName}|${step.file}|${step.line}`;
      if (seen.has(key)) continue;
      seen.add(key);
      frames.push({ functionName, file: step.file, line: step.line, column: step.column ?? 0, area: step.area ?? 'app', selfShare: 0, totalShare: 0 });
    }
  }
  return frames.sort((a, b) => Number(b.area === 'app') - Number(a.area === 'app'));
}

/** What the snapshots said when none were diffed: why, and how to get them. */
function snapshotHint(ctx: RuleContext): string {
  const snaps = ctx.result.target?.heapSnapshots;
  if (snaps?.skipped) return ` No heap snapshots: ${snaps.skipped.message}.`;
  if (snaps === undefined || snaps.mode === 'off') return ' Run with --leak-snapshots on to name the objects that grow and what holds them.';
  return '';
}

/**
 * Memory leak: a positive linear trend of heap after full collections (the probe forces a few when V8
 * ran too few; see `fullGcPoints`), net of the heap requests in flight hold (see
 * {@link withoutInFlightHeap}). Needs LEAK_MIN_POINTS points, slope ≥ LEAK_MIN_SLOPE_MB_PER_MIN, R² ≥
 * LEAK_MIN_R2, growth ≥ LEAK_MIN_GROWTH_MB, and growth that goes on in the last third (a warm-up that
 * levels off is no leak). With too few full collections it calls no leak: when heap *used* grows it
 * says so in an `info` finding and why that is no evidence. Heap snapshot diffs, when the run has
 * them, name the object that keeps the new objects and its retainer path.
 */
export function memoryLeakRule(ctx: RuleContext): Finding | null {
  // Only under load: after the load the heap stops growing, which would hide a leak's trend.
  const afterGc = withoutInFlightHeap(fullGcPoints(ctx).filter((p) => p.t > ctx.active.startS && p.t <= ctx.active.endS + 0.5));
  if (afterGc.length < Thresholds.LEAK_MIN_POINTS) return notEnoughEvidence(ctx, afterGc.length);
  const t = trend(afterGc);
  if (!isLeakTrend(t)) return null;
  const { first, last } = t;
  const window = { startS: Math.max(0, first.t - 1), endS: last.t };
  const suspects = (ctx.leakSuspects ?? []).filter((s) => s.retainedLastBytes > s.retainedFirstBytes);
  const forced = ctx.result.target?.fullGcs?.length ?? 0;
  // How sure: the fit's R², fewer than ten points cost a little, and a snapshot diff that names the
  // holder confirms it (without one the trend alone speaks).
  const confidence = t.r2 * (afterGc.length >= 10 ? 1 : 0.85) * (suspects.length > 0 ? 1 : 0.9);
  const code = responsibleCode(ctx, window);
  const top = suspects[0];
  const evidence: Finding['evidence'] = [
    { metric: 'target.heap_after_gc.slope', value: round(t.slopePerMin, 2), threshold: Thresholds.LEAK_MIN_SLOPE_MB_PER_MIN, comparison: '>=', unit: 'MB/min' },
    { metric: 'target.heap_after_gc.r2', value: round(t.r2, 3), threshold: Thresholds.LEAK_MIN_R2, comparison: '>=', unit: 'ratio' },
    { metric: 'target.heap_after_gc.growth', value: round(t.growthMb, 1), threshold: Thresholds.LEAK_MIN_GROWTH_MB, comparison: '>=', unit: 'MB' },
    { metric: 'target.heap_after_gc.points', value: afterGc.length, threshold: Thresholds.LEAK_MIN_POINTS, comparison: '>=', unit: `full GCs (${forced} forced)` },
  ];
  if (top !== undefined) {
    evidence.push({ metric: 'heap_snapshot.holder_added', value: round(top.addedBytes / MB, 2), threshold: round(Thresholds.LEAK_SUSPECT_MIN_BYTES / MB, 2), comparison: '>=', unit: 'MB' });
  }
  const holderText = top === undefined ? '' : `; growing: ${suspectNote(top)}`;
  const keep =
    top === undefined
      ? 'Something keeps references across requests: look for module-level arrays, maps or caches without a bound, listeners or timers added per request, and closures that capture request data. Compare two heap snapshots taken a minute apart, and give every cache a size limit (e.g. lru-cache).'
      : `${top.holder} keeps ${top.addedCount} new objects (${top.classes.slice(0, 3).map((c) => `+${c.added} ${c.name}`).join(', ')}) and grew from ${MB_TEXT(top.retainedFirstBytes)} to ${MB_TEXT(top.retainedLastBytes)} retained; it is held by ${top.pathText}. Remove entries when they are done with (delete from the map, removeListener, splice), or bound it (an LRU with a size limit, e.g. lru-cache).`;
  return {
    category: 'memory-leak',
    severity: t.slopePerMin >= Thresholds.LEAK_HIGH_SLOPE_MB_PER_MIN && t.r2 >= 0.8 ? 'high' : 'medium',
    confidence: round(confidence),
    title: `Memory leak: heap after full GC grows ${round(t.slopePerMin, 1)} MB/min (R² ${round(t.r2)}, +${round(t.growthMb, 1)} MB over ${Math.round(last.t - first.t)} s, ${afterGc.length} full GCs)${holderText}${top === undefined ? allocationNote(ctx) : ''}`,
    window,
    evidence,
    frames: [...retainerFrames(suspects), ...code.frames].slice(0, Thresholds.FRAMES_PER_FINDING + 3),
    recommendation: `${keep}${top === undefined ? snapshotHint(ctx) : ''}`,
    ...(suspects.length > 0 ? { leaks: suspects } : {}),
  };
}

/**
 * Too few full collections to judge: no leak is called. When heap *used* rises as a leak would, an
 * `info` finding says so, and why that is not evidence, so a real leak on a run without forced GCs is
 * not silently passed over either.
 */
function notEnoughEvidence(ctx: RuleContext, points: number): Finding | null {
  const used = withoutInFlightHeap(heapPoints(ctx, (s) => s.heapUsedBytes).filter((p) => p.t > ctx.active.startS && p.t <= ctx.active.endS));
  if (used.length < Thresholds.LEAK_MIN_POINTS) return null;
  const t = trend(used);
  if (!isLeakTrend(t)) return null;
  return {
    category: 'memory-leak',
    severity: 'info',
    confidence: round(0.3 * t.r2),
    title: `Heap used grows ${round(t.slopePerMin, 1)} MB/min, but with ${points} full GC${points === 1 ? '' : 's'} (fewer than ${Thresholds.LEAK_MIN_POINTS}) there is no evidence of a leak: heap used rises on every service until V8 runs a full collection`,
    window: { startS: Math.max(0, t.first.t - 1), endS: t.last.t },
    evidence: [
      { metric: 'target.heap_used.slope', value: round(t.slopePerMin, 2), threshold: Thresholds.LEAK_MIN_SLOPE_MB_PER_MIN, comparison: '>=', unit: 'MB/min' },
      { metric: 'target.heap_after_gc.points', value: points, threshold: Thresholds.LEAK_MIN_POINTS, comparison: '<', unit: 'full GCs' },
    ],
    frames: [],
    recommendation: 'Run longer, or let the probe force a few full collections (the default for launched targets; turned off by --no-full-gc), so the heap after full GC shows whether memory is really kept.',
  };
}

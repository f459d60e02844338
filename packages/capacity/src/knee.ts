import type { UslPoint } from './usl.js';

/**
 * The knee of a measured throughput curve: the point farthest above the chord from the lowest to
 * the highest concurrency, with both axes normalised to 0–1 (the "Kneedle" idea). Only points up to
 * the throughput peak are candidates, since the knee is where scaling stops, not where it collapses.
 * Returns null for fewer than two points; the peak itself for a curve that never bends.
 */
export function measuredKnee(points: readonly UslPoint[]): UslPoint | null {
  if (points.length < 2) return null;
  const sorted = [...points].sort((a, b) => a.concurrency - b.concurrency);
  let peakIndex = 0;
  sorted.forEach((p, i) => {
    if (p.throughput > sorted[peakIndex]!.throughput) peakIndex = i;
  });
  const first = sorted[0]!;
  const last = sorted.at(-1)!;
  const peak = sorted[peakIndex]!;
  const spanN = last.concurrency - first.concurrency || 1;
  const spanX = peak.throughput - Math.min(...sorted.map((p) => p.throughput)) || 1;
  const slopeX = (last.throughput - first.throughput) / spanX;
  // Height above the chord: large where the curve has already flattened.
  const height = (p: UslPoint): number => (p.throughput - first.throughput) / spanX - slopeX * ((p.concurrency - first.concurrency) / spanN);
  // Start from the peak so a curve that never bends (all heights equal) reports its peak.
  let best = peak;
  let bestDistance = height(peak);
  for (const p of sorted.slice(0, peakIndex)) {
    const distance = height(p);
    if (distance > bestDistance + 1e-9) {
      bestDistance = distance;
      best = p;
    }
  }
  return { concurrency: best.concurrency, throughput: best.throughput };
}

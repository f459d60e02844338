import type { UslPoint } from './usl.js';

/**
 * The knee of a measured throughput curve: the point farthest above the chord from the first to
 * the highest-throughput point, with both axes normalised to 0–1 (the "Kneedle" idea). Only the
 * rising part up to the throughput peak is considered, since the knee is where scaling stops.
 * Returns null for fewer than two points; the peak itself for a curve that never bends.
 */
export function measuredKnee(points: readonly UslPoint[]): UslPoint | null {
  if (points.length < 2) return null;
  const sorted = [...points].sort((a, b) => a.concurrency - b.concurrency);
  let peakIndex = 0;
  sorted.forEach((p, i) => {
    if (p.throughput > sorted[peakIndex]!.throughput) peakIndex = i;
  });
  const rising = sorted.slice(0, peakIndex + 1);
  const first = rising[0]!;
  const last = rising.at(-1)!;
  if (rising.length < 3) return { concurrency: last.concurrency, throughput: last.throughput };
  const spanN = last.concurrency - first.concurrency || 1;
  const spanX = last.throughput - first.throughput || 1;
  let best = last;
  let bestDistance = 0;
  for (const p of rising) {
    const n = (p.concurrency - first.concurrency) / spanN;
    const x = (p.throughput - first.throughput) / spanX;
    // Height above the diagonal of the unit square: large where the curve has already flattened.
    const distance = x - n;
    if (distance > bestDistance + 1e-12) {
      bestDistance = distance;
      best = p;
    }
  }
  return { concurrency: best.concurrency, throughput: best.throughput };
}

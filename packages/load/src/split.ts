/**
 * The share of `total` that worker `index` of `count` takes, so that shares sum to `total` exactly
 * (the first `total % count` workers take one more).
 */
export function splitInt(total: number, count: number, index: number): number {
  const base = Math.floor(total / count);
  return base + (index < total % count ? 1 : 0);
}

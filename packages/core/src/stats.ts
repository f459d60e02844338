/** A seeded pseudo-random generator (mulberry32) returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Arithmetic mean; NaN for an empty list. */
export function mean(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  let s = 0;
  for (const v of values) s += v;
  return s / values.length;
}

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export function stdev(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let s = 0;
  for (const v of values) s += (v - m) ** 2;
  return Math.sqrt(s / (values.length - 1));
}

/** Percentile `p` (0–100) of an ascending-sorted list, with linear interpolation. */
export function percentileOfSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const a = sorted[lo]!;
  const b = sorted[hi]!;
  return a + (b - a) * (rank - lo);
}

/** Percentile `p` (0–100) of an unsorted list. */
export function percentile(values: readonly number[], p: number): number {
  return percentileOfSorted([...values].sort((x, y) => x - y), p);
}

/** A confidence interval around a point estimate. */
export interface ConfidenceInterval {
  estimate: number;
  low: number;
  high: number;
  /** e.g. 0.95 */
  level: number;
}

/**
 * Percentile-bootstrap confidence interval for `statistic` over `samples`.
 * Deterministic for a given `seed`.
 */
export function bootstrapCI(
  samples: readonly number[],
  statistic: (xs: readonly number[]) => number,
  options: { iterations?: number; level?: number; seed?: number } = {},
): ConfidenceInterval {
  const iterations = options.iterations ?? 2000;
  const level = options.level ?? 0.95;
  const rand = seededRandom(options.seed ?? 1);
  const estimate = statistic(samples);
  if (samples.length < 2) return { estimate, low: estimate, high: estimate, level };
  const stats: number[] = new Array(iterations);
  const resample: number[] = new Array(samples.length);
  for (let i = 0; i < iterations; i++) {
    for (let j = 0; j < samples.length; j++) resample[j] = samples[Math.floor(rand() * samples.length)]!;
    stats[i] = statistic(resample);
  }
  stats.sort((x, y) => x - y);
  const alpha = (1 - level) / 2;
  return {
    estimate,
    low: percentileOfSorted(stats, alpha * 100),
    high: percentileOfSorted(stats, (1 - alpha) * 100),
    level,
  };
}

/** Ordinary least-squares line through (x, y): slope, intercept and R². */
export function linearRegression(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number; r2: number } {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return { slope: 0, intercept: ys[0] ?? 0, r2: 0 };
  const mx = mean(xs.slice(0, n));
  const my = mean(ys.slice(0, n));
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  const r2 = sxx === 0 || syy === 0 ? 0 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept: my - slope * mx, r2 };
}

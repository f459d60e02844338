/** Longest default CPU sampling interval, in µs: coarser would blur which function holds the loop. */
export const MAX_DEFAULT_CPU_INTERVAL_US = 10_000;
/** Shortest default CPU sampling interval, in µs (V8's profiler tick costs the main thread per sample). */
export const MIN_DEFAULT_CPU_INTERVAL_US = 1000;
/** Fewest samples the default interval aims for over the profiled window. */
export const MIN_PROFILE_SAMPLES = 1000;

/**
 * The default V8 CPU sampling interval for a profile over `windowMs`: as coarse as possible (each
 * SIGPROF tick costs the target; at 1 ms the profiler took ~10 % of a CPU-bound target's capacity on
 * the development VM) while still giving at least MIN_PROFILE_SAMPLES samples, between 1 ms and 10 ms.
 * A 12 s run (profiled for ~10 s) samples every 10 ms; a 3 s run every 2 ms.
 */
export function defaultCpuSamplingIntervalUs(windowMs: number): number {
  if (!Number.isFinite(windowMs) || windowMs <= 0) return MIN_DEFAULT_CPU_INTERVAL_US;
  const us = Math.floor((windowMs * 1000) / MIN_PROFILE_SAMPLES / 100) * 100;
  return Math.min(MAX_DEFAULT_CPU_INTERVAL_US, Math.max(MIN_DEFAULT_CPU_INTERVAL_US, us));
}

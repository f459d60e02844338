/** Longest default CPU sampling interval, in µs: coarser would blur which function holds the loop. */
export const MAX_DEFAULT_CPU_INTERVAL_US = 20_000;
/** Shortest default CPU sampling interval, in µs (V8's profiler tick costs the main thread per sample). */
export const MIN_DEFAULT_CPU_INTERVAL_US = 1000;
/** Fewest samples the default interval aims for over the profiled window. */
export const MIN_PROFILE_SAMPLES = 500;

/**
 * The default V8 CPU sampling interval for a profile over `windowMs`: as coarse as possible (each
 * SIGPROF tick costs the target: ~1.8 % of a CPU-bound target's capacity at 10 ms on the development
 * VM, ~10 % at 1 ms) while still giving at least MIN_PROFILE_SAMPLES samples, between 1 ms and 20 ms.
 * A 12 s run (profiled for ~10 s) samples every 20 ms (~510 samples); a 3 s run every 4.4 ms.
 * Profiling only part of the window instead was measured and rejected: each `Profiler.start` logs
 * every compiled function (13 ms of CPU on a 5 MB heap, 175 ms on a 115 MB one), so duty cycles cost
 * more than the ticks they save (bench/probe-profiler-cost.bench.ts).
 */
export function defaultCpuSamplingIntervalUs(windowMs: number): number {
  if (!Number.isFinite(windowMs) || windowMs <= 0) return MIN_DEFAULT_CPU_INTERVAL_US;
  const us = Math.floor((windowMs * 1000) / MIN_PROFILE_SAMPLES / 100) * 100;
  return Math.min(MAX_DEFAULT_CPU_INTERVAL_US, Math.max(MIN_DEFAULT_CPU_INTERVAL_US, us));
}

import type { Finding } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { cpuCores, median, responsibleCode, round, sustained, where, type RuleContext } from '../timeline.js';

/**
 * CPU saturated: for at least SUSTAINED_FRACTION of the active seconds the process used about one
 * core (CPU ≥ CPU_SATURATED_CORES), or its main thread was busy (ELU ≥ ELU_BUSY) with at least half a
 * core of CPU (CPU_STARVED_MIN_CORES when a CPU profile was taken: the probe then corrects ELU for
 * the profiler, and a never-idle thread on a crowded machine gets less than a core). ELU alone is not
 * trusted without a profile: a sampling CPU profiler at 1 ms interrupts the loop's idle wait so often
 * that an idle loop reads as ~0.6 busy.
 */
export function cpuSaturatedRule(ctx: RuleContext): Finding | null {
  if (ctx.samples.length === 0) return null;
  // With a CPU profile the probe's ELU is corrected for the profiler's interruptions, so a main thread
  // that never idles while getting little CPU is starved by other processes, not waiting.
  const minCores = ctx.profile !== undefined ? Thresholds.CPU_STARVED_MIN_CORES : Thresholds.WAIT_MAX_CPU_CORES;
  const busy = sustained(ctx.samples, (s) => cpuCores(s) >= Thresholds.CPU_SATURATED_CORES || (s.elu >= Thresholds.ELU_BUSY && cpuCores(s) >= minCores));
  if (busy.window === null || busy.fraction < Thresholds.SUSTAINED_FRACTION) return null;
  const cores = median(busy.matched.map(cpuCores));
  const elu = median(busy.matched.map((s) => s.elu));
  const code = responsibleCode(ctx, busy.window);
  // Without app code in the profile, the hottest frame (native code named after its JS caller) is the lead.
  const lead = code.top ?? code.frames.find((f) => f.functionName !== '(garbage collector)') ?? null;
  const hot = lead === null ? '' : `; most time goes to ${where(lead)}`;
  const starved = cores < Thresholds.CPU_SATURATED_CORES ? ' (the main thread never idled; the machine gave it less than a core)' : '';
  return {
    category: 'cpu-saturated',
    severity: 'high',
    confidence: round(Math.min(0.95, 0.55 + 0.4 * busy.fraction)),
    title: `CPU saturated: the process ran at ${round(cores)} cores (ELU ${round(elu)}) in ${busy.matched.length} of ${ctx.samples.length} s${starved}${hot}`,
    window: busy.window,
    evidence: [
      { metric: 'target.cpu', value: round(cores), threshold: Thresholds.CPU_SATURATED_CORES, comparison: '>=', unit: 'cores' },
      { metric: 'target.elu', value: round(elu), threshold: Thresholds.ELU_BUSY, comparison: '>=', unit: 'ratio' },
      { metric: 'target.busy.seconds_share', value: round(busy.fraction), threshold: Thresholds.SUSTAINED_FRACTION, comparison: '>=', unit: 'ratio' },
    ],
    frames: code.frames,
    recommendation:
      code.top !== null
        ? `The main thread is out of CPU: make the hot path in ${code.top.functionName} (${code.top.file}:${code.top.line}) cheaper, move CPU-heavy work to worker threads, or run more processes (cluster or more replicas) behind the load balancer.`
        : 'The main thread is out of CPU: profile the hot path and make it cheaper, move CPU-heavy work to worker threads, or run more processes (cluster or more replicas).',
  };
}

import type { Evidence, Finding } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { cpuCores, meanOf, median, round, secondLatencies, type RuleContext } from '../timeline.js';

/** No problem found: the answer when no other rule reached medium severity, with the numbers that show it. */
export function noProblemFinding(ctx: RuleContext): Finding {
  const evidence: Evidence[] = [];
  const s = ctx.samples;
  if (s.length > 0) {
    evidence.push(
      { metric: 'target.elu', value: round(meanOf(s.map((x) => x.elu))), threshold: Thresholds.ELU_BUSY, comparison: '<', unit: 'ratio' },
      { metric: 'target.loop_delay.p99', value: round(median(s.map((x) => x.loopDelayMs.p99))), threshold: Thresholds.LOOP_DELAY_P99_MS, comparison: '<', unit: 'ms' },
      { metric: 'target.cpu', value: round(meanOf(s.map(cpuCores))), threshold: Thresholds.CPU_SATURATED_CORES, comparison: '<', unit: 'cores' },
      { metric: 'target.gc_share', value: round(meanOf(s.map((x) => x.gcShare)), 3), threshold: Thresholds.GC_SHARE_PRESSURE, comparison: '<', unit: 'ratio' },
    );
  }
  const sum = ctx.result.summary;
  // Requests the generator could not make (out of file descriptors) are not the target's errors.
  const generatorErrors = sum.errorsByKind.generator ?? 0;
  const errorRate = sum.requests - generatorErrors > 0 ? (sum.errors - generatorErrors) / (sum.requests - generatorErrors) : 0;
  evidence.push({ metric: 'http.errors.rate', value: round(errorRate, 4), threshold: Thresholds.ERROR_RATE_MEDIUM, comparison: '<', unit: 'ratio' });
  if (ctx.timeseries.length > 0) {
    evidence.push({ metric: 'http.latency.p50', value: round(median(secondLatencies(ctx.timeseries, 'p50'))), threshold: Thresholds.WAIT_MIN_LATENCY_MS, comparison: '<', unit: 'ms' });
  }
  const probed = s.length > 0;
  const holds = (e: Evidence): boolean =>
    e.comparison === '<' ? e.value < e.threshold : e.comparison === '<=' ? e.value <= e.threshold : e.comparison === '>' ? e.value > e.threshold : e.value >= e.threshold;
  const outOfRange = evidence.filter((e) => !holds(e));
  if (outOfRange.length > 0) {
    // Some number is bad but no rule explains it: say so rather than "no problem".
    const what = outOfRange.map((e) => `${e.metric} ${e.value} ${e.unit}`).join(', ');
    return {
      category: 'no-problem',
      severity: 'info',
      confidence: 0.3,
      title: `No bottleneck identified, but ${what} ${outOfRange.length === 1 ? 'is' : 'are'} past the healthy threshold`,
      window: ctx.active,
      evidence,
      frames: [],
      recommendation: probed
        ? 'No rule matched these numbers: look at the CPU profile and the per-second timeline around the worst seconds, or run longer for a clearer trend.'
        : 'Run with --target (or --attach) so the probe can look inside the target and name the cause.',
    };
  }
  return {
    category: 'no-problem',
    severity: 'info',
    confidence: probed ? 0.8 : 0.4,
    title: probed
      ? `No problem found: the target kept up with the load (ELU ${round(meanOf(s.map((x) => x.elu)))}, p99 loop delay ${Math.round(median(s.map((x) => x.loopDelayMs.p99)))} ms, ${round(errorRate * 100, 2)}% errors)`
      : `No problem found in the load numbers (${round(errorRate * 100, 2)}% errors); the target was not probed, so its inside is unknown`,
    window: ctx.active,
    evidence,
    frames: [],
    recommendation: probed
      ? 'Raise the load (or search for the limit with `redline capacity`) to see where this service stops keeping up.'
      : 'Run with --target (or --attach) so the probe can look inside the target.',
  };
}

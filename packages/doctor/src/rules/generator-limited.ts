import type { Finding } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { round, type RuleContext } from '../timeline.js';

/** Generator-limited: the load engine's own self-check says it could not hold the intended load. */
export function generatorLimitedRule(ctx: RuleContext): Finding | null {
  const g = ctx.result.generator;
  if (!g.limited) return null;
  const busy = g.seconds.filter((s) => s.elu >= Thresholds.ELU_BUSY || s.cpuCores >= Thresholds.CPU_SATURATED_CORES);
  const window = busy.length > 0 ? { startS: Math.max(0, busy[0]!.t - 1), endS: busy[busy.length - 1]!.t } : ctx.active;
  const reasons = g.reasons.length > 0 ? g.reasons.join('; ') : 'the load generator reported itself as the limit';
  return {
    category: 'generator-limited',
    severity: 'medium',
    confidence: 0.9,
    title: `Load generator was the limit (${reasons}): the numbers describe the generator, not the target`,
    window,
    evidence: [
      { metric: 'generator.elu.max', value: round(g.eluMax), threshold: Thresholds.ELU_BUSY, comparison: '>=', unit: 'ratio' },
      { metric: 'generator.cpu.mean', value: round(g.cpuCoresMean), threshold: Thresholds.CPU_SATURATED_CORES, comparison: '>=', unit: 'cores' },
      { metric: 'generator.schedule_lag.p99', value: round(g.scheduleLagMs.p99), threshold: 0, comparison: '>', unit: 'ms' },
    ],
    frames: [],
    recommendation:
      'Give the generator more room before trusting these numbers: more workers, a machine separate from the target, fewer scripted checks per request, or a lower rate.',
  };
}

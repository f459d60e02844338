import type { Finding } from '@redline/core';
import { round, type RuleContext } from '../timeline.js';

/** Target exited: the target process ended before the run did (from `result.target.exit`). */
export function targetExitedRule(ctx: RuleContext): Finding | null {
  const exit = ctx.result.target?.exit;
  if (exit === null || exit === undefined) return null;
  const how = exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code ?? 'unknown'}`;
  const oom = exit.signal === 'SIGKILL' || exit.signal === 'SIGABRT' || exit.code === 134;
  const runEnd = ctx.result.summary.durationMs / 1000;
  return {
    category: 'target-exited',
    severity: 'high',
    confidence: 1,
    title: `Target exited (${how}) at t=${round(exit.t, 1)}s`,
    window: { startS: exit.t, endS: Math.max(exit.t, runEnd) },
    evidence: [{ metric: 'target.exit.t', value: round(exit.t, 2), threshold: round(runEnd, 2), comparison: '<', unit: 's' }],
    frames: [],
    recommendation: `The target stopped before the load did, so numbers after t=${round(exit.t, 1)}s describe a dead target: read its stderr for that moment${oom ? '; SIGKILL/SIGABRT/134 often mean it ran out of memory (check heap growth and --max-old-space-size)' : ''}.`,
  };
}

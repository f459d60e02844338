import type { NameAnalysis } from '@redline/trace';
import { Thresholds } from '../thresholds.js';
import type { RuleContext } from '../timeline.js';

/** The request names of a traced run with enough traces to judge, most requests first. */
export function tracedNames(ctx: RuleContext): NameAnalysis[] {
  const byName = ctx.traces?.analysis.byName;
  if (byName === undefined) return [];
  return Object.values(byName)
    .filter((n) => n.traced >= Thresholds.TRACE_MIN_TRACES)
    .sort((a, b) => (ctx.result.summary.byName[b.name]?.requests ?? 0) - (ctx.result.summary.byName[a.name]?.requests ?? 0));
}

/** `12.3 ms` with one decimal under 100 ms. */
export function ms(v: number): string {
  return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10} ms`;
}

/** A percentage with no decimals. */
export function pct(share: number): string {
  return `${Math.round(share * 100)}%`;
}

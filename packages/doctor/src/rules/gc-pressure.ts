import type { Evidence, Finding } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { allocationNote, meanOf, responsibleCode, round, sustained, type RuleContext } from '../timeline.js';
import { gcFlagAdvice } from '../gc-tuning.js';

/** The V8 flag to try, and how to prove it: an A/B with `--target-node-options` and `redline compare`. */
function flagAdvice(ctx: RuleContext): string {
  const a = gcFlagAdvice(ctx.samples);
  const already = ctx.result.target?.nodeOptions?.some((o) => o.startsWith(`${a.flag}=`)) ?? false;
  if (already) return `The target already ran with ${ctx.result.target?.nodeOptions?.join(' ') ?? ''}; ${a.because}.`;
  return `As a stopgap, ${a.because}: try ${a.option} and prove it with an A/B — the same run again with --target-node-options "${a.option}", then redline compare BASE CANDIDATE (it quotes scavenges, GC share and p99 before and after).`;
}

/**
 * GC pressure: the share of wall time spent in GC pauses, averaged over the active seconds, is at
 * least GC_SHARE_PRESSURE (high severity from GC_SHARE_HIGH). The frames are the code the samples
 * outside GC belong to, which is where the allocations come from.
 */
export function gcPressureRule(ctx: RuleContext): Finding | null {
  if (ctx.samples.length === 0) return null;
  const share = meanOf(ctx.samples.map((s) => s.gcShare));
  const high = sustained(ctx.samples, (s) => s.gcShare >= Thresholds.GC_SHARE_PRESSURE);
  if (share < Thresholds.GC_SHARE_PRESSURE || high.window === null) return null;
  const pauses = new Map<string, { count: number; totalMs: number }>();
  for (const s of ctx.samples) {
    for (const [kind, p] of Object.entries(s.gcPauses)) {
      const acc = pauses.get(kind) ?? { count: 0, totalMs: 0 };
      acc.count += p.count;
      acc.totalMs += p.totalMs;
      pauses.set(kind, acc);
    }
  }
  const byKind = [...pauses.entries()].sort((a, b) => b[1].totalMs - a[1].totalMs);
  const kinds = byKind.slice(0, 3).map(([k, p]) => `${k} ${p.count}× ${Math.round(p.totalMs)} ms`).join(', ');
  const code = responsibleCode(ctx, high.window);
  const evidence: Evidence[] = [
    { metric: 'target.gc_share', value: round(share, 3), threshold: Thresholds.GC_SHARE_PRESSURE, comparison: '>=', unit: 'ratio' },
  ];
  if (code.gcProfileShare > 0) {
    evidence.push({ metric: 'profile.gc_share', value: round(code.gcProfileShare, 3), threshold: Thresholds.GC_SHARE_PRESSURE, comparison: '>=', unit: 'ratio' });
  }
  const topAlloc = ctx.allocations[0];
  const allocator = topAlloc !== undefined ? ` Start with ${topAlloc.functionName} (${topAlloc.file}:${topAlloc.line}), which allocates ${Math.round(topAlloc.selfShare * 100)}% of the sampled bytes.` : code.top === null ? '' : ` Start with ${code.top.functionName} (${code.top.file}:${code.top.line}), where most of the non-GC time goes.`;
  return {
    category: 'gc-pressure',
    severity: share >= Thresholds.GC_SHARE_HIGH ? 'high' : 'medium',
    confidence: round(Math.min(0.95, 0.55 + 0.3 * high.fraction + (code.gcProfileShare >= Thresholds.GC_SHARE_PRESSURE ? 0.1 : 0))),
    title: `GC pressure: ${round(share * 100, 1)}% of wall time in GC pauses${kinds === '' ? '' : ` (${kinds})`}${allocationNote(ctx)}`,
    window: high.window,
    evidence,
    frames: code.frames,
    recommendation: `Allocate less per request: reuse buffers and objects, avoid large temporary arrays and strings, stream instead of buffering whole payloads, and do not keep short-lived objects around long enough to be promoted.${allocator} ${flagAdvice(ctx)}`,
  };
}

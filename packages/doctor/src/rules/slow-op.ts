import type { Finding } from '@redline/core';
import type { NameAnalysis, OpLatency, OpShare } from '@redline/trace';
import { Thresholds } from '../thresholds.js';
import { round, type RuleContext } from '../timeline.js';
import { callerFrame, fromCaller, ms, pct, tracedNames } from './traced-names.js';

/** One statement or downstream that dominates a name's tail. */
export interface SlowOp {
  name: NameAnalysis;
  op: OpShare;
  latency: OpLatency | undefined;
  /** Executions per request (median), for statements. */
  countMedian: number;
  /** The larger of its tail and median shares. */
  share: number;
}

/**
 * The operation of `kind` with the largest share of a request name's latency (the larger of its tail
 * and median shares), over all request names, when that share is at least SLOW_OP_MIN_TAIL_SHARE and one execution takes at least
 * SLOW_OP_MIN_P50_MS at the median; statements that run many times per
 * request are left to `n-plus-one`.
 */
export function dominantOp(ctx: RuleContext, kind: 'db' | 'downstream'): SlowOp | null {
  let best: SlowOp | null = null;
  for (const n of tracedNames(ctx)) {
    for (const op of n.tail.ops) {
      if (op.kind !== kind) continue;
      // An operation that takes most of every request sets the tail's floor as well: judge it by
      // the larger of its tail and median shares.
      const share = Math.max(op.share, n.baseline.ops.find((o) => o.key === op.key)?.share ?? 0);
      if (share < Thresholds.SLOW_OP_MIN_TAIL_SHARE) continue;
      const countMedian = n.statements.find((s) => s.key === op.key)?.countMedian ?? 1;
      const latency = n.latencies.find((l) => l.key === op.key);
      // A fast operation that only looks long in the tail was stretched by something else (its
      // span ends when the event loop gets to its callback): not a slow query.
      if (latency === undefined || latency.p50Ms < Thresholds.SLOW_OP_MIN_P50_MS) continue;
      if (kind === 'db' && countMedian >= Thresholds.N_PLUS_ONE_MIN_COUNT) continue;
      if (best === null || share > best.share) best = { name: n, op, latency, countMedian, share };
    }
  }
  return best;
}

/** The finding for a dominant operation. */
export function slowOpFinding(ctx: RuleContext, s: SlowOp, category: 'slow-query' | 'slow-downstream'): Finding {
  const what = category === 'slow-query' ? 'query' : 'downstream';
  const l = s.latency;
  const own = l === undefined ? '' : ` (own latency p50 ${ms(l.p50Ms)}, p99 ${ms(l.p99Ms)} over ${l.count} calls)`;
  const base = s.name.baseline.ops.find((o) => o.key === s.op.key);
  const caller = category === 'slow-query' ? s.name.statements.find((st) => st.key === s.op.key)?.caller : undefined;
  const frame = caller === undefined ? undefined : callerFrame(ctx, caller);
  return {
    category,
    severity: s.share >= Thresholds.SLOW_OP_HIGH_TAIL_SHARE ? 'high' : 'medium',
    confidence: round(Math.min(0.95, 0.55 + 0.4 * s.share)),
    title: `Slow ${what}: "${s.op.key}"${fromCaller(frame)} takes ${pct(s.op.share)} of ${s.name.name}'s tail (${ms(s.op.meanMs)} of ${ms(s.name.tail.meanLatencyMs)} at ≥ p99)${base === undefined ? '' : ` and ${pct(base.share)} at the median`}${own}`,
    window: ctx.active,
    evidence: [
      { metric: 'trace.tail_share', value: round(s.op.share, 3), threshold: Thresholds.SLOW_OP_MIN_TAIL_SHARE, comparison: '>=', unit: 'ratio' },
      { metric: 'trace.tail_ms', value: round(s.op.meanMs, 2), threshold: 0, comparison: '>', unit: 'ms' },
      ...(base === undefined ? [] : [{ metric: 'trace.median_share', value: round(base.share, 3), threshold: Thresholds.SLOW_OP_MIN_TAIL_SHARE, comparison: '>=' as const, unit: 'ratio' }]),
      ...(l === undefined
        ? []
        : [
            { metric: `trace.${what}_p50`, value: round(l.p50Ms, 2), threshold: 0, comparison: '>' as const, unit: 'ms' },
            { metric: `trace.${what}_p99`, value: round(l.p99Ms, 2), threshold: 0, comparison: '>' as const, unit: 'ms' },
          ]),
    ],
    frames: frame === undefined ? [] : [frame],
    recommendation:
      category === 'slow-query'
        ? `Make this statement cheaper: EXPLAIN ANALYZE it for sequential scans and missing indexes, select fewer rows and columns, or cache its result when it is read far more often than written. ${s.name.headline}.`
        : `Take this downstream off the critical path or bound it: call it in parallel with the other work, cache its answers, put a timeout and a circuit breaker on it, or ask its owners about its latency. ${s.name.headline}.`,
  };
}

import type { Finding } from '@redline/core';
import type { NameAnalysis, StatementProfile } from '@redline/trace';
import { Thresholds } from '../thresholds.js';
import { round, type RuleContext } from '../timeline.js';
import { callerFrame, fromCaller, ms, pct, tracedNames } from './traced-names.js';

/**
 * The batched form of a statement that looks one row up by one value: `col = $1` becomes
 * `col = ANY($1)` (PostgreSQL, one array parameter) — or null when the shape is not that simple.
 */
export function batchedForm(statement: string): string | null {
  const m = /^(.*\bWHERE\s+)([\w."]+)\s*=\s*(\$\d+|\?)(.*)$/i.exec(statement);
  if (m === null) return null;
  return `${m[1]}${m[2]} = ANY($1)${m[4]!.replace(/\$(\d+)/g, (_x, d: string) => `$${Number(d) + 1}`)}`;
}

interface Candidate {
  name: NameAnalysis;
  st: StatementProfile;
  share: number;
}

/**
 * N+1 queries: per request, the same normalised statement runs at least N_PLUS_ONE_MIN_COUNT times
 * (median over the traced requests), one execution after another, and those executions take at
 * least N_PLUS_ONE_MIN_SHARE of the request's mean latency.
 */
export function nPlusOneRule(ctx: RuleContext): Finding | null {
  let best: Candidate | null = null;
  for (const n of tracedNames(ctx)) {
    const meanLatency = (n.baseline.meanLatencyMs * n.baseline.count + n.tail.meanLatencyMs * n.tail.count) / Math.max(1, n.baseline.count + n.tail.count);
    for (const st of n.statements) {
      if (st.countMedian < Thresholds.N_PLUS_ONE_MIN_COUNT || st.sequentialShare < 0.5) continue;
      const share = meanLatency > 0 ? Math.min(1, st.meanMsPerRequest / meanLatency) : 0;
      if (share < Thresholds.N_PLUS_ONE_MIN_SHARE) continue;
      if (best === null || share > best.share) best = { name: n, st, share };
    }
  }
  if (best === null) return null;
  const { name, st, share } = best;
  const perCall = st.meanMsPerRequest / Math.max(1, st.countMedian);
  const batched = batchedForm(st.key);
  const savedMs = Math.max(0, st.meanMsPerRequest - perCall);
  const frame = st.caller === undefined ? undefined : callerFrame(ctx, st.caller);
  return {
    category: 'n-plus-one',
    severity: share >= Thresholds.N_PLUS_ONE_HIGH_SHARE ? 'high' : 'medium',
    confidence: round(Math.min(0.95, 0.6 + 0.3 * st.sequentialShare * Math.min(1, share / Thresholds.N_PLUS_ONE_HIGH_SHARE))),
    title: `N+1 queries: ${name.name} runs "${st.key}" ${st.countMedian}× per request, one after another${fromCaller(frame)} (${ms(st.meanMsPerRequest)} of each request, ${pct(share)})`,
    window: ctx.active,
    evidence: [
      { metric: 'trace.statement_count_per_request', value: st.countMedian, threshold: Thresholds.N_PLUS_ONE_MIN_COUNT, comparison: '>=', unit: 'count' },
      { metric: 'trace.statement_share', value: round(share, 3), threshold: Thresholds.N_PLUS_ONE_MIN_SHARE, comparison: '>=', unit: 'ratio' },
      { metric: 'trace.statement_ms_per_request', value: round(st.meanMsPerRequest, 2), threshold: 0, comparison: '>', unit: 'ms' },
      { metric: 'trace.statement_p50', value: round(st.p50Ms, 3), threshold: 0, comparison: '>', unit: 'ms' },
    ],
    frames: frame === undefined ? [] : [frame],
    recommendation: `Fetch the rows in one round trip instead of ${st.countMedian}: ${batched === null ? 'one query over all the ids (WHERE id = ANY($1) or IN (…)), or a JOIN with the parent query' : `"${batched}" with the ids as one array, or a JOIN with the parent query`}; a DataLoader-style batcher does this for per-item code paths. That saves about ${ms(savedMs)} per request (${st.countMedian - 1} round trips of ~${ms(perCall)}).`,
  };
}

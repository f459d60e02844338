import type { Finding } from '@redline/core';
import type { NameAnalysis, OpShare } from '@redline/trace';
import { Thresholds } from '../thresholds.js';
import { round, type RuleContext } from '../timeline.js';
import { ms, pct, tracedNames } from './traced-names.js';

/**
 * Server queueing: in a request name's tail, the time from the generator's send to the server
 * span's start (accept queue, paused sockets, a busy event loop, a proxy in front) is at least
 * QUEUEING_MIN_TAIL_SHARE of the latency and at least QUEUEING_MIN_MS, and requests around the median
 * wait at least QUEUEING_MIN_MS too: a standing queue. One-off stalls that only hit the slowest
 * requests (a GC pause, a process not scheduled on a busy machine) are the loop findings' business.
 */
export function serverQueueingRule(ctx: RuleContext): Finding | null {
  let best: { n: NameAnalysis; op: OpShare } | null = null;
  for (const n of tracedNames(ctx)) {
    const op = n.tail.ops.find((o) => o.kind === 'before-handler');
    if (op === undefined || op.share < Thresholds.QUEUEING_MIN_TAIL_SHARE || op.meanMs < Thresholds.QUEUEING_MIN_MS) continue;
    const atMedian = n.baseline.ops.find((o) => o.kind === 'before-handler')?.meanMs ?? 0;
    if (atMedian < Thresholds.QUEUEING_MIN_MS) continue;
    if (best === null || op.share > best.op.share) best = { n, op };
  }
  if (best === null) return null;
  const { n, op } = best;
  const base = n.baseline.ops.find((o) => o.kind === 'before-handler');
  const handlerMs = n.tail.meanLatencyMs - op.meanMs;
  return {
    category: 'server-queueing',
    severity: op.share >= Thresholds.QUEUEING_HIGH_TAIL_SHARE ? 'high' : 'medium',
    confidence: round(Math.min(0.95, 0.55 + 0.4 * op.share)),
    title: `Requests queue before the handler: ${n.name}'s tail waits ${ms(op.meanMs)} (${pct(op.share)} of ${ms(n.tail.meanLatencyMs)}) before the server span starts${base === undefined ? '' : `, ${ms(base.meanMs)} at the median`}`,
    window: ctx.active,
    evidence: [
      { metric: 'trace.before_handler_tail_share', value: round(op.share, 3), threshold: Thresholds.QUEUEING_MIN_TAIL_SHARE, comparison: '>=', unit: 'ratio' },
      { metric: 'trace.before_handler_tail_ms', value: round(op.meanMs, 2), threshold: Thresholds.QUEUEING_MIN_MS, comparison: '>=', unit: 'ms' },
      { metric: 'trace.before_handler_median_ms', value: round(base?.meanMs ?? 0, 2), threshold: Thresholds.QUEUEING_MIN_MS, comparison: '>=', unit: 'ms' },
      { metric: 'trace.handler_tail_ms', value: round(handlerMs, 2), threshold: 0, comparison: '>', unit: 'ms' },
    ],
    frames: [],
    recommendation: `The handler is not what is slow (${ms(handlerMs)} of the tail from its start to the response); requests wait to be read. Look at what admits them: a concurrency limit or paused sockets in front of the handler, a proxy or load balancer queue, or an event loop busy between requests (see the loop and CPU findings). Raise the admitted concurrency, add instances, or shed load early with a 503 instead of queueing.`,
  };
}

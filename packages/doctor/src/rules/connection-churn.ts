import type { Finding, LatencySummary } from '@redline/core';
import { round, type RuleContext } from '../timeline.js';

/** A phase below this is a reused (or plain, for TLS) connection's 0: the histogram reports 0 as its lowest bucket, 1 µs. */
const MIN_PHASE_MS = 0.005;
/** Fewer responses than this say nothing about connection reuse. */
const MIN_RESPONSES = 50;

/**
 * The share of requests that opened a connection, as a lower bound read from the connect phase's
 * percentiles: the phase is 0 for a reused connection, so a positive p50 means at least half paid
 * a handshake, a positive minimum means every one did.
 */
export function connectShareAtLeast(connect: LatencySummary): number {
  if (connect.min >= MIN_PHASE_MS) return 1;
  const steps: Array<[keyof LatencySummary, number]> = [
    ['p50', 0.5],
    ['p75', 0.25],
    ['p90', 0.1],
  ];
  for (const [k, share] of steps) if (connect[k] >= MIN_PHASE_MS) return share;
  return 0;
}

/**
 * Connection churn: at least half of the requests opened a new connection (the server sends
 * `Connection: close`, keep-alive is off, or its keep-alive timeout is shorter than the gaps
 * between requests), with what each new connection cost (TCP, TLS).
 */
export function connectionChurnRule(ctx: RuleContext): Finding | null {
  const t = ctx.result.summary.timings;
  const connect = t?.connect;
  if (!t || !connect || connect.count < MIN_RESPONSES) return null;
  const share = connectShareAtLeast(connect);
  if (share < 0.5) return null;
  const tls = t.tls !== undefined && t.tls.p50 >= MIN_PHASE_MS ? t.tls : undefined;
  const costMs = connect.p50 + (tls ? tls.p50 : 0);
  const tlsText = tls ? ` + TLS handshake p50 ${round(tls.p50, 2)} ms` : '';
  return {
    category: 'connection-churn',
    severity: share === 1 && tls ? 'medium' : 'low',
    confidence: 0.9,
    title: `Connection churn: ${share === 1 ? 'every request' : `at least ${round(share * 100, 0)}% of requests`} opened a new connection (TCP connect p50 ${round(connect.p50, 2)} ms${tlsText} each)`,
    window: ctx.active,
    evidence: [
      { metric: 'http.connections.per_request', value: share, threshold: 0.5, comparison: '>=', unit: 'ratio' },
      { metric: 'http.timing.connect.p50', value: round(connect.p50, 3), threshold: 0, comparison: '>', unit: 'ms' },
      ...(tls ? [{ metric: 'http.timing.tls.p50', value: round(tls.p50, 3), threshold: 0, comparison: '>' as const, unit: 'ms' }] : []),
    ],
    frames: [],
    recommendation: `Keep connections alive: the server closes them (Connection: close, keep-alive off, or a keep-alive timeout shorter than the client's idle gaps), so each request pays about ${round(costMs, 2)} ms of setup here — more across a network, and a TLS handshake costs the server CPU. In Node, do not set Connection: close, and set server.keepAliveTimeout above your load balancer's idle timeout (60 s on AWS ALB).`,
  };
}

import type { Finding } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { round, sustained, type RuleContext } from '../timeline.js';

const KIND_ADVICE: Record<string, string> = {
  timeout: 'Requests timed out: the target is too slow at this load; fix the cause found above before raising timeouts.',
  connect_refused: 'Connections were refused: the target was down, restarting, or its listen backlog was full.',
  reset: 'Connections were reset: the target closed them mid-request (crash, keep-alive timeout shorter than the client\'s, or a proxy limit).',
  http_5xx: 'The target answered with server errors: read its logs for the seconds named here.',
  http_4xx: 'The target rejected requests (4xx): check the scenario sends valid requests (auth, payloads, rate limits).',
  dns: 'Name resolution failed: check the target host name.',
};

/**
 * Errors: the whole-run error rate is at least ERROR_RATE_MEDIUM (high from ERROR_RATE_HIGH), or some
 * seconds spike to ERROR_SPIKE_RATE. Reports the kinds and the seconds of the spikes.
 */
export function errorsRule(ctx: RuleContext): Finding | null {
  const s = ctx.result.summary;
  const total = s.requests;
  const rate = total > 0 ? s.errors / total : s.errors > 0 ? 1 : 0;
  const spikes = sustained(ctx.result.timeseries, (p) => p.requests + p.errors > 0 && p.errors / Math.max(p.requests, 1) >= Thresholds.ERROR_SPIKE_RATE);
  if (rate < Thresholds.ERROR_RATE_MEDIUM && spikes.window === null) return null;
  if (s.errors === 0) return null;
  const peak = spikes.matched.reduce((m, p) => Math.max(m, p.errors / Math.max(p.requests, 1)), 0);
  const kinds = Object.entries(s.errorsByKind).filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
  const kindText = kinds.map(([k, n]) => `${k} ${n}`).join(', ');
  const firstT = spikes.matched[0]?.t;
  const spikeText = spikes.window === null ? '' : `, spikes in ${spikes.matched.length} s from t=${firstT}s to t=${spikes.window.endS}s`;
  const topKind = kinds[0]?.[0] ?? '';
  return {
    category: 'errors',
    severity: rate >= Thresholds.ERROR_RATE_HIGH ? 'high' : rate >= Thresholds.ERROR_RATE_MEDIUM ? 'medium' : 'low',
    confidence: 0.95,
    title: `Errors: ${round(rate * 100, 2)}% of requests failed (${kindText || 'unclassified'})${spikeText}`,
    window: spikes.window ?? ctx.active,
    evidence: [
      { metric: 'http.errors.rate', value: round(rate, 4), threshold: Thresholds.ERROR_RATE_MEDIUM, comparison: '>=', unit: 'ratio' },
      ...(spikes.window === null ? [] : [{ metric: 'http.errors.rate.peak_second', value: round(peak, 4), threshold: Thresholds.ERROR_SPIKE_RATE, comparison: '>=' as const, unit: 'ratio' }]),
    ],
    frames: [],
    recommendation: KIND_ADVICE[topKind] ?? `Look at the ${topKind || 'failed'} errors around the seconds named here.`,
  };
}

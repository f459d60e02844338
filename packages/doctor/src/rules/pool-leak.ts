import type { Finding } from '@redline/core';
import { round, type RuleContext } from '../timeline.js';
import { firstAppFrame } from './pool-wait.js';

/**
 * Pool clients held longer than `--pool-leak-ms` (like HikariCP's leakDetectionThreshold): names the
 * pool, how many, the longest hold, and the source-mapped stack that acquired the first one. High
 * severity when some never came back before the run ended.
 */
export function poolLeakRule(ctx: RuleContext): Finding | null {
  const leaks = ctx.result.target?.poolLeaks ?? [];
  if (leaks.length === 0) return null;
  const neverReturned = leaks.filter((l) => !l.returned);
  const worst = [...leaks].sort((a, b) => Number(a.returned) - Number(b.returned) || b.heldMs - a.heldMs)[0]!;
  const pools = [...new Set(leaks.map((l) => l.pool))];
  const frame = firstAppFrame(worst.stack);
  const at = frame === null ? '' : `; acquired in ${frame.functionName} (${frame.file}:${frame.line})`;
  const first = ctx.result.target?.poolLeaks?.map((l) => l.t) ?? [];
  return {
    category: 'pool-leak',
    severity: neverReturned.length > 0 ? 'high' : 'medium',
    confidence: 0.9,
    title: `${leaks.length} pool client${leaks.length === 1 ? '' : 's'} held past the leak threshold in ${pools.map((p) => `"${p}"`).join(', ')}${neverReturned.length > 0 ? `, ${neverReturned.length} never returned` : ''}; longest ${round(worst.heldMs / 1000, 2)} s${at}`,
    window: { startS: Math.max(0, Math.min(...first) - 1), endS: Math.max(...first) },
    evidence: [
      { metric: 'pool.leaks', value: leaks.length, threshold: 1, comparison: '>=', unit: 'count' },
      { metric: 'pool.leaks.never_returned', value: neverReturned.length, threshold: 1, comparison: '>=', unit: 'count' },
      { metric: 'pool.leak.held_ms.max', value: round(worst.heldMs), threshold: 0, comparison: '>', unit: 'ms' },
    ],
    frames: frame === null ? [] : [frame],
    recommendation: `Release every client on every path (try/finally around the work, or pool.query() for single statements), and do not hold one across slow work. The stack that acquired the longest-held client:\n${worst.stack.split('\n').slice(0, 8).join('\n')}`,
  };
}

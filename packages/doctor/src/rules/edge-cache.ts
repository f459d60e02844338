import type { Finding } from '@redline/core';
import { round, type RuleContext } from '../timeline.js';

/**
 * Expiry spikes at the edge: a second in which misses burst after the cache was warm (a TTL ran
 * out on many objects at once, or a purge), so the origin took the stampede.
 */
export function edgeExpirySpikeRule(ctx: RuleContext): Finding | null {
  const c = ctx.result.summary.cache;
  const spikes = c?.expirySpikes.filter((s) => !s.cold) ?? [];
  if (!c || spikes.length === 0) return null;
  const worst = spikes.reduce((a, b) => (b.misses > a.misses ? b : a));
  const missP50 = c.latency.miss?.p50;
  const hitP50 = c.latency.hit?.p50;
  const costText = missP50 !== undefined && hitP50 !== undefined ? `; a miss took ${round(missP50, 1)} ms at the median against ${round(hitP50, 1)} ms for a hit` : '';
  return {
    category: 'edge-cache',
    severity: worst.hitRatio < 0.5 ? 'medium' : 'low',
    confidence: 0.8,
    title: `Miss spike at the edge: ${worst.misses} misses at t=${worst.t}s (usually ${round(worst.baselineMisses, 1)}/s), hit ratio down to ${round(worst.hitRatio * 100, 0)}%${spikes.length > 1 ? ` (${spikes.length} spikes)` : ''}`,
    window: { startS: Math.max(0, worst.t - 1), endS: worst.t },
    evidence: [
      { metric: 'cache.misses.peak_second', value: worst.misses, threshold: Math.max(10, 4 * worst.baselineMisses), comparison: '>=', unit: 'count' },
      { metric: 'cache.hit_ratio.peak_second', value: round(worst.hitRatio, 3), threshold: c.hitRatio === null ? 1 : round(c.hitRatio, 3), comparison: '<', unit: 'ratio' },
    ],
    frames: [],
    recommendation: `Many objects expired or were purged at once, so the origin served them all together${costText}. Spread expiry (TTL jitter), serve stale while revalidating (Cache-Control stale-while-revalidate, Varnish grace) so one request refreshes each object, and prefer soft purges or tag bans on the few objects that changed over purging everything.`,
  };
}

const PROBLEM_TEXT: Record<string, string> = {
  uncacheable: 'GET 200 marked uncacheable',
  varyStar: 'Vary: *',
  setCookieOnCacheable: 'Set-Cookie on a cacheable response',
  noValidators: 'cacheable without ETag/Last-Modified',
};

/** Cache-header problems by request name (`summary.cache.byName`), most frequent first. */
export function cacheHeadersRule(ctx: RuleContext): Finding | null {
  const c = ctx.result.summary.cache;
  if (!c) return null;
  const problems: Array<{ name: string; problem: string; count: number }> = [];
  for (const [name, n] of Object.entries(c.byName)) {
    for (const p of Object.keys(PROBLEM_TEXT)) {
      const count = n[p as keyof typeof n];
      if (count > 0) problems.push({ name, problem: p, count });
    }
  }
  if (problems.length === 0) return null;
  problems.sort((a, b) => b.count - a.count);
  const cookie = problems.some((p) => p.problem === 'setCookieOnCacheable');
  const list = problems.slice(0, 5).map((p) => `${p.name}: ${PROBLEM_TEXT[p.problem]} (${p.count})`).join('; ');
  return {
    category: 'cache-headers',
    severity: cookie ? 'medium' : 'low',
    confidence: 0.9,
    title: `Cache headers: ${list}`,
    window: ctx.active,
    evidence: problems.slice(0, 5).map((p) => ({ metric: `cache.problems.${p.problem}{name:${p.name}}`, value: p.count, threshold: 0, comparison: '>' as const, unit: 'count' })),
    frames: [],
    recommendation:
      'Set-Cookie on a response a shared cache may store can hand one user\'s cookie to others: mark it private or drop the cookie. Vary: * makes a response unreusable; vary on the headers that matter. Add an ETag or Last-Modified to cacheable responses so expiry costs a 304, not the body. A GET 200 marked no-store/private/max-age=0 is never offloaded: check it must be.',
  };
}

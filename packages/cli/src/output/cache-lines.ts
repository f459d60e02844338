import type { CacheSummary } from '@redline/core';
import { dotted, ms, pct } from './format.js';

type Paint = { red(s: string): string; yellow(s: string): string; dim(s: string): string };

const PROBLEM_TEXT = {
  uncacheable: 'GET 200 marked uncacheable (no-store/private/no-cache/max-age=0)',
  varyStar: 'Vary: * (never reusable)',
  setCookieOnCacheable: 'Set-Cookie on a cacheable response',
  noValidators: 'cacheable without ETag or Last-Modified',
} as const;

/** The summary's cache lines: verdicts, hit ratio, offload, latency by verdict, spikes, header problems. */
export function cacheLines(c: CacheSummary, paint: Paint): string[] {
  const lines: string[] = [];
  const share = (n: number): string => (c.responses ? pct(n / c.responses) : '0%');
  lines.push(
    `  ${dotted('cache')} hit ratio ${c.hitRatio === null ? '-' : pct(c.hitRatio)}, origin offload ${pct(c.offload)}  hit ${c.hit} (${share(c.hit)}) miss ${c.miss} stale ${c.stale} bypass ${c.bypass} unknown ${c.unknown}`,
  );
  const lat = ['hit', 'miss', 'stale', 'bypass'].filter((v) => c.latency[v]).map((v) => `${v} ${ms(c.latency[v]!.p50)}/${ms(c.latency[v]!.p99)}`);
  if (lat.length) lines.push(`  ${dotted('cache.latency')} ${lat.join('  ')}${paint.dim('  service time p50/p99')}`);
  const warm = c.expirySpikes.filter((s) => !s.cold);
  if (warm.length) {
    const list = warm.slice(0, 5).map((s) => `t=${s.t}s ${s.misses} misses (usually ${s.baselineMisses}/s)`).join(', ');
    lines.push(`  ${dotted('cache.spikes')} ${paint.yellow(`${warm.length} miss spike${warm.length === 1 ? '' : 's'}`)}: ${list}${paint.dim('  a TTL ran out or a purge: a stampede at the origin')}`);
  }
  for (const [name, n] of Object.entries(c.byName)) {
    for (const [key, text] of Object.entries(PROBLEM_TEXT) as Array<[keyof typeof PROBLEM_TEXT, string]>) {
      if (n[key] > 0) lines.push(`    ${paint.yellow('!')} ${name}: ${text} (${n[key]} responses)`);
    }
  }
  return lines;
}

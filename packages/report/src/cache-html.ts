import type { CacheSummary, RunResult } from '@redline/core';
import { escapeHtml as h, fmtMs, fmtNum, fmtPct } from './format.js';

const PROBLEMS: Array<[keyof CacheSummary['byName'][string], string]> = [
  ['uncacheable', 'GET 200 marked uncacheable'],
  ['varyStar', 'Vary: *'],
  ['setCookieOnCacheable', 'Set-Cookie on cacheable'],
  ['noValidators', 'no ETag / Last-Modified'],
];

/**
 * Hit ratio per second as an inline SVG (no script, so the page's CSP is unchanged): the line is
 * the hit ratio (0–100 %), the bars are misses per second, spikes are marked red.
 */
function hitRatioSvg(c: CacheSummary): string {
  const pts = c.perSecond;
  if (pts.length === 0) return '';
  const W = 720;
  const H = 160;
  const pad = 24;
  const x = (i: number): number => pad + (pts.length === 1 ? 0 : (i * (W - 2 * pad)) / (pts.length - 1));
  const y = (share: number): number => H - pad - share * (H - 2 * pad);
  const maxMiss = Math.max(1, ...pts.map((p) => p.miss));
  const spikes = new Set(c.expirySpikes.map((s) => s.t));
  const barW = Math.max(1, (W - 2 * pad) / Math.max(1, pts.length) - 1);
  const bars = pts
    .map((p, i) => {
      const bh = (p.miss / maxMiss) * (H - 2 * pad);
      return `<rect x="${(x(i) - barW / 2).toFixed(1)}" y="${(H - pad - bh).toFixed(1)}" width="${barW.toFixed(1)}" height="${bh.toFixed(1)}" fill="${spikes.has(p.t) ? '#d9534f' : '#c8d3e0'}"><title>t=${p.t}s: ${p.miss} misses</title></rect>`;
    })
    .join('');
  const line = pts
    .map((p, i) => {
      const lookups = p.hit + p.stale + p.miss;
      return lookups > 0 ? `${x(i).toFixed(1)},${y((p.hit + p.stale) / lookups).toFixed(1)}` : null;
    })
    .filter((s): s is string => s !== null)
    .join(' ');
  return `<svg class="cache-chart" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="cache hit ratio per second">
<line x1="${pad}" y1="${y(1)}" x2="${W - pad}" y2="${y(1)}" stroke="#ddd"/><line x1="${pad}" y1="${y(0)}" x2="${W - pad}" y2="${y(0)}" stroke="#999"/>
<text x="2" y="${y(1) + 4}" font-size="10">100%</text><text x="2" y="${y(0) + 4}" font-size="10">0%</text>
${bars}<polyline points="${line}" fill="none" stroke="#2a7ae2" stroke-width="2"/>
<text x="${W - pad}" y="${H - 6}" font-size="10" text-anchor="end">seconds · line: hit ratio · bars: misses/s (max ${fmtNum(maxMiss)}; red: spike)</text>
</svg>`;
}

/** The "Cache (edge)" section of a run report, when responses carried cache headers. */
export function cacheSectionHtml(result: RunResult): string {
  const c = result.summary.cache;
  if (!c) return '';
  const latRows = ['hit', 'stale', 'miss', 'bypass']
    .filter((v) => c.latency[v])
    .map((v) => {
      const l = c.latency[v]!;
      return `<tr><td>${h(v)}</td><td class="num">${h(fmtNum(l.count))}</td><td class="num">${h(fmtMs(l.p50))}</td><td class="num">${h(fmtMs(l.p90))}</td><td class="num">${h(fmtMs(l.p99))}</td><td class="num">${h(fmtMs(l.max))}</td></tr>`;
    })
    .join('');
  const spikes = c.expirySpikes
    .map((s) => `<li>t=${h(String(s.t))} s: ${h(fmtNum(s.misses))} misses (median ${h(fmtNum(s.baselineMisses))}/s), hit ratio ${h(fmtPct(s.hitRatio, 0))}${s.cold ? ' — cold start' : ''}</li>`)
    .join('');
  const nameRows = Object.entries(c.byName)
    .map(([name, n]) => {
      const problems = PROBLEMS.filter(([k]) => n[k] > 0).map(([k, label]) => `${label} (${fmtNum(n[k])})`);
      return `<tr><td>${h(name)}</td><td class="num">${h(fmtNum(n.hit))}</td><td class="num">${h(fmtNum(n.miss))}</td><td class="num">${h(fmtNum(n.stale))}</td><td class="num">${h(fmtNum(n.bypass))}</td><td class="${problems.length ? 'fail' : ''}">${h(problems.join(', '))}</td></tr>`;
    })
    .join('');
  return `<section id="cache">
<h2>Cache (edge)</h2>
<p class="hint">Verdicts from Cache-Status (RFC 9211), CF-Cache-Status, X-Cache, X-Varnish, Age and Via. Hit ratio is (hit + stale) / (hit + stale + miss); origin offload is the share of all ${h(fmtNum(c.responses))} responses the origin did not produce.</p>
<p><b>hit ratio ${h(c.hitRatio === null ? '–' : fmtPct(c.hitRatio))}</b> · origin offload ${h(fmtPct(c.offload))} · hit ${h(fmtNum(c.hit))} · miss ${h(fmtNum(c.miss))} · stale ${h(fmtNum(c.stale))} · bypass ${h(fmtNum(c.bypass))} · unknown ${h(fmtNum(c.unknown))}</p>
${hitRatioSvg(c)}
<div class="cols" style="margin-top:14px">
<div><h3>Service time by verdict</h3><table class="data"><thead><tr><th>verdict</th><th class="num">count</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">max</th></tr></thead><tbody>${latRows}</tbody></table></div>
<div><h3>Miss spikes</h3>${spikes ? `<ul>${spikes}</ul>` : '<p class="note">None: misses never burst.</p>'}</div>
</div>
<h3>By request name</h3>
<table class="data"><thead><tr><th>name</th><th class="num">hit</th><th class="num">miss</th><th class="num">stale</th><th class="num">bypass</th><th>header problems</th></tr></thead><tbody>${nameRows}</tbody></table>
</section>`;
}

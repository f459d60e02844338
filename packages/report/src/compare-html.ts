import { readRunResult, writeFileAtomic } from '@redline/core';
import { diffFlameTrees, type FlameNode } from '@redline/doctor';
import { flamesOf, type CompareResult, type MetricComparison } from './compare.js';
import { fmtMetricValue } from './compare-table.js';
import { encodeDiffTree, mergeFlameTrees, type EncodedFlame, type FlamePruneOptions } from './flame-data.js';
import { escapeHtml as h, fmtChange, fmtDuration, fmtNum, fmtPct } from './format.js';
import { pageHtml } from './report-html.js';
import { loadRunFlame } from './write-report.js';

/** Optional parts of compare.html beyond the comparison itself. */
export interface CompareHtmlExtras {
  /** Merged call trees of each side; the differential flame graph appears when both are given. */
  baseFlame?: FlameNode;
  candidateFlame?: FlameNode;
  /** Pruning of the differential flame graph (defaults: 0.01 % share, 25 000 nodes). */
  flamePrune?: FlamePruneOptions;
  title?: string;
  generatedAt?: Date;
}

const VERDICT_CLASS: Record<MetricComparison['verdict'], string> = { regressed: 'regressed', improved: 'improved', 'no change': 'nochange' };

/** One row's interval on a shared axis: noise band, zero line, interval bar and point estimate. */
function ciSvg(m: MetricComparison, range: number, noise: number): string {
  const w = 300;
  const hgt = 26;
  const x = (v: number): number => Math.max(2, Math.min(w - 2, w / 2 + (v / range) * (w / 2 - 6)));
  const color = m.verdict === 'regressed' ? '#dc2626' : m.verdict === 'improved' ? '#16a34a' : '#64748b';
  const parts = [
    `<rect x="${x(-noise).toFixed(1)}" y="3" width="${(x(noise) - x(-noise)).toFixed(1)}" height="${hgt - 6}" fill="#f1f5f9"/>`,
    `<line x1="${w / 2}" x2="${w / 2}" y1="1" y2="${hgt - 1}" stroke="#94a3b8" stroke-width="1"/>`,
  ];
  if (m.ci !== null) {
    parts.push(`<line x1="${x(m.ci.low).toFixed(1)}" x2="${x(m.ci.high).toFixed(1)}" y1="${hgt / 2}" y2="${hgt / 2}" stroke="${color}" stroke-width="4" stroke-linecap="round" opacity="0.55"/>`);
    if (m.ci.low < -range) parts.push(`<path d="M1 ${hgt / 2} l7 -5 v10 z" fill="${color}" opacity="0.7"/>`);
    if (m.ci.high > range) parts.push(`<path d="M${w - 1} ${hgt / 2} l-7 -5 v10 z" fill="${color}" opacity="0.7"/>`);
  }
  parts.push(`<circle cx="${x(m.change).toFixed(1)}" cy="${hgt / 2}" r="4.5" fill="${color}" stroke="#fff" stroke-width="1.5"/>`);
  return `<svg class="ci-svg" viewBox="0 0 ${w} ${hgt}" width="${w}" height="${hgt}" role="img" aria-label="${h(`${m.label}: change ${fmtChange(m.change)}`)}">${parts.join('')}</svg>`;
}

/** The adjusted p-value for people; at the bootstrap's resolution floor it reads as an upper bound. */
function pText(m: MetricComparison, iterations: number): string {
  const floor = 2 / iterations;
  if (m.pValue <= floor) return `≤ ${Math.min(1, m.pAdjusted).toPrecision(2)}`;
  return `= ${m.pAdjusted.toFixed(3)}`;
}

function runsTable(title: string, runs: CompareResult['base']): string {
  const rows = runs
    .map((r) => `<tr><td>${h(r.name)}</td><td>${h(r.startedAt.replace('T', ' ').slice(0, 19))}</td><td class="num">${h(fmtDuration(r.durationMs))}</td><td class="num">${h(fmtNum(r.requests))}</td><td>${h(r.scenarios.join(', '))}</td><td><code>${h(r.dir)}</code></td></tr>`)
    .join('');
  return `<div><h3>${h(title)}</h3><table class="data"><thead><tr><th>run</th><th>started</th><th class="num">duration</th><th class="num">requests</th><th>scenarios</th><th>directory</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

/**
 * Renders compare.html: verdict per metric with its confidence interval drawn against the noise band,
 * the two latency distributions overlaid, per-second curves of both sides, and — when both call trees
 * are given — a differential flame graph (red: the candidate spends more there, blue: less) with the
 * top moving functions. Self-contained like the run report.
 */
export function renderCompareHtml(cmp: CompareResult, extras: CompareHtmlExtras = {}): string {
  const regressed = cmp.metrics.filter((m) => m.verdict === 'regressed');
  const improved = cmp.metrics.filter((m) => m.verdict === 'improved');
  const badge =
    regressed.length > 0
      ? `<span class="badge bad">${regressed.length} REGRESSED</span>`
      : improved.length > 0
        ? `<span class="badge ok">${improved.length} IMPROVED</span>`
        : '<span class="badge ok">NO CHANGE</span>';
  // The axis fits the measured changes; an interval reaching past it (rare errors, short runs) is cut with an arrow.
  const changes = cmp.metrics.map((m) => Math.abs(m.change)).filter((v) => Number.isFinite(v));
  const range = Math.min(1, Math.max(cmp.noiseThreshold * 3, 0.05, ...changes) * 1.6);
  const rows = cmp.metrics
    .map((m) => {
      const worse = (m.change > 0) === (m.direction === 'lower-is-better');
      const cls = m.verdict === 'no change' ? '' : worse ? 'worse' : 'better';
      const ci = m.ci === null ? '–' : `[${fmtChange(m.ci.low)}, ${fmtChange(m.ci.high)}]`;
      const label = m.verdict === 'no change' && m.significant ? 'no change (within noise)' : m.verdict;
      return `<tr data-metric="${h(m.metric)}"><td>${h(m.label)}<div class="note">${m.direction === 'lower-is-better' ? 'lower is better' : 'higher is better'}</div></td><td class="num">${h(fmtMetricValue(m, m.base))}</td><td class="num">${h(fmtMetricValue(m, m.candidate))}</td><td class="num change ${cls}">${h(fmtChange(m.change))}</td><td class="num">${h(ci)}<div class="note">p ${h(pText(m, cmp.iterations))}, runs ${h(String(m.samples.baseRuns))}/${h(String(m.samples.candidateRuns))}, n = ${h(String(m.samples.base))}/${h(String(m.samples.candidate))}</div></td><td>${ciSvg(m, range, cmp.noiseThreshold)}</td><td><span class="pill ${VERDICT_CLASS[m.verdict]}">${h(label)}</span></td></tr>`;
    })
    .join('');
  let flame: EncodedFlame | null = null;
  if (extras.baseFlame && extras.candidateFlame && extras.baseFlame.totalSamples > 0 && extras.candidateFlame.totalSamples > 0) {
    flame = encodeDiffTree(diffFlameTrees(extras.baseFlame, extras.candidateFlame), extras.flamePrune);
  }
  const movers = cmp.profile?.movers ?? [];
  const moverRows = movers
    .map((m) => {
      const d = m.selfDelta;
      return `<tr><td><code>${h(m.name)}</code><div class="note">${h(m.file ? `${m.file}${m.line > 0 ? `:${String(m.line)}` : ''}` : 'native')}</div></td><td><span class="area"><span class="sw sw-${h(m.area)}"></span>${h(m.area)}</span></td><td class="num">${h(fmtPct(m.baseSelfShare, 2))}</td><td class="num">${h(fmtPct(m.candidateSelfShare, 2))}</td><td class="num change ${d > 0 ? 'worse' : 'better'}">${d > 0 ? '+' : ''}${(d * 100).toFixed(2)} pp</td><td class="num">${h(fmtPct(m.baseTotalShare, 1))} → ${h(fmtPct(m.candidateTotalShare, 1))}</td></tr>`;
    })
    .join('');
  const profileSection =
    cmp.profile === null && flame === null
      ? ''
      : `<section id="profile"><h2>CPU profile difference</h2>
<p class="hint">Shares of each side's own samples (${fmtNum(cmp.profile?.baseSamples ?? 0)} base, ${fmtNum(cmp.profile?.candidateSamples ?? 0)} candidate), so different run lengths compare fairly. Width is the average of both sides; <b style="color:#dc2626">red</b>: the candidate spends more of its time there, <b style="color:#2563eb">blue</b>: less. Click to zoom, search to highlight, hover for both shares.</p>
<div class="legend-row"><span class="area"><span class="sw sw-more"></span>candidate spends more</span><span class="area"><span class="sw sw-less"></span>candidate spends less</span></div>
${flame ? '<div data-flame tabindex="0"></div>' : '<p class="note">The call trees were not available to draw the differential flame graph.</p>'}
${flame && flame.pruned.nodes > 0 ? `<p class="note">${fmtNum(flame.pruned.nodes)} tiny call paths (under ${fmtPct(flame.pruned.minShare, 2)} on both sides) are not drawn.</p>` : ''}
${moverRows ? `<h3 style="margin-top:14px">Top movers by function (self time)</h3><table class="data"><thead><tr><th>function</th><th>area</th><th class="num">base self</th><th class="num">candidate self</th><th class="num">change</th><th class="num">total (base → candidate)</th></tr></thead><tbody>${moverRows}</tbody></table>` : ''}
</section>`;
  const warnings = cmp.warnings.map((w) => `<div class="alert warn">${h(w)}</div>`).join('');
  const generatedAt = (extras.generatedAt ?? new Date()).toISOString().replace('T', ' ').slice(0, 19);
  const body = `<header class="top">
<div class="brand">Redline comparison</div>
<h1>${h(cmp.base.length === 1 ? cmp.base[0]!.name : `${cmp.base.length} base runs`)} → ${h(cmp.candidate.length === 1 ? cmp.candidate[0]!.name : `${cmp.candidate.length} candidate runs`)} ${badge}</h1>
<div class="meta"><span>noise threshold ${h(fmtPct(cmp.noiseThreshold, 1))}</span><span>${Math.round(cmp.confidenceLevel * 100)} % bootstrap intervals (${cmp.iterations} resamples, seed ${h(String(cmp.seed))})</span>${cmp.forced ? '<span>forced</span>' : ''}</div>
</header>
<nav class="toc"><a href="#verdict">Verdict</a><a href="#distribution">Distributions</a><a href="#time">Over time</a>${profileSection ? '<a href="#profile">CPU profile</a>' : ''}<a href="#runs">Runs</a></nav>
<main>
<section id="verdict"><h2>Verdict by metric</h2>
<p class="hint">A metric counts as changed only when the change is statistically significant (hierarchical bootstrap: runs drawn with replacement, then blocks of seconds within each run; Holm-adjusted across metrics) <i>and</i> its whole 95 % interval lies outside the ±${h(fmtPct(cmp.noiseThreshold, 1))} noise band (grey), as criterion.rs decides. The dot is the measured change, the bar its interval.</p>
${warnings ? `<div class="alerts">${warnings}</div>` : ''}
<table class="data"><thead><tr><th>metric</th><th class="num">base</th><th class="num">candidate</th><th class="num">change</th><th class="num">95 % CI</th><th>interval vs noise band (±${h(fmtPct(range, 0))} axis)</th><th>verdict</th></tr></thead><tbody>${rows}</tbody></table>
</section>
<section id="distribution"><h2>Latency distributions</h2><p class="hint">Corrected latency by percentile, each side's runs merged; the x-axis stretches the tail.</p><div class="chart" data-chart="spectrum"></div></section>
<section id="time"><h2>Over time</h2><p class="hint">Per-second curves of the first run on each side, on seconds since each run's start. Drag to zoom, double-click to reset.</p>
<div class="chart" data-chart="p99"></div><div class="chart" data-chart="throughput"></div></section>
${profileSection}
<section id="runs"><h2>Runs</h2><div class="cols">${runsTable('Base', cmp.base)}${runsTable('Candidate', cmp.candidate)}</div></section>
</main>
<footer>Generated by Redline on ${h(generatedAt)} UTC · self-contained, works offline</footer>`;
  return pageHtml(extras.title ?? 'Redline · compare', body, { cmp: { distribution: cmp.distribution, series: cmp.series }, flame }, ['compare']);
}

/**
 * Writes compare.html for a comparison (atomically) and returns the path. Uses the call trees
 * compareRuns read in this process, or reads the runs' CPU profiles again.
 */
export async function writeCompareHtml(cmp: CompareResult, outPath: string, extras: CompareHtmlExtras = {}): Promise<string> {
  let flames = flamesOf(cmp);
  if (flames === undefined && cmp.profile !== null) {
    const side = async (runs: CompareResult['base']): Promise<FlameNode | null> => {
      const trees: FlameNode[] = [];
      for (const r of runs) {
        const f = await loadRunFlame(r.dir, await readRunResult(r.dir));
        if (f.flame) trees.push(f.flame);
      }
      return trees.length === runs.length ? mergeFlameTrees(trees) : null;
    };
    const b = await side(cmp.base);
    const c = await side(cmp.candidate);
    if (b !== null && c !== null) flames = { base: b, candidate: c };
  }
  const html = renderCompareHtml(cmp, { ...(flames ? { baseFlame: flames.base, candidateFlame: flames.candidate } : {}), ...extras });
  await writeFileAtomic(outPath, html);
  return outPath;
}

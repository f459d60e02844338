import { createHash } from 'node:crypto';
import { formatThresholdActual, type Finding, type RunResult, type TrafficSummary } from '@redline/core';
import { evidenceMet, type FlameNode } from '@redline/doctor';
import { loadAssets, scriptText } from './assets.js';
import { encodeFlameTree, type EncodedFlame, type FlamePruneOptions } from './flame-data.js';
import { escapeHtml as h, fmtBytes, fmtDuration, fmtMs, fmtNum, fmtPct, jsonForScript } from './format.js';
import { chartData, type ReportChartData } from './report-data.js';
import { cacheSectionHtml } from './cache-html.js';
import { tracesSectionHtml, type SlowestTrace } from './trace-html.js';
import type { TracesFile } from '@redline/trace';
import { settingsHtml } from './report-settings.js';
import { serverSettingsHtml } from './server-settings-html.js';

/** Optional parts of a run report that do not come from `result.json` itself. */
export interface ReportExtras {
  /** Call tree of the run's CPU profile (from `@redline/doctor`'s `ProfileModel.flameTree()`). */
  flame?: FlameNode;
  /** Mean time one profile sample stands for, in ms (turns sample counts into time in tooltips). */
  flameSampleMs?: number;
  /** How tiny flame nodes are pruned to keep the page small (defaults: 0.01 % share, 25 000 nodes). */
  flamePrune?: FlamePruneOptions;
  /** An inline SVG (trusted markup, e.g. from `@redline/capacity`) shown in a capacity section. */
  capacitySvg?: string;
  /** Page title; default `Redline · <run name>`. */
  title?: string;
  /** Extra notes shown under the verdict (e.g. "the CPU profile could not be read: ..."). */
  notes?: string[];
  /** Time stamp in the footer; default now. */
  generatedAt?: Date;
  /** The run's trace analysis (`traces.json`) and its slowest kept trace: the "Where the time goes" section. */
  traces?: { file: TracesFile; slowest?: SlowestTrace };
}

/** The JSON the report page reads. */
interface ReportPageData {
  charts: ReportChartData;
  flame: EncodedFlame | null;
  latencyLog: boolean;
}

const SEVERITY_ORDER = { high: 0, medium: 1, low: 2, info: 3 } as const;

function verdictOf(result: RunResult): { label: string; cls: 'ok' | 'bad' | 'warn' } {
  const failed = result.thresholds.some((t) => !t.ok);
  if (result.status === 'aborted') return { label: 'ABORTED', cls: 'bad' };
  if (failed) return { label: 'THRESHOLDS FAILED', cls: 'bad' };
  if (result.status === 'interrupted') return { label: 'INTERRUPTED', cls: 'warn' };
  if (result.generator.limited) return { label: 'GENERATOR-LIMITED', cls: 'warn' };
  return { label: result.thresholds.length > 0 ? 'PASSED' : 'COMPLETED', cls: 'ok' };
}

function errorRate(s: TrafficSummary): number {
  return s.requests > 0 ? s.errors / s.requests : 0;
}

function kpi(label: string, value: string, sub = '', bad = false): string {
  return `<div class="kpi${bad ? ' bad' : ''}"><div class="label">${h(label)}</div><div class="value">${h(value)}</div>${sub ? `<div class="sub">${h(sub)}</div>` : ''}</div>`;
}

function alertsHtml(result: RunResult, notes: readonly string[]): string {
  const out: string[] = [];
  if (result.status === 'interrupted') {
    out.push(`<div class="alert warn"><b>Interrupted.</b> The run was stopped before its planned end (${h(fmtDuration(result.summary.durationMs))} measured); numbers cover only that part.</div>`);
  } else if (result.status === 'aborted') {
    out.push(`<div class="alert bad"><b>Aborted.</b> A threshold with abortOnFail stopped the run after ${h(fmtDuration(result.summary.durationMs))}.</div>`);
  }
  if (result.generator.limited) {
    const reasons = result.generator.reasons.map((r) => `<li>${h(r)}</li>`).join('');
    out.push(`<div class="alert warn"><b>Generator-limited.</b> The load generator could not hold the intended load by itself, so these numbers describe the generator's limit as much as the target's.${reasons ? `<ul>${reasons}</ul>` : ''}</div>`);
  }
  const exit = result.target?.exit;
  if (exit) {
    out.push(`<div class="alert bad"><b>Target exited</b> at ${h(fmtNum(exit.t, 1))} s (code ${h(String(exit.code))}${exit.signal ? `, signal ${h(exit.signal)}` : ''}).</div>`);
  }
  if (result.summary.iterationsDropped > 0) {
    out.push(`<div class="alert warn"><b>${h(fmtNum(result.summary.iterationsDropped))} iterations dropped</b>: the open model had no free VU to start them on time (raise maxVUs, or the target is too slow for this rate).</div>`);
  }
  for (const n of notes) out.push(`<div class="alert info">${h(n)}</div>`);
  return out.length > 0 ? `<div class="alerts">${out.join('')}</div>` : '';
}

function thresholdsHtml(result: RunResult): string {
  if (result.thresholds.length === 0) return '<p class="note">No thresholds were set for this run.</p>';
  const rows = result.thresholds
    .map(
      (t) =>
        `<tr><td><code>${h(t.metric)}</code></td><td><code>${h(t.expression)}</code></td><td class="num">${t.actual === null ? '–' : h(formatThresholdActual(t.metric, t.expression, t.actual, t.unit))}</td><td class="${t.ok ? 'pass' : 'fail'}">${t.ok ? '✓ pass' : '✗ fail'}${t.abortOnFail ? ' <span class="note">(abortOnFail)</span>' : ''}</td></tr>`,
    )
    .join('');
  return `<table class="data"><thead><tr><th>metric</th><th>threshold</th><th class="num">actual</th><th>result</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function sortedFindings(result: RunResult): Finding[] {
  return [...result.findings].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.confidence - a.confidence);
}

function topFindingsHtml(findings: readonly Finding[]): string {
  if (findings.length === 0) return '<p class="note">The doctor has no findings for this run.</p>';
  const items = findings
    .slice(0, 3)
    .map((f, i) => `<li><span class="pill ${h(f.severity)}">${h(f.severity)}</span><a href="#finding-${i}">${h(f.title)}</a></li>`)
    .join('');
  return `<ul class="topfindings">${items}</ul>`;
}

function headerHtml(result: RunResult, notes: readonly string[], flame: EncodedFlame | null): string {
  const s = result.summary;
  const v = verdictOf(result);
  const env = result.environment;
  const started = new Date(result.startedAt);
  const startedText = Number.isFinite(started.getTime()) ? started.toISOString().replace('T', ' ').slice(0, 19) + ' UTC' : result.startedAt;
  const findings = sortedFindings(result);
  const er = errorRate(s);
  return `<header class="top">
<div class="brand">Redline run report</div>
<h1>${h(result.name)} <span class="badge ${v.cls}">${h(v.label)}</span></h1>
<div class="meta"><span>${h(startedText)}</span><span>${h(fmtDuration(s.durationMs))}</span><span>${h(result.config.scenarios.map((sc) => `${sc.name}: ${sc.executor}`).join(', ') || 'no scenarios')}</span><span>${h(`${env.workers} worker${env.workers === 1 ? '' : 's'} · node ${env.node} · ${env.cpuCount}× ${env.cpuModel}`)}</span><span class="mono">${h(result.id)}</span></div>
</header>
<nav class="toc"><a href="#settings">Settings</a><a href="#verdict">Verdict</a><a href="#load">Load over time</a><a href="#distribution">Latency distribution</a><a href="#requests">Requests</a>${result.target && result.target.samples.length > 0 ? '<a href="#target">Target process</a>' : ''}<a href="#findings">Findings</a>${flame ? '<a href="#profile">CPU profile</a>' : ''}</nav>
<main>
${settingsHtml(result)}
<section id="verdict">
<h2>Verdict</h2>
${alertsHtml(result, notes)}
<div class="kpis">
${kpi('requests', fmtNum(s.requests), `${fmtNum(s.iterations)} iterations`)}
${kpi('throughput', `${fmtNum(s.throughput, 1)}/s`, `max ${fmtNum(s.vusMax)} VUs`)}
${kpi('p50', fmtMs(s.latency?.p50), `service ${fmtMs(s.serviceTime?.p50)}`)}
${kpi('p99', fmtMs(s.latency?.p99), `service ${fmtMs(s.serviceTime?.p99)}`)}
${kpi('p99.9', fmtMs(s.latency?.p999), `max ${fmtMs(s.latency?.max)}`)}
${kpi('errors', fmtPct(er, 2), `${fmtNum(s.errors)} failed`, er > 0.01)}
${kpi('checks', s.checks.passes + s.checks.fails > 0 ? fmtPct(s.checks.passes / (s.checks.passes + s.checks.fails), 1) : '–', s.checks.passes + s.checks.fails === 0 ? 'none defined' : s.checks.fails > 0 ? `${fmtNum(s.checks.fails)} failed` : 'all passed', s.checks.fails > 0)}
</div>
<div class="cols">
<div><h3>Thresholds</h3>${thresholdsHtml(result)}</div>
<div><h3>Top findings</h3>${topFindingsHtml(findings)}</div>
</div>
</section>`;
}

function loadSectionHtml(charts: ReportChartData): string {
  const stages = charts.stages.length > 0 ? ' Shaded bands are the load stages.' : '';
  const pw = charts.profileWindow ? ' The dashed orange box is the window the CPU profile covers.' : '';
  return `<section id="load">
<h2>Load over time</h2>
<p class="hint">Drag across a chart to zoom (all charts follow), double-click to zoom out; hover for values.${stages}${pw}</p>
<div class="chart" data-chart="throughput"></div>
<div class="chart" data-chart="latency"></div>
<div class="cols"><div class="chart" data-chart="errors"></div><div class="chart" data-chart="vus"></div></div>
<div class="chart" data-chart="lag"></div>
</section>`;
}

function distributionHtml(result: RunResult): string {
  const l = result.summary.latency;
  const st = result.summary.serviceTime;
  if (!l || !st) {
    return `<section id="distribution">
<h2>Latency distribution</h2>
<p class="hint">No request got a response, so there is no latency to show (percentiles are absent, not zero).</p>
</section>`;
  }
  const row = (label: string, a: number, b: number): string => `<tr><td>${label}</td><td class="num">${h(fmtMs(a))}</td><td class="num">${h(fmtMs(b))}</td></tr>`;
  return `<section id="distribution">
<h2>Latency distribution</h2>
<p class="hint">HDR percentile spectrum: the x-axis stretches the tail (each step is one more nine). <b>Corrected latency</b> counts from when a request was meant to be sent, so it includes queueing the generator saw; <b>service time</b> counts from when it was actually sent. A gap between the two lines is coordinated omission the correction caught.</p>
<div class="cols" style="grid-template-columns: 2fr 1fr">
<div class="chart" data-chart="spectrum"></div>
<div><table class="data"><thead><tr><th>percentile</th><th class="num">corrected</th><th class="num">service</th></tr></thead><tbody>
${row('p50', l.p50, st.p50)}${row('p75', l.p75, st.p75)}${row('p90', l.p90, st.p90)}${row('p95', l.p95, st.p95)}${row('p99', l.p99, st.p99)}${row('p99.9', l.p999, st.p999)}${row('max', l.max, st.max)}${row('mean', l.mean, st.mean)}
</tbody></table></div>
</div>
${timingsHtml(result)}
</section>`;
}

/** The k6-style phase split of the service time (DNS, connect, TLS, waiting, receiving), when the run has it. */
function timingsHtml(result: RunResult): string {
  const t = result.summary.timings;
  if (!t || Object.keys(t).length === 0) return '';
  const label: Record<string, string> = { dns: 'DNS', connect: 'TCP connect', tls: 'TLS handshake', waiting: 'waiting (TTFB)', receiving: 'receiving' };
  const rows = ['dns', 'connect', 'tls', 'waiting', 'receiving']
    .filter((p) => t[p])
    .map((p) => {
      const x = t[p]!;
      return `<tr><td>${h(label[p] ?? p)}</td><td class="num">${h(fmtMs(x.p50))}</td><td class="num">${h(fmtMs(x.p90))}</td><td class="num">${h(fmtMs(x.p99))}</td><td class="num">${h(fmtMs(x.max))}</td><td class="num">${h(fmtMs(x.mean))}</td></tr>`;
    })
    .join('');
  const h2 = result.summary.http2;
  const h2Line = h2 ? `<p class="hint">HTTP/2: ${h(fmtNum(h2.connections))} connections, ${h(fmtNum(h2.goaways))} GOAWAY, ${h(fmtNum(h2.streamLimitWaits))} requests waited for a free stream, ${h(fmtNum(h2.refusedStreams))} refused streams retried.</p>` : '';
  return `<h3 id="timings">Where the time went</h3>
<p class="hint">Request phases as k6 names them (http.timing.* in thresholds). DNS, connect and TLS are 0 for requests on a reused connection, so their percentiles show how many requests paid for a new connection.</p>
<table class="data"><thead><tr><th>phase</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">max</th><th class="num">mean</th></tr></thead><tbody>${rows}</tbody></table>${h2Line}`;
}

function requestsHtml(result: RunResult): string {
  const names = Object.entries(result.summary.byName).sort((a, b) => b[1].requests - a[1].requests);
  const seconds = result.summary.durationMs / 1000;
  const row = (name: string, s: TrafficSummary, strong = false): string => {
    const er = errorRate(s);
    const kinds = Object.entries(s.errorsByKind)
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${fmtNum(n)}`)
      .join(', ');
    const rate = s.throughput > 0 ? s.throughput : seconds > 0 ? s.requests / seconds : 0;
    return `<tr${strong ? ' style="font-weight:600"' : ''}><td>${h(name)}</td><td class="num">${h(fmtNum(s.requests))}</td><td class="num">${h(fmtNum(rate, 1))}/s</td><td class="num">${h(fmtMs(s.latency?.p50))}</td><td class="num">${h(fmtMs(s.latency?.p90))}</td><td class="num">${h(fmtMs(s.latency?.p99))}</td><td class="num">${h(fmtMs(s.latency?.p999))}</td><td class="num">${h(fmtMs(s.latency?.max))}</td><td class="num ${er > 0 ? 'fail' : ''}">${h(fmtNum(s.errors))} <span class="note">(${h(fmtPct(er, 2))})</span></td><td>${h(kinds)}</td></tr>`;
  };
  const rows = names.map(([n, s]) => row(n, s)).join('') + (names.length !== 1 ? row('all requests', result.summary, true) : '');
  const statusRows = Object.entries(result.summary.byStatusClass)
    .sort()
    .map(([k, s]) => `<tr><td>${h(k)}</td><td class="num">${h(fmtNum(s.requests))}</td><td class="num">${h(fmtMs(s.latency?.p50))}</td><td class="num">${h(fmtMs(s.latency?.p99))}</td></tr>`)
    .join('');
  const s = result.summary;
  return `<section id="requests">
<h2>Requests by name</h2>
<p class="hint">Latencies are corrected for coordinated omission; rates are per second of the measured duration.</p>
<table class="data"><thead><tr><th>name</th><th class="num">count</th><th class="num">rate</th><th class="num">p50</th><th class="num">p90</th><th class="num">p99</th><th class="num">p99.9</th><th class="num">max</th><th class="num">errors</th><th>by kind</th></tr></thead><tbody>${rows}</tbody></table>
<div class="cols" style="margin-top:14px">
<div>${statusRows ? `<h3>By status class</h3><table class="data"><thead><tr><th>status</th><th class="num">count</th><th class="num">p50</th><th class="num">p99</th></tr></thead><tbody>${statusRows}</tbody></table>` : ''}</div>
<div><h3>Traffic</h3><table class="data"><tbody>
<tr><td>data sent</td><td class="num">${h(fmtBytes(s.dataSentBytes))}</td></tr>
<tr><td>data received</td><td class="num">${h(fmtBytes(s.dataReceivedBytes))}</td></tr>
<tr><td>iterations (dropped / script errors)</td><td class="num">${h(fmtNum(s.iterations))} (${h(fmtNum(s.iterationsDropped))} / ${h(fmtNum(s.iterationErrors))})</td></tr>
<tr><td>generator schedule lag p99 / max</td><td class="num">${h(fmtMs(result.generator.scheduleLagMs.p99))} / ${h(fmtMs(result.generator.scheduleLagMs.max))}</td></tr>
<tr><td>generator ELU max / CPU mean</td><td class="num">${h(fmtPct(result.generator.eluMax, 0))} / ${h(fmtNum(result.generator.cpuCoresMean, 2))} cores</td></tr>
</tbody></table></div>
</div>
</section>`;
}

function targetHtml(result: RunResult): string {
  const t = result.target;
  if (t === null || t.samples.length === 0) return '';
  return `<section id="target">
<h2>Target process</h2>
<p class="hint">Sampled inside the target${t.pid !== null ? ` (pid ${h(String(t.pid))})` : ''} every second on the same clock as the load above; zooming any chart zooms all of them.</p>
<div class="cols"><div class="chart" data-chart="elu"></div><div class="chart" data-chart="loop-delay"></div></div>
<div class="cols"><div class="chart" data-chart="cpu"></div><div class="chart" data-chart="gc"></div></div>
<div class="chart" data-chart="heap"></div>
${t.samples.some((x) => x.io !== undefined) ? '<div class="chart" data-chart="io"></div>' : ''}
${serverSettingsHtml(t.servers)}
</section>`;
}

const COMPARISON_TEXT: Record<string, string> = { '>': '>', '<': '<', '>=': '≥', '<=': '≤' };

/** An evidence value for the page: ratios as percentages (never "1 ratio"), counts bare, others with their unit. */
function evidenceText(value: number, unit: string): string {
  if (unit === 'ratio') return fmtPct(value, 1);
  if (unit === 'count') return fmtNum(value, 3);
  return `${fmtNum(value, 3)} ${unit}`;
}

/** The objects a memory-leak finding names from heap snapshots: holder, what it gained, retainer path. */
function leaksHtml(f: RunResult['findings'][number]): string {
  if (!f.leaks?.length) return '';
  const mb = (b: number): string => `${fmtNum(b / (1024 * 1024), 3)} MB`;
  const rows = f.leaks
    .map((l) => {
      const gained = l.classes.slice(0, 3).map((c) => `+${fmtNum(c.added)} ${c.name}`).join(', ');
      return `<tr><td><code>${h(l.holder)}</code> <span class="note">@${h(String(l.holderId))}</span></td><td>${h(gained)}</td><td class="num">${h(l.retainedSeries.map(mb).join(' → '))}</td><td>${h(l.pathText)}</td></tr>`;
    })
    .join('');
  return `<table class="data" style="margin-top:8px"><thead><tr><th>growing holder (heap snapshots)</th><th>new objects it keeps</th><th class="num">retained</th><th>retainer path to a GC root</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function findingsHtml(result: RunResult, hasFlame: boolean): string {
  const findings = sortedFindings(result);
  if (findings.length === 0) {
    return `<section id="findings"><h2>Findings</h2><p class="note">No findings: either the doctor saw no bottleneck, or the run was not diagnosed.</p></section>`;
  }
  const cards = findings
    .map((f, i) => {
      const evidence = f.evidence
        .map((e) => `<tr><td><code>${h(e.metric)}</code></td><td class="num">${h(evidenceText(e.value, e.unit))}</td><td class="num">${h(COMPARISON_TEXT[e.comparison] ?? e.comparison)} ${h(evidenceText(e.threshold, e.unit))}</td><td class="${evidenceMet(e) ? 'pass' : 'fail'}">${evidenceMet(e) ? '✓ met' : '✗ not met'}</td></tr>`)
        .join('');
      const frames = f.frames
        .map((fr) => {
          const loc = fr.file === '' ? '<span class="note">native</span>' : `<code>${h(fr.file)}:${h(String(fr.line))}</code>`;
          const btn = hasFlame ? ` <button type="button" class="linkish" data-flame-search="${h(fr.functionName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))}">show in flame graph</button>` : '';
          return `<tr><td><code>${h(fr.functionName)}</code>${btn}</td><td>${loc}</td><td><span class="area"><span class="sw sw-${h(fr.area)}"></span>${h(fr.area)}</span></td><td class="num">${h(fmtPct(fr.selfShare))}</td><td class="num">${h(fmtPct(fr.totalShare))}</td></tr>`;
        })
        .join('');
      return `<div class="finding ${h(f.severity)}" id="finding-${i}">
<h3><span class="pill ${h(f.severity)}">${h(f.severity)}</span>${h(f.title)}</h3>
<div class="fmeta">${h(f.category)} · confidence ${h(fmtPct(f.confidence, 0))} · seconds ${h(fmtNum(f.window.startS, 1))}–${h(fmtNum(f.window.endS, 1))}</div>
${evidence ? `<table class="data"><thead><tr><th>evidence</th><th class="num">observed</th><th class="num">threshold</th><th>met</th></tr></thead><tbody>${evidence}</tbody></table>` : ''}
${frames ? `<table class="data" style="margin-top:8px"><thead><tr><th>code</th><th>where</th><th>area</th><th class="num">self</th><th class="num">total</th></tr></thead><tbody>${frames}</tbody></table>` : ''}
${leaksHtml(f)}
<div class="rec"><b>What to do:</b> ${h(f.recommendation)}</div>
</div>`;
    })
    .join('');
  return `<section id="findings"><h2>Findings</h2><p class="hint">What the doctor concluded, with the numbers and the code behind each conclusion.</p>${cards}</section>`;
}

function flameHtml(flame: EncodedFlame | null, result: RunResult): string {
  if (flame === null) return '';
  const pw = result.target?.profileWindow;
  const pruned =
    flame.pruned.nodes > 0
      ? `<p class="note">To keep this page small, ${fmtNum(flame.pruned.nodes)} tiny frames (each under ${fmtPct(flame.pruned.minShare, 2)} of samples; ${fmtPct(flame.pruned.samples / Math.max(1, flame.totalSamples), 2)} of samples together) are not drawn; their time still counts in their callers' totals.</p>`
      : '';
  return `<section id="profile">
<h2>CPU profile</h2>
<p class="hint">${fmtNum(flame.totalSamples)} samples${flame.sampleMs ? ` (~${fmtNum(flame.sampleMs, 2)} ms each)` : ''}${pw ? ` taken in seconds ${fmtNum(pw.startS, 0)}–${fmtNum(pw.endS, 0)} of the run` : ''}. Callers on top, callees below; width is time. Click a frame to zoom in, search to highlight functions and see their share, hover for self and total time. Paths are source-mapped.</p>
<div class="legend-row"><span class="area"><span class="sw sw-app"></span>application</span><span class="area"><span class="sw sw-dependency"></span>dependencies</span><span class="area"><span class="sw sw-node"></span>Node internals</span><span class="area"><span class="sw sw-v8"></span>V8 / native</span><span class="area"><span class="sw sw-gc"></span>garbage collector</span></div>
<div data-flame tabindex="0"></div>
${pruned}
</section>`;
}

/** Shared page shell: inline styles, uPlot and the page scripts, so the file opens offline. */
export function pageHtml(title: string, body: string, data: unknown, scripts: ('report' | 'compare')[]): string {
  const a = loadAssets();
  const js = [a.uplotJs, a.chartsJs, a.flameJs, ...scripts.map((s) => (s === 'report' ? a.reportJs : a.compareJs))].map(scriptText);
  // Only these exact scripts may run: an attribute handler (onerror=...), a javascript: URL or a
  // <script> smuggled in through a run directory's strings is refused by the browser.
  const hashes = js.map((s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`).join(' ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src ${hashes}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<title>${h(title)}</title>
<style>${a.uplotCss}</style>
<style>${a.reportCss}</style>
</head>
<body>
${body}
<script type="application/json" id="redline-data">${jsonForScript(data)}</script>
${js.map((s) => `<script>${s}</script>`).join('\n')}
</body>
</html>
`;
}

/**
 * Renders the self-contained HTML report of one run: verdict, load and latency over time, the HDR
 * spectrum, per-request-name table, target metrics, findings and an interactive flame graph.
 * All scripts and styles are inline (no network); tiny flame nodes are pruned to keep the size down.
 */
export function renderReportHtml(result: RunResult, extras: ReportExtras = {}): string {
  const charts = chartData(result);
  const flame = extras.flame && extras.flame.totalSamples > 0 ? encodeFlameTree(extras.flame, extras.flameSampleMs ?? null, extras.flamePrune) : null;
  const maxP99 = Math.max(0, ...charts.latency.p99.filter((v) => v !== null));
  const minP50 = Math.min(...charts.latency.p50.filter((v): v is number => v !== null && v > 0));
  const data: ReportPageData = {
    charts,
    flame,
    // A log axis when the max line would flatten everything else.
    latencyLog: Number.isFinite(minP50) && maxP99 / minP50 > 50,
  };
  const capacity = extras.capacitySvg
    ? `<section id="capacity"><h2>Capacity</h2><div class="capacity">${extras.capacitySvg}</div></section>`
    : '';
  const generatedAt = (extras.generatedAt ?? new Date()).toISOString().replace('T', ' ').slice(0, 19);
  const body = `${headerHtml(result, extras.notes ?? [], flame)}
${loadSectionHtml(charts)}
${distributionHtml(result)}
${requestsHtml(result)}
${cacheSectionHtml(result)}
${targetHtml(result)}
${findingsHtml(result, flame !== null)}
${tracesSectionHtml(extras.traces?.file, extras.traces?.slowest)}
${flameHtml(flame, result)}
${capacity}
</main>
<footer>Generated by Redline ${h(result.environment.redlineVersion)} on ${h(generatedAt)} UTC · run ${h(result.id)} · self-contained, works offline</footer>`;
  return pageHtml(extras.title ?? `Redline · ${result.name}`, body, data, ['report']);
}

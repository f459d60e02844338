/**
 * The report's "Where the time goes" section: per request name, the median's and the tail's
 * critical paths as stacked bars by operation, and the slowest kept trace as a waterfall with its
 * critical path highlighted (plain inline SVG), and the trace exemplars behind the latency chart's
 * marks (trace-exemplars.ts).
 */
import type { NameAnalysis, OpShare, Span, TracesFile } from '@redline/trace';
import { escapeHtml as h, fmtMs } from './format.js';
import { exemplarsHtml } from './trace-exemplars.js';
import { waterfallHtml, type SlowestTrace } from './trace-waterfall.js';

export { waterfallHtml, type SlowestTrace } from './trace-waterfall.js';

/** What the report knows of a traced run: `traces.json`, its slowest trace, and the kept spans by trace id (for the exemplars). */
export interface ReportTraces {
  file: TracesFile;
  slowest?: SlowestTrace;
  spansByTrace?: ReadonlyMap<string, Span[]>;
}

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const KIND_COLOR: Record<string, string> = { 'before-handler': '#8c8c8c', 'after-handler': '#c7c7c7', 'send-delay': '#5f5f5f', untraced: '#e0e0e0', handler: '#6b8fb5' };

function colorFor(keys: Map<string, string>, op: { key: string; kind: string }): string {
  const fixed = KIND_COLOR[op.kind];
  if (fixed !== undefined) return fixed;
  let c = keys.get(op.key);
  if (c === undefined) {
    c = PALETTE[keys.size % PALETTE.length]!;
    keys.set(op.key, c);
  }
  return c;
}

function bar(label: string, ops: readonly OpShare[], totalMs: number, scaleMs: number, colors: Map<string, string>, width: number): string {
  const x0 = 110;
  const w = width - x0 - 70;
  let x = x0;
  const rects = ops
    .filter((o) => o.meanMs > 0)
    .map((o) => {
      const rw = (o.meanMs / scaleMs) * w;
      const r = `<rect x="${x.toFixed(2)}" y="4" width="${Math.max(0.5, rw).toFixed(2)}" height="22" fill="${colorFor(colors, o)}"><title>${h(o.key)}: ${h(fmtMs(o.meanMs))} (${(o.share * 100).toFixed(0)}%)</title></rect>`;
      x += rw;
      return r;
    })
    .join('');
  return `<svg class="tbar" width="${width}" height="30" role="img" aria-label="${h(label)}"><text x="0" y="20">${h(label)}</text>${rects}<text x="${(x + 6).toFixed(1)}" y="20">${h(fmtMs(totalMs))}</text></svg>`;
}

function legend(colors: Map<string, string>, ops: readonly OpShare[]): string {
  const seen = new Set<string>();
  const items: string[] = [];
  for (const o of ops) {
    if (seen.has(o.key) || o.meanMs <= 0) continue;
    seen.add(o.key);
    items.push(`<span class="lg"><i style="background:${colorFor(colors, o)}"></i>${h(o.key)}</span>`);
  }
  return `<div class="legend">${items.join('')}</div>`;
}

function nameHtml(n: NameAnalysis): string {
  const colors = new Map<string, string>();
  // Tail first, so its big contributors get the first colours.
  const all = [...n.tail.ops, ...n.baseline.ops];
  for (const o of all) colorFor(colors, o);
  const scale = Math.max(n.tail.meanLatencyMs, n.baseline.meanLatencyMs, 0.001);
  const width = 900;
  const counts = n.statements
    .filter((s) => s.countMedian > 1)
    .slice(0, 5)
    .map((s) => `<li>${s.countMedian}× <code>${h(s.key)}</code> per request (${h(fmtMs(s.meanMsPerRequest))})</li>`)
    .join('');
  return `<div class="tname"><h3>${h(n.name)}</h3>
<p class="headline">${h(n.headline)}</p>
${bar(`median (${n.baseline.count})`, n.baseline.ops, n.baseline.meanLatencyMs, scale, colors, width)}
${bar(`tail ≥ p99 (${n.tail.count})`, n.tail.ops, n.tail.meanLatencyMs, scale, colors, width)}
${legend(colors, all)}
${counts ? `<ul class="counts">${counts}</ul>` : ''}
<p class="hint">${n.traced} traced request(s) kept${n.untraced ? `, ${n.untraced} without spans` : ''}; client p50 ${h(fmtMs(n.p50Ms))}, p99 ${h(fmtMs(n.p99Ms))}.</p></div>`;
}

/** How requests were sampled, for the section's hint. */
function samplingText(file: TracesFile): string {
  const share = `${(file.sampleRatio * 100).toFixed(file.sampleRatio < 0.1 ? 1 : 0)}% of requests traced`;
  return file.samplePerSecond !== undefined ? `a budget of ${file.samplePerSecond} sampled requests per second, ${share}` : share;
}

/**
 * The whole section, or '' for an untraced run. `runStartMs` is second 0 of the charts (used when
 * `traces.json` does not carry it) for the exemplars on the latency chart.
 */
export function tracesSectionHtml(traces: ReportTraces | undefined, runStartMs: number): string {
  if (traces === undefined) return '';
  const { file, slowest } = traces;
  const names = Object.values(file.analysis.byName).filter((n) => n.traced > 0);
  const notes = file.notes.map((n) => `<li>${h(n)}</li>`).join('');
  const body = names.length === 0 ? '<p class="note">No traced request: no spans arrived for the kept requests.</p>' : names.map(nameHtml).join('\n');
  return `<section id="traces">
<h2>Where the time goes</h2>
<p class="hint">Critical paths of the kept traces (every request at or above the client's p99, and a sample around the median; ${h(samplingText(file))}), aggregated per operation. Traces: <code>traces.otlp.json</code> (OTLP/JSON, opens in Jaeger).</p>
${notes ? `<ul class="notes">${notes}</ul>` : ''}
${body}
${slowest ? waterfallHtml(slowest) : ''}
${traces.spansByTrace ? exemplarsHtml(file, traces.spansByTrace, file.runStartMs ?? runStartMs) : ''}
</section>`;
}

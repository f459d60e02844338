/**
 * The report's "Where the time goes" section: per request name, the median's and the tail's
 * critical paths as stacked bars by operation, and the slowest kept trace as a waterfall with its
 * critical path highlighted. Plain inline SVG, no script.
 */
import { buildTree, criticalPath, operationOf, type KeptRecord, type NameAnalysis, type OpShare, type Span, type TracesFile } from '@redline/trace';
import { escapeHtml as h, fmtMs } from './format.js';

/** The slowest kept request with its spans, for the waterfall. */
export interface SlowestTrace {
  record: KeptRecord;
  spans: Span[];
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

/** Spans in tree order (parents before children, siblings by start), with their depth. */
function ordered(spans: readonly Span[]): Array<{ span: Span; depth: number }> {
  const tree = buildTree(spans);
  if (tree === null) return [];
  const out: Array<{ span: Span; depth: number }> = [];
  const stack: Array<{ span: Span; depth: number }> = [{ span: tree.root, depth: 0 }];
  while (stack.length > 0 && out.length < 400) {
    const e = stack.pop()!;
    out.push(e);
    const kids = tree.children.get(e.span.spanId) ?? [];
    for (let i = kids.length - 1; i >= 0; i--) stack.push({ span: kids[i]!, depth: e.depth + 1 });
  }
  return out;
}

/** The waterfall of one trace: the client's window on top, then every span; critical-path stretches in red. */
export function waterfallHtml(t: SlowestTrace): string {
  const rows = ordered(t.spans);
  if (rows.length === 0) return '';
  const tree = buildTree(t.spans)!;
  const path = criticalPath(tree);
  const start = Math.min(t.record.sentAtMs - t.record.delayMs, tree.root.startMs);
  const end = Math.max(t.record.endAtMs, tree.root.endMs);
  const span = Math.max(0.001, end - start);
  const width = 900;
  const x0 = 300;
  const w = width - x0 - 10;
  const X = (ms: number): number => x0 + ((ms - start) / span) * w;
  const rowH = 18;
  const parts: string[] = [];
  const y0 = 4;
  // Row 0: what the generator saw.
  parts.push(`<text x="0" y="${y0 + 13}">client (generator)</text>`);
  if (t.record.delayMs > 0) parts.push(`<rect x="${X(t.record.sentAtMs - t.record.delayMs).toFixed(2)}" y="${y0 + 2}" width="${Math.max(0.5, X(t.record.sentAtMs) - X(t.record.sentAtMs - t.record.delayMs)).toFixed(2)}" height="${rowH - 4}" fill="#5f5f5f"><title>waited to be sent ${h(fmtMs(t.record.delayMs))}</title></rect>`);
  parts.push(`<rect x="${X(t.record.sentAtMs).toFixed(2)}" y="${y0 + 2}" width="${Math.max(0.5, X(t.record.endAtMs) - X(t.record.sentAtMs)).toFixed(2)}" height="${rowH - 4}" fill="#bbb"><title>sent → response end ${h(fmtMs(t.record.endAtMs - t.record.sentAtMs))}</title></rect>`);
  // The generator's wait for the handler and for the response are on the critical path too.
  const crit = (a: number, b: number, what: string): void => {
    if (b - a <= 0) return;
    parts.push(`<rect class="crit" x="${X(a).toFixed(2)}" y="${y0 + 2}" width="${Math.max(0.5, X(b) - X(a)).toFixed(2)}" height="${rowH - 4}" fill="#d62728"><title>critical path: ${h(what)} ${h(fmtMs(b - a))}</title></rect>`);
  };
  crit(t.record.sentAtMs, Math.min(t.record.endAtMs, tree.root.startMs), 'before the handler');
  crit(Math.max(t.record.sentAtMs, tree.root.endMs), t.record.endAtMs, 'after the handler');
  const rowOf = new Map<string, number>();
  rows.forEach((r, i) => {
    rowOf.set(r.span.spanId, i + 1);
    const y = y0 + (i + 1) * rowH;
    const label = `${'  '.repeat(Math.min(r.depth, 8))}${operationOf(r.span).key}`;
    const short = label.length > 46 ? `${label.slice(0, 45)}…` : label;
    parts.push(`<text x="0" y="${y + 13}" xml:space="preserve">${h(short)}</text>`);
    parts.push(`<rect x="${X(r.span.startMs).toFixed(2)}" y="${y + 2}" width="${Math.max(0.5, X(r.span.endMs) - X(r.span.startMs)).toFixed(2)}" height="${rowH - 4}" fill="#9db7d5"><title>${h(r.span.name)} ${h(fmtMs(r.span.endMs - r.span.startMs))}</title></rect>`);
  });
  for (const seg of path) {
    const row = rowOf.get(seg.span.spanId);
    if (row === undefined) continue;
    const y = y0 + row * rowH;
    parts.push(`<rect class="crit" x="${X(seg.startMs).toFixed(2)}" y="${y + 2}" width="${Math.max(0.5, X(seg.endMs) - X(seg.startMs)).toFixed(2)}" height="${rowH - 4}" fill="#d62728"><title>critical path: ${h(operationOf(seg.span).key)} ${h(fmtMs(seg.endMs - seg.startMs))}</title></rect>`);
  }
  const height = y0 + (rows.length + 1) * rowH + 20;
  parts.push(`<text x="${x0}" y="${height - 4}">0</text><text x="${width - 70}" y="${height - 4}">${h(fmtMs(span))}</text>`);
  return `<div class="waterfall"><h3>Slowest trace: ${h(t.record.name)}, ${h(fmtMs(t.record.latencyMs))} <code>${h(t.record.traceId)}</code></h3>
<p class="hint">Grey: the generator's view (backlog, then send to response end). Blue: spans. Red: the critical path, the chain that decided when the response ended.</p>
<svg width="${width}" height="${height}" role="img" aria-label="trace waterfall">${parts.join('')}</svg></div>`;
}

/** The whole section, or '' for an untraced run. */
export function tracesSectionHtml(file: TracesFile | undefined, slowest: SlowestTrace | undefined): string {
  if (file === undefined) return '';
  const names = Object.values(file.analysis.byName).filter((n) => n.traced > 0);
  const notes = file.notes.map((n) => `<li>${h(n)}</li>`).join('');
  const body = names.length === 0 ? '<p class="note">No traced request: no spans arrived for the kept requests.</p>' : names.map(nameHtml).join('\n');
  return `<section id="traces">
<h2>Where the time goes</h2>
<p class="hint">Critical paths of the kept traces (every request at or above the client's p99, and a sample around the median; ${(file.sampleRatio * 100).toFixed(0)}% of requests traced), aggregated per operation. Traces: <code>traces.otlp.json</code> (OTLP/JSON, opens in Jaeger).</p>
${notes ? `<ul class="notes">${notes}</ul>` : ''}
${body}
${slowest ? waterfallHtml(slowest) : ''}
</section>`;
}

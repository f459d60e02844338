/**
 * The waterfall of one kept trace: the generator's view on top, then every span in tree order, the
 * critical path in red. Used for the slowest trace and for each trace exemplar.
 */
import { buildTree, criticalPath, operationOf, type KeptRecord, type Span } from '@redline/trace';
import { escapeHtml as h, fmtMs } from './format.js';

/** A kept request with its spans, for a waterfall. */
export interface SlowestTrace {
  record: KeptRecord;
  spans: Span[];
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
export function waterfallHtml(t: SlowestTrace, title = 'Slowest trace'): string {
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
  return `<div class="waterfall"><h3>${h(title)}: ${h(t.record.name)}, ${h(fmtMs(t.record.latencyMs))} <code>${h(t.record.traceId)}</code></h3>
<p class="hint">Grey: the generator's view (backlog, then send to response end). Blue: spans. Red: the critical path, the chain that decided when the response ended.</p>
<svg width="${width}" height="${height}" role="img" aria-label="trace waterfall">${parts.join('')}</svg></div>`;
}

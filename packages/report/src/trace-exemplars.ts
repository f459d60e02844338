/**
 * Trace exemplars on the report's latency chart: each kept request (tail and baseline) is a point at
 * the second it completed and its client latency; clicking one opens its waterfall in "Where the
 * time goes". The waterfalls are rendered here, once per kept trace that has spans, as inert
 * `<template>`s the page script (`assets/traces.js`) copies into view, so the page needs no span
 * data or layout code of its own. Both lists are bounded: the page stays a few MB however long the run.
 */
import type { KeptRecord, Span, TracesFile } from '@redline/trace';
import { escapeHtml as h, jsonForScript } from './format.js';
import { waterfallHtml } from './trace-waterfall.js';

/** One point on the latency chart. */
export interface Exemplar {
  /** Seconds since the load started (completion time), the charts' x. */
  t: number;
  /** Client latency, ms (coordinated-omission corrected). */
  ms: number;
  traceId: string;
  name: string;
  reason: KeptRecord['reason'];
  /** Whether a waterfall exists for it (spans arrived and the page budget allowed). */
  w: boolean;
}

/** Most points drawn on the chart (tail first, slowest first). */
export const MAX_EXEMPLARS = 600;
/** Most bytes of waterfall markup on the page (the report stays well under its 3 MB size limit). */
export const MAX_WATERFALL_BYTES = 1.5 * 2 ** 20;

/** The kept requests to show, tail before baseline and slowest first, at most {@link MAX_EXEMPLARS}. */
function chosen(all: readonly KeptRecord[]): KeptRecord[] {
  // traces.json is untrusted input: a record without finite times or latency is not drawn.
  const records = all.filter((r) => Number.isFinite(r.latencyMs) && Number.isFinite(r.endAtMs) && typeof r.traceId === 'string' && typeof r.name === 'string');
  const tail = records.filter((r) => r.reason === 'tail').sort((a, b) => b.latencyMs - a.latencyMs);
  const base = records.filter((r) => r.reason !== 'tail').sort((a, b) => b.latencyMs - a.latencyMs);
  return [...tail, ...base].slice(0, MAX_EXEMPLARS);
}

/**
 * The exemplars of a traced run and the waterfall templates behind them. `runStartMs` is second 0
 * of the charts (the file's `runStartMs`, else the result's `startedAt`); `spansByTrace` holds the
 * kept spans (from `traces.otlp.json`).
 */
export function exemplarsHtml(file: TracesFile, spansByTrace: ReadonlyMap<string, Span[]>, runStartMs: number): string {
  const points: Exemplar[] = [];
  const templates: string[] = [];
  let bytes = 0;
  for (const r of chosen(file.records)) {
    const spans = spansByTrace.get(r.traceId);
    let w = false;
    if (spans !== undefined && spans.length > 0 && bytes < MAX_WATERFALL_BYTES) {
      const html = waterfallHtml({ record: r, spans }, `${r.reason === 'tail' ? 'Tail' : 'Baseline'} trace`);
      if (html !== '') {
        templates.push(`<template data-trace-id="${h(r.traceId)}">${html}</template>`);
        bytes += html.length;
        w = true;
      }
    }
    points.push({ t: Math.max(0, (r.endAtMs - runStartMs) / 1000), ms: r.latencyMs, traceId: r.traceId, name: r.name, reason: r.reason, w });
  }
  points.sort((a, b) => a.t - b.t);
  if (points.length === 0) return '';
  const withWaterfall = points.filter((p) => p.w).length;
  return `<div id="trace-exemplar-view" class="exemplar-view"><p class="hint">The latency chart above marks the kept traces (${points.length}; ◆ tail, ● baseline): click one to open its waterfall here${withWaterfall < points.length ? ` (${points.length - withWaterfall} have no spans or did not fit the page)` : ''}.</p></div>
<script type="application/json" id="redline-exemplars">${jsonForScript(points)}</script>
<div id="trace-exemplar-templates" hidden>${templates.join('')}</div>`;
}

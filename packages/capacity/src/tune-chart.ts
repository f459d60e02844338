import type { TuneMeasurement, TuneResult } from './tune.js';

const SERIES = ['#1f4e79', '#2b8a3e', '#d6336c', '#e67700', '#7048e8', '#0c8599'];

function esc(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function short(v: number): string {
  return v >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : String(Number(v.toPrecision(3)));
}

/**
 * Records/s and per-record p99 against batch size (log₂ axis), one line per concurrency measured;
 * the SLO is dashed on the latency panel and the recommended configuration ringed on both.
 */
export function renderTuneSvg(result: TuneResult, title = 'redline tune'): string {
  const width = 980;
  const height = 400;
  const parts: string[] = [];
  const ms = result.measurements;
  const xMax = Math.log2(Math.max(...result.batchSizes));
  const rpsMax = Math.max(1, ...ms.map((m) => m.recordsPerSec)) * 1.1;
  const latMax = Math.max(result.slo.limitMs, ...ms.map((m) => m.sloLatencyMs)) * 1.5;
  const latMin = Math.max(0.01, 10 ** Math.floor(Math.log10(Math.max(0.01, Math.min(result.slo.limitMs, ...ms.map((m) => m.sloLatencyMs).filter((v) => v > 0))) / 1.5)));
  const panel = (x0: number, label: string, yLabel: string, sy: (v: number) => number, yTicks: number[]): ((m: TuneMeasurement) => [number, number]) => {
    const w = 380;
    const sx = (b: number): number => x0 + (xMax > 0 ? (Math.log2(b) / xMax) * w : w / 2);
    parts.push(`<text x="${x0}" y="28" font-size="13" font-weight="600">${esc(label)}</text>`);
    for (const b of result.batchSizes) {
      parts.push(`<line x1="${sx(b)}" y1="40" x2="${sx(b)}" y2="330" stroke="#e9ecef"/><text x="${sx(b)}" y="344" font-size="10" text-anchor="middle" fill="#495057">${b}</text>`);
    }
    for (const t of yTicks) parts.push(`<line x1="${x0}" y1="${sy(t)}" x2="${x0 + w}" y2="${sy(t)}" stroke="#e9ecef"/><text x="${x0 - 5}" y="${sy(t) + 3}" font-size="10" text-anchor="end" fill="#495057">${short(t)}</text>`);
    parts.push(`<rect x="${x0}" y="40" width="${w}" height="290" fill="none" stroke="#495057"/>`);
    parts.push(`<text x="${x0 + w / 2}" y="362" font-size="11" text-anchor="middle" fill="#495057">batch size (records)</text>`);
    parts.push(`<text transform="translate(${x0 - 42} 185) rotate(-90)" font-size="11" text-anchor="middle" fill="#495057">${esc(yLabel)}</text>`);
    return (m) => [sx(m.batchSize), 0];
  };
  const syR = (v: number): number => 330 - (v / rpsMax) * 290;
  const lo = Math.log10(latMin);
  const hi = Math.log10(latMax);
  const syL = (v: number): number => 330 - ((Math.log10(Math.max(v, latMin)) - lo) / (hi - lo)) * 290;
  const rTicks: number[] = [];
  const step = 10 ** Math.floor(Math.log10(rpsMax / 4));
  const nice = [1, 2, 5, 10].map((k) => k * step).find((s) => rpsMax / s <= 6) ?? step * 10;
  for (let v = 0; v <= rpsMax; v += nice) rTicks.push(v);
  const lTicks: number[] = [];
  for (let e = Math.ceil(lo); e <= hi; e++) lTicks.push(10 ** e);
  const left = panel(70, 'Throughput vs batch size', 'records per second', syR, rTicks);
  const right = panel(560, `Per-record ${result.slo.percentile === 99 ? 'p99' : `p(${result.slo.percentile})`} vs batch size`, 'latency, enqueue → done (ms, log)', syL, lTicks);
  parts.push(`<line x1="560" y1="${syL(result.slo.limitMs)}" x2="940" y2="${syL(result.slo.limitMs)}" stroke="#495057" stroke-dasharray="5 4"/><text x="936" y="${syL(result.slo.limitMs) - 4}" font-size="10" text-anchor="end" fill="#495057">SLO ${esc(result.slo.expression)}</text>`);
  result.concurrencies.forEach((c, i) => {
    const line = ms.filter((m) => m.concurrency === c).sort((a, b) => a.batchSize - b.batchSize);
    if (line.length === 0) return;
    const colour = SERIES[i % SERIES.length]!;
    parts.push(`<polyline points="${line.map((m) => `${left(m)[0].toFixed(1)},${syR(m.recordsPerSec).toFixed(1)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<polyline points="${line.map((m) => `${right(m)[0].toFixed(1)},${syL(m.sloLatencyMs).toFixed(1)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const m of line) {
      const fill = m.ok ? colour : 'white';
      parts.push(`<circle cx="${left(m)[0].toFixed(1)}" cy="${syR(m.recordsPerSec).toFixed(1)}" r="3.5" fill="${fill}" stroke="${colour}" stroke-width="1.5"/>`);
      parts.push(`<circle cx="${right(m)[0].toFixed(1)}" cy="${syL(m.sloLatencyMs).toFixed(1)}" r="3.5" fill="${fill}" stroke="${colour}" stroke-width="1.5"/>`);
    }
    parts.push(`<rect x="${70 + i * 110}" y="${height - 22}" width="12" height="12" fill="${colour}"/><text x="${86 + i * 110}" y="${height - 12}" font-size="11">concurrency ${c}</text>`);
  });
  if (result.best) {
    const b = result.best;
    parts.push(`<circle cx="${left(b)[0].toFixed(1)}" cy="${syR(b.recordsPerSec).toFixed(1)}" r="8" fill="none" stroke="#212529" stroke-width="2"/>`);
    parts.push(`<circle cx="${right(b)[0].toFixed(1)}" cy="${syL(b.sloLatencyMs).toFixed(1)}" r="8" fill="none" stroke="#212529" stroke-width="2"/>`);
  }
  parts.push(`<text x="${width - 10}" y="${height - 12}" font-size="11" text-anchor="end" fill="#495057">${esc(`${title}: open circles missed the SLO; ringed: recommended`)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>`;
}

/** One line per measured configuration and the recommendation. */
export function renderTuneText(result: TuneResult): string {
  const lines = [`tune (${result.mode}): ${result.measurements.length} of ${result.gridSize} configurations in ${(result.elapsedMs / 1000).toFixed(1)} s, SLO ${result.slo.expression}`];
  lines.push('  batch  concurrency   records/s   p99 ms   ok');
  for (const m of [...result.measurements].sort((a, b) => a.concurrency - b.concurrency || a.batchSize - b.batchSize)) {
    lines.push(`  ${String(m.batchSize).padStart(5)}  ${String(m.concurrency).padStart(11)}  ${m.recordsPerSec.toFixed(0).padStart(10)}  ${m.p99Ms.toFixed(1).padStart(7)}   ${m.ok ? 'yes' : 'no'}`);
  }
  lines.push(
    result.best
      ? `recommended: batch ${result.best.batchSize} × concurrency ${result.best.concurrency}: ${result.best.recordsPerSec.toFixed(0)} records/s, p99 ${result.best.p99Ms.toFixed(1)} ms`
      : `no configuration met ${result.slo.expression}`,
  );
  return lines.join('\n');
}

import { stepAt, type OverloadResult } from './overload.js';

const SERIES = ['#d6336c', '#2b8a3e', '#1f4e79', '#e67700'];
const AXIS = '#495057';
const GRID = '#e9ecef';
const TEXT = '#212529';

function esc(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = 0; v <= max * 1.0001 + step / 2; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  return v >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : String(Number(v.toPrecision(3)));
}

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Axes with a linear x and a linear or log10 y; returns the mapping functions. */
function axes(parts: string[], p: Panel, title: string, xLabel: string, yLabel: string, xMax: number, yMax: number, logY: { min: number } | null): { sx(v: number): number; sy(v: number): number } {
  const sx = (v: number): number => p.x + (v / xMax) * p.w;
  const yTop = logY ? Math.log10(yMax) : yMax;
  const yBottom = logY ? Math.log10(logY.min) : 0;
  const sy = (v: number): number => {
    const t = logY ? Math.log10(Math.max(v, logY.min)) : v;
    return p.y + p.h - ((t - yBottom) / (yTop - yBottom)) * p.h;
  };
  parts.push(`<text x="${p.x}" y="${p.y - 12}" font-size="13" font-weight="600" fill="${TEXT}">${esc(title)}</text>`);
  for (const t of ticks(xMax)) {
    if (t > xMax) continue;
    parts.push(`<line x1="${sx(t)}" y1="${p.y}" x2="${sx(t)}" y2="${p.y + p.h}" stroke="${GRID}"/>`);
    parts.push(`<text x="${sx(t)}" y="${p.y + p.h + 14}" font-size="10" text-anchor="middle" fill="${AXIS}">${label(t)}</text>`);
  }
  const yTicks = logY ? decades(logY.min, yMax) : ticks(yMax).filter((t) => t <= yMax);
  for (const t of yTicks) {
    parts.push(`<line x1="${p.x}" y1="${sy(t)}" x2="${p.x + p.w}" y2="${sy(t)}" stroke="${GRID}"/>`);
    parts.push(`<text x="${p.x - 5}" y="${sy(t) + 3}" font-size="10" text-anchor="end" fill="${AXIS}">${label(t)}</text>`);
  }
  parts.push(`<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" fill="none" stroke="${AXIS}"/>`);
  parts.push(`<text x="${p.x + p.w / 2}" y="${p.y + p.h + 30}" font-size="11" text-anchor="middle" fill="${AXIS}">${esc(xLabel)}</text>`);
  parts.push(`<text transform="translate(${p.x - 38} ${p.y + p.h / 2}) rotate(-90)" font-size="11" text-anchor="middle" fill="${AXIS}">${esc(yLabel)}</text>`);
  return { sx, sy };
}

function decades(min: number, max: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); 10 ** e <= max * 1.0001; e++) if (10 ** e >= min) out.push(10 ** e);
  return out;
}

/**
 * The overload experiment as one SVG, every service in its own colour: goodput against offered
 * load (the path runs up the levels and back, so a service that does not recover shows a gap),
 * admitted p99 latency against offered load (log scale, SLO dashed), and goodput per second over
 * time beside the offered load.
 */
export function renderOverloadSvg(results: readonly OverloadResult[]): string {
  const width = 1290;
  const height = 400;
  const parts: string[] = [];
  const offeredMax = Math.max(...results.flatMap((r) => r.steps.map((s) => s.offeredRate))) * 1.05;
  const goodMax = Math.max(1, ...results.flatMap((r) => r.steps.flatMap((s) => [s.goodput, ...s.seconds.map((x) => x.goodput)]))) * 1.1;
  const latencies = results.flatMap((r) => r.steps.map((s) => s.admittedP99Ms)).filter((v) => v > 0);
  const sloMs = results[0]?.slo.limitMs ?? 1;
  const latMax = Math.max(sloMs, ...latencies) * 1.5;
  const latMin = Math.max(0.1, 10 ** Math.floor(Math.log10(Math.min(sloMs, ...latencies, latMax) / 1.5)));
  const tMax = Math.max(1, ...results.map((r) => r.steps.at(-1)?.seconds.at(-1)?.t ?? 1));

  const a = axes(parts, { x: 60, y: 40, w: 340, h: 290 }, 'Goodput vs offered load', 'offered load (requests/s)', 'goodput (responses within SLO /s)', offeredMax, goodMax, null);
  parts.push(`<line x1="${a.sx(0)}" y1="${a.sy(0)}" x2="${a.sx(Math.min(offeredMax, goodMax))}" y2="${a.sy(Math.min(offeredMax, goodMax))}" stroke="${AXIS}" stroke-dasharray="2 3"/>`);
  const b = axes(parts, { x: 490, y: 40, w: 340, h: 290 }, 'Admitted p99 latency vs offered load', 'offered load (requests/s)', 'p99 of 2xx responses (ms, log)', offeredMax, latMax, { min: latMin });
  parts.push(`<line x1="${b.sx(0)}" y1="${b.sy(sloMs)}" x2="${b.sx(offeredMax)}" y2="${b.sy(sloMs)}" stroke="${AXIS}" stroke-dasharray="5 4"/><text x="${b.sx(offeredMax) - 4}" y="${b.sy(sloMs) - 4}" font-size="10" text-anchor="end" fill="${AXIS}">SLO ${esc(results[0]?.slo.expression ?? '')}</text>`);
  const c = axes(parts, { x: 920, y: 40, w: 340, h: 290 }, 'Goodput over time', 'time (s)', 'per second', tMax, Math.max(goodMax, offeredMax), null);

  results.forEach((r, i) => {
    const colour = SERIES[i % SERIES.length]!;
    const pts = r.steps.map((s) => `${a.sx(s.offeredRate).toFixed(1)},${a.sy(s.goodput).toFixed(1)}`);
    parts.push(`<polyline points="${pts.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    r.steps.forEach((s, k) => {
      const last = k === r.steps.length - 1;
      parts.push(`<circle cx="${a.sx(s.offeredRate).toFixed(1)}" cy="${a.sy(s.goodput).toFixed(1)}" r="${last ? 5 : 3.5}" fill="${last ? 'white' : colour}" stroke="${colour}" stroke-width="2"/>`);
    });
    const lp = r.steps.filter((s) => s.admittedP99Ms > 0).map((s) => `${b.sx(s.offeredRate).toFixed(1)},${b.sy(s.admittedP99Ms).toFixed(1)}`);
    parts.push(`<polyline points="${lp.join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const s of r.steps) if (s.admittedP99Ms > 0) parts.push(`<circle cx="${b.sx(s.offeredRate).toFixed(1)}" cy="${b.sy(s.admittedP99Ms).toFixed(1)}" r="3.5" fill="${colour}"/>`);
    const secs = r.steps.flatMap((s) => s.seconds);
    if (i === 0) {
      const offered = secs.map((s) => `${c.sx(s.t - 1).toFixed(1)},${c.sy(s.offered).toFixed(1)} ${c.sx(s.t).toFixed(1)},${c.sy(s.offered).toFixed(1)}`);
      parts.push(`<polyline points="${offered.join(' ')}" fill="none" stroke="#adb5bd" stroke-width="1.5"/>`);
    }
    parts.push(`<polyline points="${secs.map((s) => `${c.sx(s.t - 0.5).toFixed(1)},${c.sy(s.goodput).toFixed(1)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    const lastStep = r.steps.at(-1)!;
    const start = (lastStep.seconds[0]?.t ?? 1) - 1;
    parts.push(`<line x1="${c.sx(start)}" y1="${c.sy(0)}" x2="${c.sx(start)}" y2="${c.sy(Math.max(goodMax, offeredMax))}" stroke="${AXIS}" stroke-dasharray="3 3"/>`);
    const verdict = r.metastable ? 'no recovery' : `recovered in ${r.recovery.seconds} s`;
    const at3 = stepAt(r, 3);
    const extra = at3 ? `, 3×: ${Math.round((at3.goodput / Math.max(r.peakGoodput, 1e-9)) * 100)} % of peak goodput` : '';
    parts.push(`<rect x="${60 + i * 420}" y="${height - 26}" width="12" height="12" fill="${colour}"/><text x="${78 + i * 420}" y="${height - 16}" font-size="12" fill="${TEXT}">${esc(`${r.label} — ${verdict}${extra}`)}</text>`);
  });
  parts.push(`<text x="${c.sx(tMax)}" y="${40 - 12}" font-size="10" text-anchor="end" fill="#868e96">grey: offered; dashed: load drops back</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>`;
}

/** A self-contained HTML page: the chart, then one table per service and its verdicts. */
export function renderOverloadHtml(results: readonly OverloadResult[], title = 'Redline overload experiment'): string {
  const tables = results
    .map((r) => {
      const rows = r.steps
        .map(
          (s) =>
            `<tr><td>${s.multiplier}×</td><td>${s.offeredRate}</td><td>${s.goodput.toFixed(1)}</td><td>${s.throughput.toFixed(1)}</td><td>${(s.errorRate * 100).toFixed(1)} %</td><td>${s.admittedP99Ms.toFixed(1)}</td><td>${s.p99Ms.toFixed(1)}</td><td>${esc(Object.entries(s.errorsByKind).map(([k, v]) => `${k} ${v}`).join(', '))}</td></tr>`,
        )
        .join('');
      const at3 = stepAt(r, 3);
      const verdicts = [
        at3 ? `At 3× the maximum sustainable rate: goodput ${((at3.goodput / Math.max(r.peakGoodput, 1e-9)) * 100).toFixed(0)} % of its peak, admitted p99 ${(at3.admittedP99Ms / Math.max(r.unloadedP99Ms, 1e-9)).toFixed(2)}× the unloaded p99.` : '',
        r.metastable
          ? `<strong>Metastable</strong>: goodput ${r.recovery.seconds === null ? 'did not come back' : `took ${r.recovery.seconds} s to come back`} after the load dropped (window ${r.recovery.withinMs / 1000} s).`
          : `Recovered: goodput back to 90 % of its unloaded level within ${r.recovery.seconds} s of the load dropping.`,
      ].filter(Boolean);
      return `<section><h2>${esc(r.label)}</h2><p>Maximum sustainable rate ${r.maxRate}/s under ${esc(r.slo.expression)}; unloaded admitted p99 ${r.unloadedP99Ms.toFixed(1)} ms.</p><table><thead><tr><th>load</th><th>offered/s</th><th>goodput/s</th><th>2xx/s</th><th>errors</th><th>admitted p99 ms</th><th>p99 ms</th><th>errors by kind</th></tr></thead><tbody>${rows}</tbody></table><ul>${verdicts.map((v) => `<li>${v}</li>`).join('')}</ul></section>`;
    })
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>body{font-family:system-ui,sans-serif;margin:24px;color:#212529}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #dee2e6;padding:3px 8px;text-align:right;font-size:13px}th{background:#f1f3f5}section{margin-top:18px}</style></head><body><h1>${esc(title)}</h1><p>Goodput counts the responses within the SLO latency per second (refusals and errors excluded). The load steps from half the maximum sustainable rate up to four times it, then back.</p>${renderOverloadSvg(results)}${tables}</body></html>`;
}

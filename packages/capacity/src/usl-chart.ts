import { ErrorCodes, RedlineError } from '@redline/core';
import type { Knee, SearchResult } from './search.js';
import { fmt, uslThroughput, type UslFit, type UslPoint } from './usl.js';

/** What {@link renderUslSvg} draws. */
export interface UslChartInput {
  /** Measured (concurrency, throughput) points. */
  points: readonly UslPoint[];
  /** A USL fit to draw as a curve; its bootstrap samples (if any) become the confidence band. */
  fit?: UslFit | null;
  /** Knee to mark with a vertical line; defaults to the fit's N_max when finite. */
  knee?: Knee | null;
  /** The redline: the maximum sustainable throughput, drawn as a horizontal line. */
  redline?: { throughput: number; label?: string; concurrency?: number } | null;
  title?: string;
  /** Pixel size; defaults 720 × 420, each between 200 and 4000. */
  width?: number;
  height?: number;
}

const COLORS = {
  point: '#1f4e79',
  curve: '#2b8a3e',
  band: '#2b8a3e',
  knee: '#7048e8',
  redline: '#d6336c',
  axis: '#495057',
  grid: '#e9ecef',
  text: '#212529',
};

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Round tick values covering [0, max]: steps of 1, 2 or 5 × 10^k, about `count` of them. */
function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = 0; v <= max * (1 + 1e-9); v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks.at(-1)! < max) ticks.push(Number((ticks.at(-1)! + step).toPrecision(12)));
  return ticks;
}

function quantileSorted(sorted: readonly number[], q: number): number {
  const rank = q * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

// A white outline behind labels keeps them legible where they cross points or curves.
const HALO = ' stroke="#ffffff" stroke-width="3" paint-order="stroke"';

const n2 = (v: number): string => v.toFixed(2);

/**
 * Renders a self-contained SVG chart (a string, no scripts, no external resources) of measured
 * throughput against concurrency with the fitted USL curve, its bootstrap confidence band, the
 * knee and the redline. Elements carry `data-role` attributes (`point`, `fit-curve`, `ci-band`,
 * `knee`, `redline`, `x-axis`, `y-axis`) so reports and tests can find them. Throws
 * REDLINE_ERR_INVALID_ARGUMENT when there are no points or the size is out of range.
 */
export function renderUslSvg(input: UslChartInput): string {
  const width = input.width ?? 720;
  const height = input.height ?? 420;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isFinite(v) || v < 200 || v > 4000) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `${name} must be between 200 and 4000 pixels, got ${v}`);
  }
  const points = input.points.filter((p) => Number.isFinite(p.concurrency) && Number.isFinite(p.throughput));
  if (points.length === 0) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'a USL chart needs at least one measured point');
  const fit = input.fit && input.fit.converged ? input.fit : null;
  const knee: Knee | null =
    input.knee !== undefined ? input.knee : fit && Number.isFinite(fit.nMax) ? { source: 'usl', concurrency: fit.nMax, throughput: fit.xMax } : null;
  const redline = input.redline ?? null;

  const margin = { left: 64, right: 24, top: input.title ? 40 : 20, bottom: 48 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const maxN = Math.max(...points.map((p) => p.concurrency), knee && Number.isFinite(knee.concurrency) ? knee.concurrency : 0) * 1.1;

  const xTicks = niceTicks(maxN);
  const xMax = xTicks.at(-1)!;
  // Curve and band on a fine grid of concurrency across the whole x axis.
  const gridCount = 160;
  const grid = Array.from({ length: gridCount + 1 }, (_, i) => (xMax * i) / gridCount).map((n) => Math.max(n, 1e-9));
  const curve = fit ? grid.map((n) => uslThroughput(fit.params, n)) : [];
  const samples = fit?.bootstrap?.samples ?? [];
  const level = fit?.ci?.sigma.level ?? 0.95;
  const band =
    samples.length >= 20
      ? grid.map((n) => {
          const xs = samples.map((s) => uslThroughput(s, n)).sort((a, b) => a - b);
          return [quantileSorted(xs, (1 - level) / 2), quantileSorted(xs, 1 - (1 - level) / 2)] as const;
        })
      : [];

  const yCandidates = [...points.map((p) => p.throughput), ...curve, ...band.map((b) => b[1]), redline?.throughput ?? 0, knee?.throughput ?? 0];
  const yTicks = niceTicks(Math.max(...yCandidates.filter(Number.isFinite)) * 1.05);
  const yMax = yTicks.at(-1)!;
  const sx = (n: number): number => margin.left + (n / xMax) * plotW;
  const sy = (x: number): number => margin.top + plotH - (Math.min(x, yMax) / yMax) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12" role="img" aria-label="${escapeXml(input.title ?? 'Throughput against concurrency with the Universal Scalability Law fit')}">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#ffffff"/>`);
  if (input.title) out.push(`<text x="${margin.left}" y="24" font-size="15" font-weight="600" fill="${COLORS.text}">${escapeXml(input.title)}</text>`);

  // Grid and axes.
  for (const t of yTicks) {
    out.push(`<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${n2(sy(t))}" y2="${n2(sy(t))}" stroke="${COLORS.grid}"/>`);
    out.push(`<text x="${margin.left - 8}" y="${n2(sy(t) + 4)}" text-anchor="end" fill="${COLORS.axis}">${fmt(t)}</text>`);
  }
  for (const t of xTicks) {
    out.push(`<line x1="${n2(sx(t))}" x2="${n2(sx(t))}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="${COLORS.grid}"/>`);
    out.push(`<text x="${n2(sx(t))}" y="${margin.top + plotH + 18}" text-anchor="middle" fill="${COLORS.axis}">${fmt(t)}</text>`);
  }
  out.push(`<line data-role="x-axis" x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="${COLORS.axis}"/>`);
  out.push(`<line data-role="y-axis" x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="${COLORS.axis}"/>`);
  out.push(`<text x="${margin.left + plotW / 2}" y="${height - 10}" text-anchor="middle" fill="${COLORS.text}">concurrency N (requests in flight)</text>`);
  out.push(`<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" fill="${COLORS.text}">throughput X (per second)</text>`);

  if (band.length > 0) {
    const upper = grid.map((n, i) => `${n2(sx(n))},${n2(sy(band[i]![1]))}`);
    const lower = grid.map((n, i) => `${n2(sx(n))},${n2(sy(band[i]![0]))}`).reverse();
    out.push(
      `<path data-role="ci-band" d="M${upper.join(' L')} L${lower.join(' L')} Z" fill="${COLORS.band}" fill-opacity="0.15" stroke="none"><title>${Math.round(level * 100)} % confidence band (${samples.length} bootstrap fits)</title></path>`,
    );
  }
  if (curve.length > 0) {
    const d = grid.map((n, i) => `${i === 0 ? 'M' : 'L'}${n2(sx(n))},${n2(sy(curve[i]!))}`).join(' ');
    out.push(
      `<path data-role="fit-curve" d="${d}" fill="none" stroke="${COLORS.curve}" stroke-width="2"><title>USL fit: σ=${fmt(fit!.params.sigma)}, κ=${fmt(fit!.params.kappa)}, λ=${fmt(fit!.params.lambda)}</title></path>`,
    );
  }
  if (redline && Number.isFinite(redline.throughput)) {
    const y = n2(sy(redline.throughput));
    const label = redline.label ?? `redline ${fmt(redline.throughput)}/s`;
    out.push(`<g data-role="redline"><line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="${COLORS.redline}" stroke-width="2" stroke-dasharray="8 4"/>`);
    // Keep the label clear of the knee's label: left side when the knee is on the right half.
    const kneeRight = knee !== null && Number.isFinite(knee.concurrency) && knee.concurrency > xMax / 2;
    const labelX = kneeRight ? margin.left + 6 : margin.left + plotW - 4;
    out.push(
      `<text x="${n2(labelX)}" y="${n2(sy(redline.throughput) - 6)}" text-anchor="${kneeRight ? 'start' : 'end'}" fill="${COLORS.redline}" font-weight="600"${HALO}>${escapeXml(label)}</text>`,
    );
    if (redline.concurrency !== undefined && Number.isFinite(redline.concurrency)) {
      out.push(`<circle cx="${n2(sx(redline.concurrency))}" cy="${y}" r="8" fill="none" stroke="${COLORS.redline}" stroke-width="2"/>`);
    }
    out.push(`</g>`);
  }
  if (knee && Number.isFinite(knee.concurrency) && knee.concurrency <= xMax) {
    const x = n2(sx(knee.concurrency));
    out.push(`<g data-role="knee"><line x1="${x}" x2="${x}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="${COLORS.knee}" stroke-width="1.5" stroke-dasharray="4 4"/>`);
    out.push(`<circle cx="${x}" cy="${n2(sy(knee.throughput))}" r="6" fill="none" stroke="${COLORS.knee}" stroke-width="2"/>`);
    out.push(
      `<text x="${n2(sx(knee.concurrency) + 6)}" y="${margin.top + 14}" fill="${COLORS.knee}" font-weight="600"${HALO}>knee N=${fmt(knee.concurrency)} (${fmt(knee.throughput)}/s${knee.source === 'usl' ? ', USL' : ''})</text></g>`,
    );
  }
  for (const p of points) {
    out.push(
      `<circle data-role="point" cx="${n2(sx(p.concurrency))}" cy="${n2(sy(p.throughput))}" r="4" fill="${COLORS.point}"><title>N=${fmt(p.concurrency)}: ${fmt(p.throughput)}/s</title></circle>`,
    );
  }
  // Legend.
  const legend: Array<[string, string]> = [['measured', COLORS.point]];
  if (curve.length > 0) legend.push(['USL fit', COLORS.curve]);
  if (band.length > 0) legend.push([`${Math.round(level * 100)} % band`, COLORS.band]);
  out.push(`<g data-role="legend">`);
  legend.forEach(([label, color], i) => {
    const y = margin.top + plotH - 12 - (legend.length - 1 - i) * 16;
    const x = margin.left + plotW - 110;
    out.push(`<rect x="${x}" y="${y - 8}" width="10" height="10" fill="${color}"${label.endsWith('band') ? ' fill-opacity="0.3"' : ''}/>`);
    out.push(`<text x="${x + 16}" y="${y + 1}" fill="${COLORS.text}">${escapeXml(label)}</text>`);
  });
  out.push(`</g>`);
  out.push(`</svg>`);
  return out.join('\n');
}

/** Renders the chart of a capacity search: its steps, the USL fit on them, the knee and the redline. */
export function renderSearchSvg(result: SearchResult, options: { width?: number; height?: number; title?: string } = {}): string {
  const points = result.steps
    .filter((s) => !s.measurement.generatorLimited)
    .map((s) => ({ concurrency: s.measurement.concurrencyMean, throughput: s.measurement.throughput }));
  return renderUslSvg({
    points,
    fit: result.usl,
    knee: result.knee,
    redline: result.maxSustainable
      ? {
          throughput: result.maxSustainable.throughput,
          concurrency: result.steps[result.maxSustainable.step]!.measurement.concurrencyMean,
          label: `redline ${fmt(result.maxSustainable.throughput)}/s at ${result.slo.expression}`,
        }
      : null,
    title: options.title ?? `Capacity: ${result.model} model, SLO ${result.slo.expression}`,
    ...(options.width !== undefined && { width: options.width }),
    ...(options.height !== undefined && { height: options.height }),
  });
}

import { join } from 'node:path';
import { ensureDir, writeFileAtomic, writeJsonAtomic } from '@redline/core';
import type { SearchResult } from './search.js';
import { fmt } from './usl.js';
import { renderSearchSvg } from './usl-chart.js';

/** File names a capacity search writes into its output directory. */
export const CAPACITY_FILES = { result: 'capacity.json', chart: 'capacity.svg' } as const;

/**
 * The JSON form of a search result: bootstrap parameter sets are dropped (they only feed the chart)
 * and non-finite numbers become `null`, so the file round-trips through `JSON.parse` unchanged.
 */
export function searchResultJson(result: SearchResult): unknown {
  const usl = result.usl ? { ...result.usl, bootstrap: result.usl.bootstrap ? { ...result.usl.bootstrap, samples: undefined } : undefined } : null;
  return JSON.parse(JSON.stringify({ ...result, usl }, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value)));
}

/**
 * Writes `capacity.json` ({@link searchResultJson}) and `capacity.svg` (the chart) into `dir`,
 * creating it; both writes are atomic. Returns the paths written.
 */
export async function writeSearchResult(dir: string, result: SearchResult): Promise<{ json: string; svg: string }> {
  await ensureDir(dir);
  const json = join(dir, CAPACITY_FILES.result);
  const svg = join(dir, CAPACITY_FILES.chart);
  await writeJsonAtomic(json, searchResultJson(result));
  await writeFileAtomic(svg, renderSearchSvg(result));
  return { json, svg };
}

/** Plain-text summary of a search for the terminal (no colour, ends with a newline). */
export function renderSearchText(result: SearchResult): string {
  const unit = result.model === 'open' ? '/s' : ' VUs';
  const out: string[] = [];
  const m = result.maxSustainable;
  if (m) {
    out.push(
      `max sustainable ${m.lowerBound ? 'at least ' : ''}${fmt(m.level)}${unit} under ${result.slo.expression}: ` +
        `throughput ${fmt(m.throughput)}/s, p(${result.slo.percentile}) ${fmt(m.sloLatencyMs)} ms${result.slo.percentile === 99 ? '' : `, p99 ${fmt(m.p99Ms)} ms`}, errors ${(m.errorRate * 100).toFixed(2)} % (step ${m.step + 1})`,
    );
  } else {
    out.push(`no sustainable level found under ${result.slo.expression}`);
  }
  out.push(`stopped: ${result.stopReason} after ${result.steps.length} steps, ${fmt(result.elapsedMs / 1000)} s of ${fmt(result.budgetMs / 1000)} s budget`);
  if (result.knee) {
    out.push(`knee: N ≈ ${fmt(result.knee.concurrency)} in flight, ${fmt(result.knee.throughput)}/s (${result.knee.source === 'usl' ? 'USL fit' : 'measured curve'})`);
  }
  if (result.usl?.converged) {
    const p = result.usl.params;
    out.push(`USL: σ=${fmt(p.sigma)} κ=${fmt(p.kappa)} λ=${fmt(p.lambda)}/s, ${result.usl.dominant} dominates`);
  }
  for (const flag of result.flags) out.push(`! ${flag.message}`);
  return `${out.join('\n')}\n`;
}

import { readFileSync } from 'node:fs';
import { ErrorCodes, RedlineError } from '@redline/core';
import { loadAssets, type InlineAssets } from './assets.js';

/** The live dashboard's files: the report's (uPlot, charts, styles) plus its own script. */
export interface DashboardAssets extends Pick<InlineAssets, 'uplotJs' | 'uplotCss' | 'reportCss' | 'chartsJs'> {
  dashboardJs: string;
}

let cached: DashboardAssets | null = null;

/** Reads the dashboard's browser code once per process (`packages/report/assets/`). */
export function loadDashboardAssets(): DashboardAssets {
  if (cached) return cached;
  const a = loadAssets();
  let dashboardJs: string;
  try {
    dashboardJs = readFileSync(new URL('../assets/dashboard.js', import.meta.url), 'utf8');
  } catch (err) {
    throw new RedlineError(ErrorCodes.INTERNAL, `cannot read the dashboard script: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  cached = { uplotJs: a.uplotJs, uplotCss: a.uplotCss, reportCss: a.reportCss, chartsJs: a.chartsJs, dashboardJs };
  return cached;
}

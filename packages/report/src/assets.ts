import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { ErrorCodes, RedlineError } from '@redline/core';

/** The browser code and styles the HTML pages inline. */
export interface InlineAssets {
  uplotJs: string;
  uplotCss: string;
  reportCss: string;
  flameJs: string;
  chartsJs: string;
  /** Trace exemplars on the latency chart (report only). */
  tracesJs: string;
  reportJs: string;
  compareJs: string;
}

let cached: InlineAssets | null = null;

function read(path: string | URL, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new RedlineError(ErrorCodes.INTERNAL, `cannot read ${what} for the HTML report: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
}

/**
 * Reads uPlot (from the installed `uplot` package) and Redline's own page scripts and styles
 * (`packages/report/assets/`), once per process. Pages inline them so reports open offline.
 */
export function loadAssets(): InlineAssets {
  if (cached !== null) return cached;
  const require = createRequire(import.meta.url);
  let uplotDir: string;
  try {
    uplotDir = require.resolve('uplot/package.json').replace(/package\.json$/, '');
  } catch (err) {
    throw new RedlineError(ErrorCodes.INTERNAL, 'the uplot package is not installed next to @redline/report', { cause: err });
  }
  // src/ and dist/ both sit one level below the package root, so the same relative URL works for both.
  const asset = (name: string): URL => new URL(`../assets/${name}`, import.meta.url);
  cached = {
    uplotJs: read(`${uplotDir}dist/uPlot.iife.min.js`, 'uPlot'),
    uplotCss: read(`${uplotDir}dist/uPlot.min.css`, 'uPlot styles'),
    reportCss: read(asset('report.css'), 'report styles'),
    flameJs: read(asset('flame.js'), 'flame graph script'),
    chartsJs: read(asset('charts.js'), 'chart script'),
    tracesJs: read(asset('traces.js'), 'trace exemplar script'),
    reportJs: read(asset('report.js'), 'report script'),
    compareJs: read(asset('compare.js'), 'compare script'),
  };
  return cached;
}

/** Makes inline script text safe inside `<script>`: no `</script` can close the element early. */
export function scriptText(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}

import { join, resolve } from 'node:path';
import { ErrorCodes, readRunResult, RedlineError, writeFileAtomic, type RunResult } from '@redline/core';
import { loadRunProfile, type FlameNode } from '@redline/doctor';
import type { FlamePruneOptions } from './flame-data.js';
import { renderReportHtml } from './report-html.js';
import { readFile } from 'node:fs/promises';
import { readTracesFile, spansFromOtlpJson, TRACES_OTLP_FILE, type Span, type TracesFile } from '@redline/trace';
import type { SlowestTrace } from './trace-html.js';

/** The kept spans of a run directory (`traces.otlp.json`) by trace id; empty when unreadable. */
async function keptSpans(runDir: string): Promise<Map<string, Span[]>> {
  const byTrace = new Map<string, Span[]>();
  try {
    for (const s of spansFromOtlpJson(JSON.parse(await readFile(join(resolve(runDir), TRACES_OTLP_FILE), 'utf8')))) {
      let list = byTrace.get(s.traceId);
      if (!list) byTrace.set(s.traceId, (list = []));
      list.push(s);
    }
  } catch {
    // No spans file (nothing arrived) or a damaged one: the report shows the analysis without waterfalls.
  }
  return byTrace;
}

/** The slowest kept trace of the busiest request name; undefined without spans. */
function slowestTrace(file: TracesFile, spansByTrace: ReadonlyMap<string, Span[]>): SlowestTrace | undefined {
  const names = Object.values(file.analysis.byName).filter((n) => n.slowestTraceId !== null && n.traced > 0);
  names.sort((a, b) => b.p99Ms - a.p99Ms);
  const id = names[0]?.slowestTraceId;
  const record = file.records.find((r) => r.traceId === id);
  if (id == null || record === undefined) return undefined;
  const spans = spansByTrace.get(id);
  return spans !== undefined && spans.length > 0 ? { record, spans } : undefined;
}

/** File name of the report inside a run directory. */
export const REPORT_FILE = 'report.html';

/** Options of {@link writeReport}. */
export interface WriteReportOptions {
  /** Where to write; default `<runDir>/report.html`. */
  outPath?: string;
  /** Absolute directory of the target's sources: profile paths inside it are shown relative to it. */
  appRoot?: string;
  /** Resolve profile frames through source maps (TypeScript paths). Default true. */
  sourceMaps?: boolean;
  /** Flame-graph pruning (defaults: 0.01 % share, 25 000 nodes). */
  flamePrune?: FlamePruneOptions;
  /** Inline SVG for a capacity section (trusted markup). */
  capacitySvg?: string;
}

/** A run's CPU profile as a call tree, or a note saying why there is none. */
export interface LoadedFlame {
  flame?: FlameNode;
  sampleMs?: number;
  note?: string;
}

/**
 * Reads the CPU profile a run directory names (`result.target.profiles.cpuprofile`) and returns its
 * call tree through `@redline/doctor`. A missing or malformed profile gives a note, not an error, so
 * a report is still written; a path that leaves the run directory or names a FIFO or device throws
 * REDLINE_ERR_BAD_RUN_DIR.
 */
export async function loadRunFlame(runDir: string, result: RunResult, opts: { appRoot?: string; sourceMaps?: boolean } = {}): Promise<LoadedFlame> {
  const rel = result.target?.profiles.cpuprofile;
  if (rel === undefined || rel === '') return {};
  try {
    // A profile path that leaves the run directory, or names a FIFO or device, is a bad run directory.
    // Worker threads' profiles join the main one, each under its `thread <label>` node (loadRunProfile).
    const model = await loadRunProfile(runDir, result, { sourceMaps: opts.sourceMaps ?? true, ...(opts.appRoot !== undefined ? { appRoot: opts.appRoot } : {}) });
    if (model === null) return {};
    const threads = Math.max(1, model.profile.$redline?.threads?.length ?? 1);
    const samples = model.sampleCount();
    return { flame: model.flameTree(), ...(samples > 0 ? { sampleMs: (model.durationMs * threads) / samples } : {}) };
  } catch (err) {
    if (err instanceof RedlineError && err.code === ErrorCodes.BAD_RUN_DIR) throw err;
    return { note: `The CPU profile ${rel} could not be used: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/**
 * Writes the self-contained HTML report of a run directory (atomically) and returns its path.
 * Throws REDLINE_ERR_BAD_RUN_DIR when the directory is missing, holds no result, or has an
 * unsupported schema version. Call it at the end of `redline run` and for `redline report RUN_DIR`.
 */
export async function writeReport(runDir: string, opts: WriteReportOptions = {}): Promise<string> {
  const result = await readRunResult(runDir);
  const loaded = await loadRunFlame(runDir, result, opts);
  const tracesFile = await readTracesFile(runDir).catch(() => null);
  const spansByTrace = tracesFile === null ? new Map<string, Span[]>() : await keptSpans(runDir);
  const slowest = tracesFile === null ? undefined : slowestTrace(tracesFile, spansByTrace);
  const html = renderReportHtml(result, {
    ...(tracesFile === null ? {} : { traces: { file: tracesFile, spansByTrace, ...(slowest ? { slowest } : {}) } }),
    ...(loaded.flame ? { flame: loaded.flame } : {}),
    ...(loaded.sampleMs !== undefined ? { flameSampleMs: loaded.sampleMs } : {}),
    ...(loaded.note ? { notes: [loaded.note] } : {}),
    ...(opts.flamePrune ? { flamePrune: opts.flamePrune } : {}),
    ...(opts.capacitySvg ? { capacitySvg: opts.capacitySvg } : {}),
  });
  const out = opts.outPath ?? join(resolve(runDir), REPORT_FILE);
  await writeFileAtomic(out, html);
  return out;
}

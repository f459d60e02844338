import { relative, resolve } from 'node:path';
import { ErrorCodes, RedlineError, readRunResult } from '@redline/core';
import { writeRunDir } from '@redline/load';
import { writeReport } from '@redline/report';
import { parseCommandArgs } from '../args.js';
import { err, out, type CliIo } from '../io.js';
import { mergeRunResults } from '../coordinate/merge-dirs.js';
import { printSummary, runExitCode } from './run.js';

export const MERGE_HELP = `Usage:
  redline merge DIR DIR... [--out DIR]

Merges the finished run directories of one distributed run (each instance's own result, e.g. from
--execution-segment runs) into one run directory, exactly: histograms are merged, counts summed,
thresholds evaluated again on the merged data. The directories must come from the same scenario
and hold non-overlapping segments; segments that are not given are named as missing.

Options:
  --out DIR      merged run directory (default .redline/runs/<time>-<name>)
  --no-report    skip report.html
  --json         print the merged summary as JSON

Exit codes: 0 ok, 1 failure, 2 bad input (not runs, different scenarios, overlapping segments), 99 thresholds failed.`;

const OPTIONS = { out: { type: 'string', short: 'o' }, 'no-report': { type: 'boolean' } } as const;

/** `redline merge`. */
export async function mergeCommand(io: CliIo, args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('merge', args, OPTIONS);
  if (v.help) {
    out(io, MERGE_HELP);
    return 0;
  }
  if (positionals.length === 0) throw new RedlineError(ErrorCodes.USAGE, 'redline merge: give the run directories to merge (see redline merge --help)');
  const dirs = positionals.map((d) => resolve(io.cwd, d));
  const results = [];
  for (const d of dirs) results.push(await readRunResult(d));
  const merged = mergeRunResults(results, positionals);
  const runDir = await writeRunDir(merged, v.out !== undefined ? resolve(io.cwd, String(v.out)) : undefined, io.cwd);
  const reportPath = v['no-report'] ? null : await writeReport(runDir);
  if (v.json) out(io, JSON.stringify({ runDir, report: reportPath, status: merged.status, summary: merged.summary, thresholds: merged.thresholds, distributed: merged.distributed }, null, 2));
  else {
    printSummary(io, merged, runDir);
    if (reportPath) out(io, `  report: ${relative(io.cwd, reportPath)}`);
  }
  for (const m of merged.distributed?.missing ?? []) err(io, `redline: missing from the merged result: ${m}`);
  return runExitCode(merged, false);
}

import { join, relative, resolve } from 'node:path';
import { ErrorCodes, ExitCodes, RedlineError, exitCodeFor } from '@redline/core';
import { REPORT_FILE, writeReport } from '@redline/report';
import { parseCommandArgs } from '../args.js';
import { out, type CliIo } from '../io.js';
import { reportFailed } from '../session.js';

export const REPORT_HELP = `Usage: redline report RUN_DIR [--out FILE]

Writes a self-contained report.html (charts, findings, flame graph) for a run directory.`;

/** `redline report RUN_DIR`. */
export async function reportCommand(io: CliIo, args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('report', args, { out: { type: 'string', short: 'o' } });
  if (v.help) {
    out(io, REPORT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new RedlineError(ErrorCodes.USAGE, 'redline report: expected exactly one run directory');
  const runDir = positionals[0]!;
  const target = v.out !== undefined ? String(v.out) : join(resolve(io.cwd, runDir), REPORT_FILE);
  let path: string;
  try {
    path = await writeReport(runDir, { ...(v.out !== undefined ? { outPath: String(v.out) } : {}), appRoot: io.cwd });
  } catch (err) {
    // A run directory that is not a run stays a usage error; anything else failed writing this file.
    if (exitCodeFor(err) === ExitCodes.USAGE) throw err;
    throw reportFailed(target, err);
  }
  if (v.json) out(io, JSON.stringify({ report: path }));
  else out(io, `report: ${relative(io.cwd, path)}`);
  return 0;
}

import { relative } from 'node:path';
import { ErrorCodes, RedlineError } from '@redline/core';
import { writeReport } from '@redline/report';
import { parseCommandArgs } from '../args.js';
import { out, type CliIo } from '../io.js';

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
  const path = await writeReport(positionals[0]!, { ...(v.out !== undefined ? { outPath: String(v.out) } : {}), appRoot: io.cwd });
  if (v.json) out(io, JSON.stringify({ report: path }));
  else out(io, `report: ${relative(io.cwd, path)}`);
  return 0;
}

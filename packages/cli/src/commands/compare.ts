import { join, relative, resolve } from 'node:path';
import { ErrorCodes, ExitCodes, RedlineError } from '@redline/core';
import { compareRuns, evaluateGate, parseFailOn, parseNoiseThreshold, renderCompareTable, writeCompareHtml } from '@redline/report';
import { parseCommandArgs } from '../args.js';
import { colours, out, type CliIo } from '../io.js';
import { terminalSafe } from '../output/terminal-safe.js';

export const COMPARE_HELP = `Usage: redline compare BASE[,BASE...] CANDIDATE[,CANDIDATE...] [options]

Compares runs with bootstrap confidence intervals: each metric is improved, regressed or no change.
Give several run directories per side (comma-separated or with --base/--candidate repeated) for a
stronger verdict.

  --base DIR             a base run (repeatable; instead of the first positional)
  --candidate DIR        a candidate run (repeatable; instead of the second positional)
  --fail-on LIST         exit 1 when one of these regresses: throughput,p50,p90,p99,p99.9,errorRate,cpu,elu,gc,heap
  --noise PCT            changes smaller than this are noise (default 2%)
  --force                compare runs of different scenarios or load models anyway
  --out FILE             where to write compare.html (default: next to the first candidate)
  --json                 print the comparison as JSON`;

/** `redline compare`. */
export async function compareCommand(io: CliIo, args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('compare', args, {
    base: { type: 'string', multiple: true },
    candidate: { type: 'string', multiple: true },
    'fail-on': { type: 'string' },
    noise: { type: 'string' },
    force: { type: 'boolean' },
    seed: { type: 'string' },
    out: { type: 'string', short: 'o' },
  });
  if (v.help) {
    out(io, COMPARE_HELP);
    return 0;
  }
  const split = (s: string | undefined): string[] => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : []);
  const base = [...((v.base as string[] | undefined) ?? []), ...(v.base ? [] : split(positionals.shift()))];
  const candidate = [...((v.candidate as string[] | undefined) ?? []), ...(v.candidate ? [] : split(positionals.shift()))];
  if (base.length === 0 || candidate.length === 0) throw new RedlineError(ErrorCodes.USAGE, 'redline compare: expected a base and a candidate run directory (see redline compare --help)');
  if (positionals.length) throw new RedlineError(ErrorCodes.USAGE, `redline compare: unexpected argument "${positionals[0]}"`);
  const failOn = v['fail-on'] !== undefined ? parseFailOn(String(v['fail-on'])) : [];
  const noiseThreshold = v.noise !== undefined ? parseNoiseThreshold(String(v.noise)) : undefined;
  const cmp = await compareRuns(base, candidate, {
    ...(noiseThreshold !== undefined ? { noiseThreshold } : {}),
    force: Boolean(v.force),
    ...(v.seed !== undefined ? { seed: Number(v.seed) } : {}),
    appRoot: io.cwd,
  });
  const htmlPath = resolve(io.cwd, v.out !== undefined ? String(v.out) : join(candidate[0]!, 'compare.html'));
  await writeCompareHtml(cmp, htmlPath);
  const gate = evaluateGate(cmp, failOn);
  if (v.json) out(io, JSON.stringify({ ...cmp, html: htmlPath, failed: gate.regressed, undecided: gate.undecided }, null, 2));
  else {
    out(io, renderCompareTable(terminalSafe(cmp), { color: Boolean(io.stdout.isTTY) && !io.env.NO_COLOR }));
    out(io);
    out(io, `compare: ${relative(io.cwd, htmlPath)}`);
    if (gate.regressed.length) out(io, colours(io).red(`regressed: ${gate.regressed.join(', ')} (--fail-on)`));
    for (const u of gate.undecided) out(io, colours(io).red(`cannot decide ${u.metric}: ${u.reason} (--fail-on ${u.metric} fails when it cannot be decided)`));
  }
  return gate.regressed.length || gate.undecided.length ? ExitCodes.FAILURE : ExitCodes.OK;
}

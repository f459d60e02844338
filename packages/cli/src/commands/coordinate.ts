import { relative } from 'node:path';
import { ErrorCodes, RedlineError, parseDuration } from '@redline/core';
import { intFlag, parseCommandArgs } from '../args.js';
import { err, out, type CliIo } from '../io.js';
import { claimCoordinator, coordinateRun } from '../coordinate/coordinator.js';
import { connectCoordinator } from '../coordinate/redis.js';
import { printSummary, runExitCode } from './run.js';

export const COORDINATE_HELP = `Usage:
  redline coordinate --coordinator redis://HOST:PORT --run-id ID --instances N [--out DIR]

Merges a distributed run live: waits for the N instances of run ID ("redline run ... --coordinator
... --run-id ID --instances N" on each machine), merges their per-second histograms and counters,
evaluates thresholds across all of them every second (abortOnFail stops every instance), and writes
one merged run directory. Start it before the instances (or give them --no-coordinate).

Options:
  --out DIR            merged run directory (default .redline/runs/<time>-<name>)
  --meet-timeout D     how long to wait for every instance (default 10m)
  --lag-timeout D      an instance silent this long is marked lost (default 10s)
  --no-report          skip report.html
  --json               print the merged summary as JSON

Exit codes: 0 ok, 1 failure, 2 bad input or Redis unreachable, 99 thresholds failed. See docs/distributed.md.`;

const OPTIONS = {
  coordinator: { type: 'string' },
  'run-id': { type: 'string' },
  instances: { type: 'string' },
  out: { type: 'string', short: 'o' },
  'meet-timeout': { type: 'string' },
  'lag-timeout': { type: 'string' },
  'no-report': { type: 'boolean' },
} as const;

/** `redline coordinate`. */
export async function coordinateCommand(io: CliIo, args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('coordinate', args, OPTIONS);
  if (v.help) {
    out(io, COORDINATE_HELP);
    return 0;
  }
  if (positionals.length) throw new RedlineError(ErrorCodes.USAGE, `redline coordinate: unexpected argument "${positionals[0]}"`);
  if (v.coordinator === undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline coordinate: give --coordinator redis://HOST:PORT');
  if (v['run-id'] === undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline coordinate: give --run-id ID (the one the instances use)');
  const instances = intFlag('instances', v.instances);
  if (instances === undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline coordinate: give --instances N');
  const meetTimeoutMs = v['meet-timeout'] !== undefined ? parseDuration(String(v['meet-timeout']), '--meet-timeout') : 600_000;
  const lagMs = v['lag-timeout'] !== undefined ? parseDuration(String(v['lag-timeout']), '--lag-timeout') : 10_000;
  const runId = String(v['run-id']);
  const redis = await connectCoordinator(String(v.coordinator));
  const blocking = await connectCoordinator(String(v.coordinator));
  try {
    if (!(await claimCoordinator(redis, runId, `redline coordinate pid ${process.pid}`))) {
      throw new RedlineError(ErrorCodes.INSTANCE_MISMATCH, `run "${runId}" already has a coordinator (${(await redis.get(`redline:run:${runId}:coordinator`)) ?? 'unknown'})`);
    }
    err(io, `redline: coordinating run ${runId}: waiting for ${instances} instances`);
    const r = await coordinateRun({ redis: blocking, runId, instances, cwd: io.cwd, ...(v.out !== undefined ? { outDir: String(v.out) } : {}), meetTimeoutMs, lagMs, report: !v['no-report'], onEvent: (m) => err(io, `redline: ${m}`) });
    if (v.json) out(io, JSON.stringify({ runDir: r.runDir, report: r.reportPath, status: r.result.status, summary: r.result.summary, thresholds: r.result.thresholds, distributed: r.result.distributed }, null, 2));
    else {
      printSummary(io, r.result, r.runDir);
      if (r.reportPath) out(io, `  report: ${relative(io.cwd, r.reportPath)}`);
    }
    for (const m of r.result.distributed?.missing ?? []) err(io, `redline: missing from the merged result: ${m}`);
    return runExitCode(r.result, false);
  } finally {
    redis.disconnect();
    blocking.disconnect();
  }
}

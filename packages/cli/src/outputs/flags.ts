import { access, constants, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ErrorCodes, RedlineError, type RunResult } from '@redline/core';
import { intFlag } from '../args.js';
import { junitXml } from '../ci/junit.js';
import { appendStepSummary } from '../ci/step-summary.js';
import { err, type CliIo } from '../io.js';
import { Dashboard, DEFAULT_DASHBOARD_PORT } from '../dashboard/server.js';
import { OutputSet } from './output-set.js';
import { checkOutDirFlag, outputsFromFlags } from './registry.js';

/** parseArgs options of the streaming-output and CI flags (`run` and `demo`). */
export const OUTPUT_OPTIONS = {
  output: { type: 'string', multiple: true },
  dashboard: { type: 'boolean' },
  'dashboard-port': { type: 'string' },
  junit: { type: 'string' },
} as const;

/** Help text of those flags. */
export const OUTPUT_HELP = `Streaming outputs and CI:
  --output NAME=ARG      stream every second: json=FILE, csv=FILE, prometheus=URL (remote write),
                         otlp=URL (OTLP/HTTP JSON metrics); repeatable. Failed writes are counted, the run goes on
  --dashboard            live page on http://127.0.0.1:5665/ (charts over server-sent events)
  --dashboard-port N     dashboard port (default 5665; 0 picks a free one)
  --junit FILE           thresholds and checks as JUnit XML testcases
                         (a markdown summary is appended to $GITHUB_STEP_SUMMARY when it is set)`;

/** What the output flags asked for, checked before anything runs. */
export interface OutputPlan {
  set: OutputSet;
  dashboard: Dashboard | null;
  junitPath: string | null;
}

/** Checks `--output`, `--dashboard[-port]`, `--junit` (and `--out NAME=…` mistakes); opens nothing yet. */
export async function outputPlanFrom(v: Record<string, unknown>, io: CliIo): Promise<OutputPlan> {
  checkOutDirFlag(v.out);
  const outputs = outputsFromFlags(v.output, { cwd: io.cwd, env: io.env });
  const port = intFlag('dashboard-port', v['dashboard-port'], 0);
  if (port !== undefined && port > 65_535) throw new RedlineError(ErrorCodes.USAGE, `invalid --dashboard-port "${String(v['dashboard-port'])}": expected an integer from 0 to 65535`);
  if (port !== undefined && !v.dashboard) throw new RedlineError(ErrorCodes.USAGE, '--dashboard-port needs --dashboard');
  const dashboard = v.dashboard ? new Dashboard(port ?? DEFAULT_DASHBOARD_PORT) : null;
  let junitPath: string | null = null;
  if (v.junit !== undefined) {
    junitPath = resolve(io.cwd, String(v.junit));
    try {
      await access(dirname(junitPath), constants.W_OK);
    } catch (e) {
      throw new RedlineError(ErrorCodes.USAGE, `invalid --junit ${String(v.junit)}: cannot write in ${dirname(junitPath)} (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
  }
  return { set: new OutputSet(dashboard ? [...outputs, dashboard] : outputs), dashboard, junitPath };
}

/** Opens the outputs (files, the dashboard's port) and says where the dashboard is. */
export async function openOutputs(io: CliIo, plan: OutputPlan): Promise<void> {
  await plan.set.open();
  plan.set.onEvent((m) => err(io, `redline: ${m}`));
  if (plan.dashboard) err(io, `dashboard: ${plan.dashboard.url}`);
}

/**
 * After the run: the JUnit file and the GitHub step summary. A JUnit file that cannot be written
 * is REDLINE_ERR_WRITE_FAILED (CI would otherwise read a missing file as a pass); a step summary
 * that cannot be appended is a warning.
 */
export async function writeCiFiles(io: CliIo, plan: OutputPlan, r: RunResult, reportPath: string | null): Promise<void> {
  for (const p of plan.set.problems()) err(io, `redline: ${p}`);
  try {
    await appendStepSummary(io.env, r, reportPath);
  } catch (e) {
    err(io, `redline: could not append to GITHUB_STEP_SUMMARY ${io.env.GITHUB_STEP_SUMMARY}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  if (plan.junitPath) {
    try {
      await writeFile(plan.junitPath, junitXml(r));
    } catch (e) {
      throw new RedlineError(ErrorCodes.WRITE_FAILED, `cannot write ${plan.junitPath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
    }
  }
}

import { join, resolve } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { ErrorCodes, RedlineError, writeJsonAtomic, RESULT_FILE, type RunResult, type TargetReport } from '@redline/core';
import { diagnoseRunDir, createProfileModel, writeProfileExports, type CpuProfile } from '@redline/doctor';
import { plannedDurationMs, startLoad, writeRunDir, type LiveStatus, type LoadPlan } from '@redline/load';
import { aggregateSamples, attachInspector, launchTarget, profilesForAggregation, type AttachedTarget, type TargetHandle } from '@redline/probe/host';
import { REPORT_FILE, writeReport } from '@redline/report';
import { startRunTracing, TRACES_FILE, TRACES_OTLP_FILE, type RunTracing, type RunTracingOptions } from '@redline/trace';

/** How to reach the target process, if at all. */
export type TargetSpec =
  | { kind: 'launch'; command: string; waitForUrl?: string; startTimeoutMs?: number; cwd?: string }
  | { kind: 'attach'; hostPort: string };

/** Options of a full run: load, optional target probing, diagnosis, report. */
export interface SessionOptions {
  /** Builds the plan once the target is up (so the scenario can use REDLINE_TARGET_URL). */
  plan: (target: { url: string | null; port: number | null }) => Promise<LoadPlan>;
  target?: TargetSpec;
  workers?: number;
  /** Run directory; default `.redline/runs/<stamp>-<name>` under `cwd`. */
  outDir?: string;
  cwd: string;
  /** CPU sampling interval in µs (default 1000). */
  cpuIntervalUs?: number;
  heapProfile?: boolean;
  report?: boolean;
  onSecond?: (s: LiveStatus) => void;
  onEvent?: (message: string) => void;
  /**
   * Called once `result.json` (with findings) is written and before the HTML report: the CLI prints
   * the summary here, so a report that cannot be written never hides the result.
   */
  onResult?: (result: RunResult, runDir: string) => void;
  /** Registers the stop controls (Ctrl-C handling lives in the CLI). */
  controls?: (c: { stop(): void; abort(): void }) => void;
  /** Environment to extend for the scenario (REDLINE_TARGET_URL etc. are set here). */
  env: Record<string, string | undefined>;
  /** Traces under load (`--trace`): receiver, target instrumentation, "Where the time goes". */
  trace?: Pick<RunTracingOptions, 'sampleRatio' | 'port' | 'exportUrl' | 'ownSdk'>;
}

/** What a session produced. */
export interface SessionOutcome {
  result: RunResult;
  runDir: string;
  reportPath: string | null;
  /** Why `report.html` could not be written (`REDLINE_ERR_REPORT_FAILED`), else null; the run and result.json stand. */
  reportError: RedlineError | null;
}

/** The error for a report that could not be written: names the file, keeps the cause. */
export function reportFailed(path: string, cause: unknown): RedlineError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new RedlineError(ErrorCodes.REPORT_FAILED, `could not write the HTML report ${path}: ${why}`, { cause });
}

/** Where, within the planned run, the CPU profile is taken: the steady state, away from ramp edges. */
export function profileWindowMs(plannedMs: number): { startMs: number; endMs: number } {
  const startMs = Math.min(10_000, Math.max(1000, plannedMs * 0.1));
  const endMs = Math.max(startMs + 500, plannedMs - Math.min(5000, Math.max(500, plannedMs * 0.05)));
  return { startMs, endMs };
}

/**
 * Runs a whole session: starts (or attaches to) the target with the probe, runs the load, takes a
 * CPU profile over the steady-state window, stops the target, writes the run directory, diagnoses
 * it and writes the HTML report. The target's data and the load share one epoch-ms clock.
 */
export async function runSession(o: SessionOptions): Promise<SessionOutcome> {
  const cpuIntervalUs = o.cpuIntervalUs ?? 1000;
  const tracing: RunTracing | null = o.trace
    ? await startRunTracing({ ...o.trace, mode: o.target?.kind === 'launch' ? 'launch' : 'attach', cwd: o.target?.kind === 'launch' ? (o.target.cwd ?? o.cwd) : o.cwd, ...(o.onEvent ? { onEvent: o.onEvent } : {}) })
    : null;
  try {
    return await runTracedSession(o, tracing, cpuIntervalUs);
  } finally {
    await tracing?.close();
  }
}

async function runTracedSession(o: SessionOptions, tracing: RunTracing | null, cpuIntervalUs: number): Promise<SessionOutcome> {
  let launched: TargetHandle | null = null;
  let attached: AttachedTarget | null = null;
  let exit: TargetReport['exit'] = null;
  if (o.target?.kind === 'launch') {
    o.onEvent?.(`starting target: ${o.target.command}`);
    launched = await launchTarget({
      command: o.target.command,
      cwd: o.target.cwd ?? o.cwd,
      cpuSamplingIntervalUs: cpuIntervalUs,
      heapProfile: o.heapProfile ?? false,
      ...(tracing ? { env: tracing.targetEnv } : {}),
      ...(o.target.waitForUrl ? { waitForUrl: o.target.waitForUrl } : {}),
      ...(o.target.startTimeoutMs ? { startTimeoutMs: o.target.startTimeoutMs } : {}),
    });
    o.onEvent?.(`target ready (pid ${launched.probePid ?? launched.pid}${launched.port ? `, port ${launched.port}` : ''})`);
    await tracing?.checkTarget();
  } else if (o.target?.kind === 'attach') {
    attached = await attachInspector(o.target.hostPort, { cpuSamplingIntervalUs: cpuIntervalUs });
    o.onEvent?.(`attached to pid ${attached.pid} via ${o.target.hostPort}`);
  }
  const port = launched?.port ?? null;
  const url = port ? `http://127.0.0.1:${port}` : null;
  if (url) {
    o.env.REDLINE_TARGET_URL = url;
    o.env.REDLINE_TARGET_PORT = String(port);
  }
  const probed = launched ?? attached;
  let stopping = false;
  try {
    const plan: LoadPlan = await o.plan({ url, port });
    const run = startLoad(plan, { ...(o.workers !== undefined ? { workers: o.workers } : {}), ...(o.onSecond ? { onSecond: o.onSecond } : {}), ...(tracing ? tracing.load : {}) });
    o.controls?.(run);
    const plannedMs = plannedDurationMs(plan);
    let runStart = 0;
    let profiling: Promise<void> | null = null;
    const timers: NodeJS.Timeout[] = [];
    let cpu: Awaited<ReturnType<TargetHandle['stopCpuProfile']>> | null = null;
    let heap: { profile: Record<string, unknown> } | null = null;
    const stopProfiles = async (): Promise<void> => {
      if (!probed || !profiling) return;
      const p = profiling;
      profiling = null;
      try {
        await p;
        cpu = (await probed.stopCpuProfile()) as typeof cpu;
        if (o.heapProfile) heap = await probed.stopHeapProfile();
      } catch (err) {
        o.onEvent?.(`could not collect the profile: ${(err as Error).message}`);
      }
    };
    if (launched) {
      void launched.exited.then((e) => {
        // Our own stop at the end is no crash.
        if (runStart && !exit && !stopping) {
          exit = { code: e.code, signal: e.signal, t: Math.max(0, (e.atEpochMs - runStart) / 1000) };
          o.onEvent?.(`target exited (${e.signal ?? `code ${e.code}`}) at t=${exit.t.toFixed(1)}s`);
        }
      });
    }
    void run.started.then((t) => {
      runStart = t;
      if (!probed) return;
      const w = profileWindowMs(plannedMs);
      timers.push(
        setTimeout(() => {
          profiling = probed.startCpuProfile().then(() => (o.heapProfile ? probed.startHeapProfile() : undefined));
          profiling.catch(() => undefined);
        }, Math.max(0, t + w.startMs - Date.now())),
        setTimeout(() => void stopProfiles(), Math.max(0, t + w.endMs - Date.now())),
      );
    }, () => undefined);
    let result: RunResult;
    try {
      result = await run.result;
    } finally {
      for (const t of timers) clearTimeout(t);
    }
    await stopProfiles();

    const runDir = await writeRunDir(result, o.outDir, o.cwd);
    if (tracing) {
      const percentiles = Object.fromEntries(Object.entries(result.summary.byName).map(([n, t]) => [n, { p50Ms: t.latency.p50, p99Ms: t.latency.p99 }]));
      const traced = await tracing.finish(runDir, percentiles);
      if (traced.notes.length) result.warnings = [...(result.warnings ?? []), ...traced.notes];
      result.traces = {
        file: TRACES_FILE,
        otlpFile: traced.spansSaved > 0 ? TRACES_OTLP_FILE : null,
        sampleRatio: traced.sampleRatio,
        spansReceived: traced.receiver.spansReceived,
        spansSaved: traced.spansSaved,
        tracesKept: traced.records.length,
      };
    }
    if (probed) {
      const samplesRaw = probed.samples();
      const cpuResult = cpu as Awaited<ReturnType<TargetHandle['stopCpuProfile']>> | null;
      const profiles: TargetReport['profiles'] = {};
      let profileWindow: TargetReport['profileWindow'] = null;
      if (cpuResult) {
        const model = createProfileModel(cpuResult.profile as unknown as CpuProfile, { startEpochMs: cpuResult.startEpochMs, appRoot: resolve(o.target?.kind === 'launch' ? (o.target.cwd ?? o.cwd) : o.cwd) });
        Object.assign(profiles, await writeProfileExports(model, runDir));
        profileWindow = { startS: (cpuResult.startEpochMs - runStart) / 1000, endS: (cpuResult.endEpochMs - runStart) / 1000 };
        if (cpuResult.threads) {
          profiles.threads = {};
          for (const [label, tp] of Object.entries(cpuResult.threads)) {
            const file = `cpu-${label}.cpuprofile`;
            await writeFile(join(runDir, file), JSON.stringify(tp.profile));
            profiles.threads[label] = file;
          }
        }
      }
      const heapResult = heap as { profile: Record<string, unknown> } | null;
      if (heapResult) {
        await writeFile(join(runDir, 'heap.heapprofile'), JSON.stringify(heapResult.profile));
        profiles.heapprofile = 'heap.heapprofile';
      }
      result.target = {
        command: o.target?.kind === 'launch' ? o.target.command : null,
        attach: o.target?.kind === 'attach' ? o.target.hostPort : null,
        pid: launched ? (launched.probePid ?? launched.pid) : (attached?.pid ?? null),
        samples: aggregateSamples(samplesRaw, runStart, cpuResult ? { cpuProfiles: profilesForAggregation(cpuResult) } : {}),
        exit,
        profiles,
        profileWindow,
      };
    }
    await writeJsonAtomic(join(runDir, RESULT_FILE), result);
    const appRoot = resolve(o.target?.kind === 'launch' ? (o.target.cwd ?? o.cwd) : o.cwd);
    const { findings } = await diagnoseRunDir(runDir, { appRoot });
    result.findings = findings;
    await writeJsonAtomic(join(runDir, RESULT_FILE), result);
    o.onResult?.(result, runDir);
    let reportPath: string | null = null;
    let reportError: RedlineError | null = null;
    if (o.report !== false) {
      try {
        reportPath = await writeReport(runDir, { appRoot });
      } catch (err) {
        reportError = reportFailed(join(runDir, REPORT_FILE), err);
      }
    }
    return { result, runDir, reportPath, reportError };
  } finally {
    stopping = true;
    if (launched) await launched.stop().catch(() => undefined);
    if (attached) await attached.detach().catch(() => undefined);
  }
}

/** Guards the `--target` / `--attach` combination. */
export function targetSpecFrom(values: { target?: unknown; attach?: unknown; 'wait-for'?: unknown; 'start-timeout'?: unknown }, parseMs: (v: string) => number): TargetSpec | undefined {
  if (values.target !== undefined && values.attach !== undefined) throw new RedlineError(ErrorCodes.USAGE, 'give either --target (start the target) or --attach (connect to a running one), not both');
  if (values.target !== undefined) {
    return {
      kind: 'launch',
      command: String(values.target),
      ...(values['wait-for'] !== undefined ? { waitForUrl: String(values['wait-for']) } : {}),
      ...(values['start-timeout'] !== undefined ? { startTimeoutMs: parseMs(String(values['start-timeout'])) } : {}),
    };
  }
  if (values.attach !== undefined) return { kind: 'attach', hostPort: String(values.attach) };
  return undefined;
}

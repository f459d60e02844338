import { join, resolve } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { ErrorCodes, RedlineError, isRedlineError, writeJsonAtomic, RESULT_FILE, type RunResult, type TargetReport } from '@redline/core';
import { diagnoseRunDir, createProfileModel, writeProfileExports, type CpuProfile } from '@redline/doctor';
import { plannedDurationMs, startLoad, writeRunDir, type LiveStatus, type LoadPlan, type LoadRun, type RunLoadOptions } from '@redline/load';
import { aggregateSamples, attachInspector, defaultCpuSamplingIntervalUs, launchTarget, parseTargetNodeOptions, profilesForAggregation, type AttachedTarget, type TargetHandle } from '@redline/probe/host';
import { REPORT_FILE, writeReport } from '@redline/report';
import { channelFields } from './pool-fields.js';
import { prepareOutDir } from './out-dir.js';
import type { OutputSet } from './outputs/output-set.js';
import { LeakEvidence, type LeakEvidenceOptions } from './leak-evidence.js';
import { startRunTracing, TRACES_FILE, TRACES_OTLP_FILE, type RunTracing, type RunTracingOptions } from '@redline/trace';

/** How to reach the target process, if at all. */
export type TargetSpec =
  | { kind: 'launch'; command: string; waitForUrl?: string; startTimeoutMs?: number; cwd?: string; /** V8/Node flags for the target (`--target-node-options`). */ nodeOptions?: string[] }
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
  /**
   * CPU sampling interval in µs. Default: {@link defaultCpuSamplingIntervalUs} of the profile window
   * (10 ms for runs of 12 s and more, finer for shorter runs, never under 1 ms), so the profiler costs
   * the target little while the window still gets about a thousand samples.
   */
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
  controls?: (c: { stop(): void; abort(): void; phase?: 'starting' }) => void;
  /** Environment to extend for the scenario (REDLINE_TARGET_URL etc. are set here). */
  env: Record<string, string | undefined>;
  /** Traces under load (`--trace`): receiver, target instrumentation, "Where the time goes". */
  trace?: Pick<RunTracingOptions, 'sampleRatio' | 'port' | 'exportUrl' | 'ownSdk'>;
  /** Report pool clients held longer than this (`--pool-leak-ms`); launched targets only. */
  poolLeakMs?: number;
  /** The command line to record in `config.commandLine` (already redacted). */
  commandLine?: string[];
  /**
   * Streaming outputs and the dashboard (`--output`, `--dashboard`), already opened: they get every
   * second and the final result; failed writes end up in `result.warnings`, never fail the run.
   */
  outputs?: OutputSet;
  /** Load options of a distributed run's instance: its segment, the agreed start, the per-second stream. */
  load?: Pick<RunLoadOptions, 'segment' | 'startAt' | 'onIntervals'>;
  /** Receives the running load (a distributed run's instance watches for the coordinator's abort). */
  onLoad?: (run: LoadRun) => void;
  /** Forced full GCs and heap snapshots for the leak rule (launched targets; defaults: on, `auto`). */
  leak?: LeakEvidenceOptions;
}

/** What a session produced. */
export interface SessionOutcome {
  result: RunResult;
  runDir: string;
  reportPath: string | null;
  /** Why `report.html` could not be written (`REDLINE_ERR_REPORT_FAILED`), else null; the run and result.json stand. */
  reportError: RedlineError | null;
  /**
   * Set when a result file could not be written (disk full, …): REDLINE_ERR_WRITE_FAILED naming the
   * file. The result is still complete in memory, so the summary can be printed.
   */
  writeError: RedlineError | null;
}

/** The error for a report that could not be written: names the file, keeps the cause. */
export function reportFailed(path: string, cause: unknown): RedlineError {
  // A failed write already says "cannot write <path>: ENOSPC …": keep only the reason.
  const why = isRedlineError(cause, ErrorCodes.WRITE_FAILED) ? cause.message.replace(`cannot write ${path}: `, '') : cause instanceof Error ? cause.message : String(cause);
  return new RedlineError(ErrorCodes.REPORT_FAILED, `could not write the HTML report ${path}: ${why}`, { cause });
}

/** A file-system failure while writing the run directory, as REDLINE_ERR_WRITE_FAILED naming the file. */
function asWriteError(err: unknown): RedlineError | null {
  if (isRedlineError(err, ErrorCodes.WRITE_FAILED)) return err;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && typeof e.syscall === 'string') {
    return new RedlineError(ErrorCodes.WRITE_FAILED, `cannot write ${e.path ?? 'the run directory'}: ${e.code}${e.code === 'ENOSPC' ? ' (no space left on the device)' : ''}`, { cause: err });
  }
  return null;
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
  const tracing: RunTracing | null = o.trace
    ? await startRunTracing({ ...o.trace, mode: o.target?.kind === 'launch' ? 'launch' : 'attach', cwd: o.target?.kind === 'launch' ? (o.target.cwd ?? o.cwd) : o.cwd, ...(o.onEvent ? { onEvent: o.onEvent } : {}) })
    : null;
  try {
    return await runTracedSession(o, tracing);
  } finally {
    await tracing?.close();
  }
}

async function runTracedSession(o: SessionOptions, tracing: RunTracing | null): Promise<SessionOutcome> {
  let launched: TargetHandle | null = null;
  let attached: AttachedTarget | null = null;
  let exit: TargetReport['exit'] = null;
  // Checked before anything starts: a run whose results cannot be written is not worth running.
  await prepareOutDir(o.outDir, o.cwd);
  if (o.target?.kind === 'launch') {
    o.onEvent?.(`starting target: ${o.target.command}`);
    // Ctrl-C while the target starts stops it at once instead of waiting out the start timeout.
    const starting = new AbortController();
    o.controls?.({ stop: () => starting.abort(), abort: () => starting.abort(), phase: 'starting' });
    const targetEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(o.env)) if (v !== undefined) targetEnv[k] = v;
    launched = await launchTarget({
      command: o.target.command,
      cwd: o.target.cwd ?? o.cwd,
      env: { ...targetEnv, ...(tracing?.targetEnv ?? {}) },
      signal: starting.signal,
      heapProfile: o.heapProfile ?? false,
      ...(o.target.waitForUrl ? { waitForUrl: o.target.waitForUrl } : {}),
      ...(o.target.startTimeoutMs ? { startTimeoutMs: o.target.startTimeoutMs } : {}),
      ...(o.poolLeakMs !== undefined ? { poolLeakMs: o.poolLeakMs } : {}),
      ...(o.target.nodeOptions?.length ? { nodeOptions: o.target.nodeOptions.join(' ') } : {}),
    });
    o.onEvent?.(`target ready (pid ${launched.probePid ?? launched.pid}${launched.port ? `, port ${launched.port}` : ''})`);
    await tracing?.checkTarget();
  } else if (o.target?.kind === 'attach') {
    attached = await attachInspector(o.target.hostPort);
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
  let evidence: LeakEvidence | null = null;
  try {
    const plan: LoadPlan = await o.plan({ url, port });
    const outputs = o.outputs;
    outputs?.start({ name: plan.config.name, runId: `${plan.config.name}-${Date.now()}`, plannedMs: plannedDurationMs(plan) });
    const onSecond = outputs
      ? (s: LiveStatus): void => {
          o.onSecond?.(s);
          outputs.second(s);
        }
      : o.onSecond;
    const run = startLoad(plan, { ...(o.workers !== undefined ? { workers: o.workers } : {}), ...(onSecond ? { onSecond } : {}), ...(tracing ? tracing.load : {}), ...(o.load ?? {}) });
    o.controls?.(run);
    o.onLoad?.(run);
    const plannedMs = plannedDurationMs(plan);
    evidence = launched ? new LeakEvidence(launched, plannedMs, o.leak, (m) => o.onEvent?.(m)) : null;
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
      evidence?.start(t);
      if (!probed) return;
      const w = profileWindowMs(plannedMs);
      const samplingIntervalUs = o.cpuIntervalUs ?? defaultCpuSamplingIntervalUs(w.endMs - w.startMs);
      timers.push(
        setTimeout(() => {
          profiling = probed.startCpuProfile({ samplingIntervalUs }).then(() => (o.heapProfile ? probed.startHeapProfile() : undefined));
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
    await evidence?.finish(runStart);
    await stopProfiles();
    return await writeOutputs(o, result, { probed, launched, attached, cpu, heap, runStart, exit, tracing, evidence });
  } finally {
    stopping = true;
    await evidence?.stop();
    await evidence?.dispose();
    if (launched) await launched.stop().catch(() => undefined);
    if (attached) await attached.detach().catch(() => undefined);
  }
}

/** What the load phase hands to the writing phase. */
interface Collected {
  probed: TargetHandle | AttachedTarget | null;
  launched: TargetHandle | null;
  attached: AttachedTarget | null;
  cpu: Awaited<ReturnType<TargetHandle['stopCpuProfile']>> | null;
  heap: { profile: Record<string, unknown> } | null;
  runStart: number;
  exit: TargetReport['exit'];
  tracing: RunTracing | null;
  evidence: LeakEvidence | null;
}

/**
 * Writes the run directory (result, profiles), diagnoses it and writes the report. A file that cannot
 * be written ends the writing, not the session: the outcome carries the error and the full result.
 */
async function writeOutputs(o: SessionOptions, result: RunResult, c: Collected): Promise<SessionOutcome> {
  const { probed, launched, attached, cpu, heap, runStart, exit, tracing, evidence } = c;
  let runDir = o.outDir ?? join(o.cwd, '.redline', 'runs');
  if (o.commandLine !== undefined) result.config.commandLine = o.commandLine;
  await o.outputs?.settle();
  const outputProblems = o.outputs?.problems() ?? [];
  if (outputProblems.length) result.warnings = [...(result.warnings ?? []), ...outputProblems];
  try {
    runDir = await writeRunDir(result, o.outDir, o.cwd);
    if (tracing) {
      const percentiles = Object.fromEntries(Object.entries(result.summary.byName).map(([n, t]) => [n, { p50Ms: t.latency?.p50 ?? 0, p99Ms: t.latency?.p99 ?? 0 }]));
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
      // Read while the target still runs, so settings assigned after listen() count.
      const servers = launched ? await launched.serverSettings().catch(() => []) : [];
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
        ...(launched ? channelFields(launched, runStart) : {}),
        ...(o.target?.kind === 'launch' && o.target.nodeOptions?.length ? { nodeOptions: o.target.nodeOptions } : {}),
        ...(evidence ? await evidence.report(runDir, runStart) : {}),
        ...(servers.length > 0 ? { servers } : {}),
      };
      const skipped = result.target.heapSnapshots?.skipped;
      if (skipped?.code) result.warnings = [...(result.warnings ?? []), skipped.message];
    }
    await writeJsonAtomic(join(runDir, RESULT_FILE), result);
    const { findings } = await diagnoseRunDir(runDir, { appRoot: appRootOf(o) });
    result.findings = findings;
    await writeJsonAtomic(join(runDir, RESULT_FILE), result);
    await o.outputs?.end(result);
    o.onResult?.(result, runDir);
  } catch (err) {
    const writeError = asWriteError(err);
    if (!writeError) throw err;
    await o.outputs?.end(result);
    return { result, runDir, reportPath: null, reportError: null, writeError };
  }
  let reportPath: string | null = null;
  let reportError: RedlineError | null = null;
  if (o.report !== false) {
    try {
      reportPath = await writeReport(runDir, { appRoot: appRootOf(o) });
    } catch (err) {
      reportError = reportFailed(join(runDir, REPORT_FILE), err);
    }
  }
  return { result, runDir, reportPath, reportError, writeError: null };
}

function appRootOf(o: SessionOptions): string {
  return resolve(o.target?.kind === 'launch' ? (o.target.cwd ?? o.cwd) : o.cwd);
}

/** Guards the `--target` / `--attach` combination. */
export function targetSpecFrom(values: { target?: unknown; attach?: unknown; 'wait-for'?: unknown; 'start-timeout'?: unknown; 'target-node-options'?: unknown }, parseMs: (v: string) => number): TargetSpec | undefined {
  if (values.target !== undefined && values.attach !== undefined) throw new RedlineError(ErrorCodes.USAGE, 'give either --target (start the target) or --attach (connect to a running one), not both');
  if (values['target-node-options'] !== undefined && values.target === undefined) {
    throw new RedlineError(ErrorCodes.USAGE, '--target-node-options needs --target (the flags go to a target Redline starts)');
  }
  if (values.target !== undefined) {
    const nodeOptions = values['target-node-options'] === undefined ? [] : parseTargetNodeOptions(String(values['target-node-options']));
    return {
      kind: 'launch',
      command: String(values.target),
      ...(nodeOptions.length ? { nodeOptions } : {}),
      ...(values['wait-for'] !== undefined ? { waitForUrl: String(values['wait-for']) } : {}),
      ...(values['start-timeout'] !== undefined ? { startTimeoutMs: parseMs(String(values['start-timeout'])) } : {}),
    };
  }
  if (values.attach !== undefined) return { kind: 'attach', hostPort: String(values.attach) };
  return undefined;
}

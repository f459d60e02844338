import { ErrorCodes, LatencyHistogram, RedlineError, readRunResult, type RunResult } from '@redline/core';
import type { StepMeasurement, StepRunner } from './search.js';
import { parseSlo, type Slo } from './slo.js';

/** One second of an overload experiment. */
export interface OverloadSecond {
  /** Seconds since the experiment started (end of this second). */
  t: number;
  /** Intended arrival rate in that second, per second. */
  offered: number;
  /** Responses within the SLO latency that did not fail, in that second. */
  goodput: number;
  requests: number;
  errors: number;
  /** p99 latency of all responses in that second, ms; null in a second without responses. */
  p99Ms: number | null;
}

/** One held load level of the experiment. */
export interface OverloadStep {
  index: number;
  /** Multiple of the maximum sustainable rate. */
  multiplier: number;
  offeredRate: number;
  durationMs: number;
  /** Mean goodput per second over the step. */
  goodput: number;
  /** 2xx responses per second. */
  throughput: number;
  errorRate: number;
  /** p99 latency of the successful (2xx) responses, ms: what admitted requests saw. */
  admittedP99Ms: number;
  /** p99 latency of every response, ms. */
  p99Ms: number;
  /** Errors by kind over the step (`http_5xx` are the limiter's 503s, `timeout` the client giving up). */
  errorsByKind: Record<string, number>;
  seconds: OverloadSecond[];
  runDir?: string;
}

/** Did goodput come back after the overload? */
export interface OverloadRecovery {
  /** Goodput per second of the first (unloaded) step, the level to come back to. */
  baselineGoodput: number;
  /** Seconds into the final step until goodput reached 90 % of the baseline and stayed there on average; null if never. */
  seconds: number | null;
  /** The window a recovery must happen in, ms. */
  withinMs: number;
  recovered: boolean;
}

/** Result of {@link runOverload} for one service. */
export interface OverloadResult {
  label: string;
  slo: Slo;
  maxRate: number;
  steps: OverloadStep[];
  /** Highest step goodput. */
  peakGoodput: number;
  /** Admitted p99 of the first step (the unloaded reference), ms. */
  unloadedP99Ms: number;
  recovery: OverloadRecovery;
  /** Goodput did not come back within the recovery window after the load dropped. */
  metastable: boolean;
}

/** Options of {@link runOverload}. */
export interface OverloadOptions {
  label: string;
  slo: Slo | string;
  /** The maximum sustainable rate, per second (searched by `searchCapacity` or given). */
  maxRate: number;
  /** Load levels as multiples of maxRate, held in order; the last one is the recovery step. Default [0.5, 1, 2, 3, 4, 0.5]. */
  multipliers?: readonly number[];
  /** Duration of each step but the last, ms. Default 5000. */
  stepDurationMs?: number;
  /** Duration of the last (recovery) step, ms; at least `recoverWithinMs`. Default 10000. */
  recoveryDurationMs?: number;
  /** Goodput must come back within this, ms. Default 5000. */
  recoverWithinMs?: number;
  /**
   * A first, unmeasured step at the first level, ms (0: none). A freshly launched target's first
   * seconds (JIT, connection set-up, the probe attaching) are slower than its steady state, and the
   * first step is the unloaded reference the admitted p99 is compared with. Default 0.
   */
  warmupMs?: number;
  /** Reads a step's run (default `readRunResult(runDir)`); the runner must write run directories. */
  readRun?: (runDir: string) => Promise<RunResult>;
  onStep?: (step: OverloadStep) => void;
  signal?: AbortSignal;
}

/** The default level sequence: half the capacity, up to four times it, and back to half. */
export const DEFAULT_OVERLOAD_MULTIPLIERS = [0.5, 1, 2, 3, 4, 0.5] as const;

function invalid(message: string): RedlineError {
  return new RedlineError(ErrorCodes.INVALID_ARGUMENT, message);
}

/** Responses at or under `limitMs` in an encoded per-second histogram. */
export function countWithin(encoded: string, limitMs: number): number {
  let n = 0;
  for (const [valueMs, count] of LatencyHistogram.decode(encoded).buckets()) if (valueMs <= limitMs) n += count;
  return n;
}

/**
 * Per-second goodput of a run: responses within the SLO latency, less that second's failures that
 * may sit inside the latency bound (refusals such as a limiter's 503 are fast and must not count as
 * good). A timeout is a request the client gave up on, recorded at the request timeout or later:
 * outside the bound when the timeout is longer than the SLO's latency limit, but inside it when the
 * limit is at or above the timeout (`p(99)<5000` with a 2 s timeout), where the abandoned requests
 * would otherwise count as goodput. Those inside are at most the responses recorded between the
 * timeout and the limit, and are subtracted.
 */
export function goodputSeconds(result: RunResult, slo: Slo, offsetS: number, fallbackRate: number, scheduleS?: number): OverloadSecond[] {
  const timeoutMs = result.config?.timeoutMs;
  const seconds = result.timeseries.map((p, i) => {
    const encoded = result.histograms.intervals[i];
    const within = encoded ? countWithin(encoded, slo.limitMs) : 0;
    const timeouts = p.errorsByKind.timeout ?? 0;
    // 1 % under the timeout: the histogram's buckets round a value down by up to its precision.
    const abandonedWithin = encoded && timeouts > 0 && typeof timeoutMs === 'number' && timeoutMs > 0 && slo.limitMs >= 0.99 * timeoutMs ? Math.min(timeouts, within - countWithin(encoded, 0.99 * timeoutMs)) : 0;
    const failedWithin = p.errors - timeouts + abandonedWithin;
    return {
      t: offsetS + p.t,
      offered: p.intendedRate ?? fallbackRate,
      goodput: Math.max(0, within - failedWithin),
      requests: p.requests,
      errors: p.errors,
      p99Ms: p.latency?.p99 ?? null,
    };
  });
  return scheduleS === undefined ? seconds : foldDrain(seconds, offsetS + scheduleS);
}

/**
 * Seconds that begin after the schedule ended (`endS`, on the same clock) hold only the stragglers of
 * the last second's requests: they are added to the last scheduled second, so that a drain second
 * nothing was offered in neither lowers the step's mean goodput (a 1 s step read as half its
 * goodput) nor breaks a recovery that held to the end.
 */
function foldDrain(seconds: OverloadSecond[], endS: number): OverloadSecond[] {
  const kept = seconds.filter((s, i) => i === 0 || s.t - 1 < endS - 0.05);
  const last = kept.at(-1);
  if (last === undefined || kept.length === seconds.length) return seconds;
  for (const d of seconds.slice(kept.length)) {
    last.goodput += d.goodput;
    last.requests += d.requests;
    last.errors += d.errors;
  }
  return kept;
}

/** When goodput came back in the recovery step's seconds: the first second from which it holds ≥ 90 % of the baseline on average. */
export function recoverySeconds(seconds: readonly OverloadSecond[], baseline: number): number | null {
  const target = 0.9 * baseline;
  for (let k = 0; k < seconds.length; k++) {
    const rest = seconds.slice(k);
    const mean = rest.reduce((a, s) => a + s.goodput, 0) / rest.length;
    if (seconds[k]!.goodput >= target && mean >= target) return k + 1;
  }
  return null;
}

/**
 * Runs the overload experiment on one service: holds each level of `multipliers × maxRate` in turn
 * (open model), measures goodput per second, the admitted requests' p99 per step, and whether
 * goodput recovers within `recoverWithinMs` once the load falls back (a metastable failure when it
 * does not). A step that measured no requests throws REDLINE_ERR_INVALID_ARGUMENT naming it, so
 * an experiment that measured nothing never passes as a result.
 */
export async function runOverload(runStep: StepRunner, options: OverloadOptions): Promise<OverloadResult> {
  const slo = typeof options.slo === 'string' ? parseSlo(options.slo) : options.slo;
  if (!(options.maxRate > 0 && Number.isFinite(options.maxRate))) throw invalid(`maxRate must be a finite number > 0, got ${options.maxRate}`);
  const multipliers = [...(options.multipliers ?? DEFAULT_OVERLOAD_MULTIPLIERS)];
  if (multipliers.length < 2 || multipliers.some((m) => !(m > 0 && Number.isFinite(m)))) {
    throw invalid(`multipliers must be at least two positive numbers, got ${multipliers.join(',')}`);
  }
  const stepMs = options.stepDurationMs ?? 5000;
  const recoverWithinMs = options.recoverWithinMs ?? 5000;
  const recoveryMs = Math.max(options.recoveryDurationMs ?? 10_000, recoverWithinMs);
  const readRun = options.readRun ?? readRunResult;
  const signal = options.signal ?? new AbortController().signal;
  const steps: OverloadStep[] = [];
  let offsetS = 0;
  const warmupMs = options.warmupMs ?? 0;
  if (!(warmupMs >= 0 && Number.isFinite(warmupMs))) throw invalid(`warmupMs must be a finite number ≥ 0, got ${warmupMs}`);
  if (warmupMs > 0) {
    signal.throwIfAborted();
    await runStep({ model: 'open', level: Math.max(1, Math.round(options.maxRate * multipliers[0]!)), durationMs: warmupMs, warmupMs: 0 }, signal);
  }
  for (let i = 0; i < multipliers.length; i++) {
    signal.throwIfAborted();
    const multiplier = multipliers[i]!;
    const level = Math.max(1, Math.round(options.maxRate * multiplier));
    const durationMs = i === multipliers.length - 1 ? recoveryMs : stepMs;
    // A child signal per step, so the steps' abort listeners do not pile up on the caller's signal.
    const step = new AbortController();
    const forward = (): void => step.abort(signal.reason);
    signal.addEventListener('abort', forward, { once: true });
    let m: StepMeasurement;
    try {
      m = await runStep({ model: 'open', level, durationMs, warmupMs: 0 }, step.signal);
    } finally {
      signal.removeEventListener('abort', forward);
    }
    if (!m.runDir) throw invalid('the overload step runner must write run directories (give loadStepRunner an outDir)');
    const run = await readRun(m.runDir);
    if (run.summary.requests === 0) throw invalid(`overload step ${i + 1} (${level}/s) measured no requests`);
    const seconds = goodputSeconds(run, slo, offsetS, level, durationMs / 1000);
    offsetS += seconds.length;
    const ok = run.summary.byStatusClass['2xx'];
    const result: OverloadStep = {
      index: i + 1,
      multiplier,
      offeredRate: level,
      durationMs,
      goodput: seconds.length ? seconds.reduce((a, s) => a + s.goodput, 0) / seconds.length : 0,
      throughput: ok?.throughput ?? 0,
      errorRate: run.summary.requests ? run.summary.errors / run.summary.requests : 0,
      admittedP99Ms: ok?.latency?.p99 ?? 0,
      p99Ms: run.summary.latency?.p99 ?? 0,
      errorsByKind: run.summary.errorsByKind,
      seconds,
      runDir: m.runDir,
    };
    steps.push(result);
    options.onStep?.(result);
  }
  const first = steps[0]!;
  const last = steps.at(-1)!;
  const baselineGoodput = first.goodput;
  const rec = recoverySeconds(last.seconds, baselineGoodput);
  const recovered = rec !== null && rec * 1000 <= recoverWithinMs;
  return {
    label: options.label,
    slo,
    maxRate: options.maxRate,
    steps,
    peakGoodput: Math.max(...steps.map((s) => s.goodput)),
    unloadedP99Ms: first.admittedP99Ms,
    recovery: { baselineGoodput, seconds: rec, withinMs: recoverWithinMs, recovered },
    metastable: !recovered,
  };
}

/** The step held at `multiplier` during the rise (the first such step after the first one). */
export function stepAt(result: OverloadResult, multiplier: number): OverloadStep | undefined {
  return result.steps.slice(1, -1).find((s) => s.multiplier === multiplier);
}

/** One line per step and the verdicts, for the terminal. */
export function renderOverloadText(results: readonly OverloadResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${r.label}: max sustainable ${fmtN(r.maxRate)}/s, SLO ${r.slo.expression}, unloaded admitted p99 ${fmtN(r.unloadedP99Ms)} ms`);
    lines.push('  load    offered/s  goodput/s  2xx/s   errors  admitted p99  p99');
    for (const s of r.steps) {
      lines.push(
        `  ${`${s.multiplier}×`.padEnd(6)}  ${fmtN(s.offeredRate).padStart(9)}  ${fmtN(s.goodput).padStart(9)}  ${fmtN(s.throughput).padStart(6)}  ${`${(s.errorRate * 100).toFixed(1)}%`.padStart(6)}  ${`${fmtN(s.admittedP99Ms)} ms`.padStart(12)}  ${fmtN(s.p99Ms)} ms`,
      );
    }
    const at3 = stepAt(r, 3);
    if (at3) {
      lines.push(`  at 3×: goodput ${pct(at3.goodput / r.peakGoodput)} of peak, admitted p99 ${(at3.admittedP99Ms / Math.max(r.unloadedP99Ms, 1e-9)).toFixed(2)}× unloaded`);
    }
    lines.push(
      r.recovery.recovered
        ? `  recovered: goodput back to 90 % of ${fmtN(r.recovery.baselineGoodput)}/s within ${r.recovery.seconds} s of the load dropping`
        : `  METASTABLE: goodput ${r.recovery.seconds === null ? 'did not come back' : `took ${r.recovery.seconds} s to come back`} (window ${r.recovery.withinMs / 1000} s) after the load dropped`,
    );
  }
  return lines.join('\n');
}

function fmtN(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

function pct(x: number): string {
  return `${(x * 100).toFixed(0)} %`;
}

import type { TracesFile } from '@redline/trace';
import type { HotFrame, LeakSuspect, RunResult, TargetSample, TimeseriesPoint } from '@redline/core';
import { isNative, type EpochWindow, type ProfileModel, type ResolvedFrame } from './profile-model.js';
import { Thresholds } from './thresholds.js';

/** A window in seconds since run start. */
export interface SecondsWindow {
  startS: number;
  endS: number;
}

/** What the rules share: the run, its aligned per-second data, and the profile when there is one. */
export interface RuleContext {
  result: RunResult;
  /** Target samples inside the active window (empty without a probe). */
  samples: TargetSample[];
  /** All target samples of the run. */
  allSamples: TargetSample[];
  /** Load time series inside the active window. */
  timeseries: TimeseriesPoint[];
  /** The seconds in which load was applied (whole run when the time series is empty). */
  active: SecondsWindow;
  profile: ProfileModel | undefined;
  /** Functions that allocated the most sampled bytes (from a heap profile), most first; empty without one. */
  allocations: HotFrame[];
  /** Epoch ms of the run's second 0. */
  runStartEpochMs: number;
  /** The run's trace analysis (`traces.json`), when it was traced. */
  traces?: TracesFile;
  /** The target's directory: code locations inside it are shown relative to it. */
  appRoot?: string;
  /** What grew between the run's heap snapshots (see `diffHeapSnapshots`), when it has two or more. */
  leakSuspects?: LeakSuspect[];
}

/** Median of a list; NaN when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** A latency percentile of each second that had responses (seconds without any have no latency). */
export function secondLatencies(points: readonly TimeseriesPoint[], key: 'p50' | 'p90' | 'p99' | 'max'): number[] {
  return points.flatMap((p) => (p.latency === null ? [] : [p.latency[key]]));
}

/** Mean of a list; 0 when empty (rules compare it with thresholds, where 0 never triggers). */
export function meanOf(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length;
}

/** Process CPU of a sample in cores (user + system). */
export function cpuCores(s: TargetSample): number {
  return s.cpuUser + s.cpuSystem;
}

/**
 * The seconds a condition holds in: the share of `samples` it holds for, and the window from the
 * first to the last such second (null when it never holds).
 */
export function sustained<T extends { t: number }>(samples: readonly T[], holds: (s: T) => boolean): { fraction: number; window: SecondsWindow | null; matched: T[] } {
  const matched = samples.filter(holds);
  if (matched.length === 0) return { fraction: 0, window: null, matched };
  return {
    fraction: matched.length / samples.length,
    // `t` closes its second, so the first matched second starts one second earlier.
    window: { startS: Math.max(0, matched[0]!.t - 1), endS: matched[matched.length - 1]!.t },
    matched,
  };
}

/**
 * True when second `t` (it closes at `t`) overlaps a pause of the probe's own making: a heap snapshot
 * stops the target for its whole length, which would otherwise read as a blocked loop and a busy CPU.
 */
export function inProbePause(result: RunResult, t: number): boolean {
  return (result.target?.heapSnapshots?.taken ?? []).some((s) => t > s.t - s.pauseMs / 1000 - 0.5 && t - 1 < s.t + 0.5);
}

/** Builds the rule context: finds the active window and cuts the per-second data to it (seconds of probe pauses left out). */
export function buildContext(result: RunResult, profile: ProfileModel | undefined, allocations: HotFrame[] = [], traces?: TracesFile, appRoot?: string, leakSuspects?: LeakSuspect[]): RuleContext {
  const allSamples = [...(result.target?.samples ?? [])].filter((s) => !inProbePause(result, s.t)).sort((a, b) => a.t - b.t);
  const loaded = result.timeseries.filter((p) => p.requests > 0 || p.errors > 0);
  const lastT = Math.max(result.timeseries.at(-1)?.t ?? 0, allSamples.at(-1)?.t ?? 0, result.summary.durationMs / 1000);
  const active: SecondsWindow =
    loaded.length > 0 ? { startS: Math.max(0, loaded[0]!.t - 1), endS: loaded[loaded.length - 1]!.t } : { startS: 0, endS: Math.ceil(lastT) };
  const inside = (t: number): boolean => t > active.startS && t <= active.endS;
  const parsed = Date.parse(result.startedAt);
  return {
    result,
    allSamples,
    samples: allSamples.filter((s) => inside(s.t)),
    timeseries: result.timeseries.filter((p) => inside(p.t)),
    active,
    profile,
    allocations,
    runStartEpochMs: Number.isFinite(parsed) ? parsed : 0,
    ...(traces === undefined ? {} : { traces }),
    ...(appRoot === undefined ? {} : { appRoot }),
    ...(leakSuspects === undefined ? {} : { leakSuspects }),
  };
}

/**
 * The epoch window of the profile that matches a run window, or undefined to use the whole profile:
 * when the model has no epoch clock (`startEpochMs` 0) or the window holds no samples of it.
 */
export function profileWindow(ctx: RuleContext, w: SecondsWindow): EpochWindow | undefined {
  const p = ctx.profile;
  if (p === undefined || p.startEpochMs === 0) return undefined;
  const ew = { startEpochMs: ctx.runStartEpochMs + w.startS * 1000, endEpochMs: ctx.runStartEpochMs + w.endS * 1000 };
  return p.sampleCount(ew) > 0 ? ew : undefined;
}

/** The responsible application code in a window: attributed app frames, their hot self-time frames, and the median synchronous span. */
export interface Responsible {
  /** Frames to attach to a finding: the responsible app functions first, then the top self-time frames. */
  frames: HotFrame[];
  /** The app function most samples are attributed to, if any. */
  top: HotFrame | null;
  /** Share of the window's samples attributed to `top` (its own time plus the native/library calls it makes), 0–1. */
  topAttributedShare: number;
  /** Time-weighted median uninterrupted stretch (ms) of `top` on the stack ({@link weightedMedianSpan}); null without a profile. */
  syncSpanMedianMs: number | null;
  /** Share of samples in GC (`(garbage collector)` self share), 0 without a profile. */
  gcProfileShare: number;
}

/**
 * The time-weighted median of stretches (ms): half of the time on the stack is spent in stretches at
 * least this long. A plain median would let the one-sample fragments that a GC or a profiler tick cut
 * off a long call outvote the call itself.
 */
export function weightedMedianSpan(spansMs: readonly number[]): number {
  const sorted = [...spansMs].sort((a, b) => a - b);
  const total = sorted.reduce((sum, v) => sum + v, 0);
  let acc = 0;
  for (const v of sorted) {
    acc += v;
    if (acc >= total / 2) return v;
  }
  return sorted[sorted.length - 1] ?? 0;
}

/** Looks into the CPU profile for the window; an empty answer when there is no profile. */
export function responsibleCode(ctx: RuleContext, w: SecondsWindow): Responsible {
  const p = ctx.profile;
  if (p === undefined || p.sampleCount() === 0) return { frames: [], top: null, topAttributedShare: 0, syncSpanMedianMs: null, gcProfileShare: 0 };
  const ew = profileWindow(ctx, w);
  const hot = p.hotFrames(ew, 50);
  const keyOf = (f: HotFrame): string => `${f.functionName}|${f.file}|${f.line}`;
  // An app function is reported with its own self-time share, as every frame of a finding is.
  const asHot = (f: HotFrame & { frameIndex: number }): HotFrame => {
    const { frameIndex: _index, ...rest } = f;
    return { ...rest, selfShare: hot.find((h) => keyOf(h) === keyOf(f))?.selfShare ?? 0 };
  };
  const app = p.attributedFrames(ew, 3).filter((a) => a.selfShare >= 0.02);
  const frames: HotFrame[] = app.map(asHot);
  const seen = new Set(frames.map(keyOf));
  const callers = p.nativeCallers(ew);
  for (const h of hot) {
    if (frames.length >= Thresholds.FRAMES_PER_FINDING + app.length) break;
    if (seen.has(keyOf(h))) continue;
    frames.push(nativeInside(h, p, callers));
    seen.add(keyOf(h));
  }
  const topApp = app[0];
  const spans = topApp === undefined ? [] : p.syncSpansMs(topApp.frameIndex, ew);
  return {
    frames,
    top: topApp === undefined ? null : asHot(topApp),
    topAttributedShare: topApp?.selfShare ?? 0,
    syncSpanMedianMs: spans.length === 0 ? null : weightedMedianSpan(spans),
    gcProfileShare: hot.find((h) => h.functionName === '(garbage collector)')?.selfShare ?? 0,
  };
}

/**
 * A native frame (`run`, file '') renamed for what it is: "native code inside pbkdf2Sync", after the
 * nearest JavaScript caller that holds most of its self time. Other frames come back unchanged.
 */
export function nativeInside(h: HotFrame, p: ProfileModel, callers: Map<number, ResolvedFrame>): HotFrame {
  if (h.file !== '' || h.functionName === '(garbage collector)') return h;
  const frame = p.frames.find((f) => isNative(f) && f.functionName === h.functionName && f.line === h.line && f.column === h.column);
  const caller = frame === undefined ? undefined : callers.get(frame.index);
  return caller === undefined ? h : { ...h, functionName: `native code inside ${caller.functionName}` };
}

/** `file:line` of a frame, or its name alone for native code. */
export function where(f: HotFrame): string {
  return f.file === '' ? f.functionName : `${f.functionName} (${f.file}:${f.line})`;
}

/**
 * ", the run's p99 latency 165 ms": the percentile of the whole run from its summary histogram, which
 * is what a user compares with an SLO. Without one (no latency recorded), the median of the per-second
 * p99s in `w`, labelled as such: the two differ by an order of magnitude when latency swings.
 */
export function latencyQuote(ctx: RuleContext, w: SecondsWindow): string {
  const run = ctx.result.summary.latency;
  if (run !== undefined && run.count > 0) return `, the run's p99 latency ${Math.round(run.p99)} ms`;
  const perSecond = secondLatencies(ctx.timeseries.filter((p) => p.t > w.startS && p.t <= w.endS), 'p99');
  return perSecond.length > 0 ? `, median per-second p99 latency ${Math.round(median(perSecond))} ms` : '';
}

/** Rounds for display in titles and evidence. */
export function round(v: number, digits = 2): number {
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}

/** "; most allocated bytes: fn (file:line) 62%" from the heap profile, or '' without one. */
export function allocationNote(ctx: RuleContext): string {
  const a = ctx.allocations[0];
  return a === undefined ? '' : `; most allocated bytes: ${where(a)} ${Math.round(a.selfShare * 100)}%`;
}

/** Database and cache client packages: their frames on a stack mean the CPU goes to issuing queries. */
const DRIVER_PACKAGE = /[\\/]node_modules[\\/](?:pg|pg-protocol|pg-pool|pg-cursor|mysql2|mysql|mariadb|tedious|oracledb|mongodb|ioredis|@redis[\\/][^\\/]+|redis|better-sqlite3|postgres|@prisma[\\/]client|knex|sequelize|typeorm|drizzle-orm)[\\/]/;

/**
 * Share of the busy (non-idle) CPU samples in the window whose stack runs inside a database or cache
 * client (its own frames or native code it called, such as socket writes): the CPU a service spends
 * issuing queries. 0 without a profile.
 */
export function driverCpuShare(ctx: RuleContext, w: SecondsWindow): number {
  const p = ctx.profile;
  if (p === undefined || p.sampleCount() === 0) return 0;
  const isDriver = p.frames.map((f) => DRIVER_PACKAGE.test(f.file) || DRIVER_PACKAGE.test(f.generated.url));
  const isIdle = p.frames.map((f) => f.kind === 'idle' || f.kind === 'root' || f.kind === 'program');
  let busy = 0;
  let driver = 0;
  for (const s of p.samples(profileWindow(ctx, w))) {
    const leaf = s.stack[s.stack.length - 1];
    if (leaf === undefined || isIdle[leaf]) continue;
    busy += s.weightUs;
    if (s.stack.some((i) => isDriver[i])) driver += s.weightUs;
  }
  return busy > 0 ? driver / busy : 0;
}

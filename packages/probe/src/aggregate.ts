import type { TargetSample } from '@redline/core';
import type { RawProbeSample } from './protocol.cjs';

/** A CPU profile with the epoch ms its `startTime` maps to, as returned by `stopCpuProfile`. */
export interface TimedCpuProfile {
  profile: Record<string, unknown>;
  startEpochMs: number;
}

/** Options of `aggregateSamples`. */
export interface AggregateOptions {
  /**
   * CPU profiles taken during the run, keyed by thread label (`main`, `worker-1`, ...). While the V8
   * profiler runs, its SIGPROF ticks interrupt libuv's poll and `eventLoopUtilization()` loses most
   * idle time (an idle loop reads ~0.9), so ELU inside a profile's span is taken from the profile's
   * own `(idle)` samples instead.
   */
  cpuProfiles?: Record<string, TimedCpuProfile>;
}

/** An ELU span in epoch ms. */
interface EluWindow {
  startEpochMs: number;
  endEpochMs: number;
  activeMs: number;
  idleMs: number;
}

/**
 * Derives event-loop utilisation windows (default 100 ms) from a V8 CPU profile: time whose sample
 * is `(idle)` counts as idle, everything else (JS, `(program)`, `(garbage collector)`) as active.
 * Returns an empty list for a profile without samples.
 */
export function eluWindowsFromProfile(timed: TimedCpuProfile, windowMs = 100): EluWindow[] {
  const profile = timed.profile as {
    nodes?: Array<{ id: number; callFrame?: { functionName?: string } }>;
    samples?: number[];
    timeDeltas?: number[];
    startTime?: number;
  };
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length === 0 || typeof profile.startTime !== 'number') return [];
  const idleIds = new Set<number>();
  for (const n of profile.nodes ?? []) if (n.callFrame?.functionName === '(idle)') idleIds.add(n.id);
  const out: EluWindow[] = [];
  let current: EluWindow | null = null;
  let tUs = profile.startTime;
  let prevEpoch = timed.startEpochMs;
  for (let i = 0; i < samples.length; i++) {
    tUs += deltas[i] ?? 0;
    const epoch = timed.startEpochMs + (tUs - profile.startTime) / 1000;
    const span = epoch - prevEpoch;
    if (span > 0) {
      if (!current) current = { startEpochMs: prevEpoch, endEpochMs: prevEpoch, activeMs: 0, idleMs: 0 };
      if (idleIds.has(samples[i] as number)) current.idleMs += span;
      else current.activeMs += span;
      current.endEpochMs = epoch;
      if (current.endEpochMs - current.startEpochMs >= windowMs) {
        out.push(current);
        current = null;
      }
    }
    prevEpoch = Math.max(prevEpoch, epoch);
  }
  if (current) out.push(current);
  return out;
}

interface Bucket {
  activeMs: number;
  idleMs: number;
  coveredMs: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  /** The probe's own pauses (forced GCs, heap snapshots) in this second: wall ms and process CPU µs. */
  pauseMs: number;
  pauseUserUs: number;
  pauseSystemUs: number;
  /** Weighted delay points `[ms, weight]` of windows ending in this second. */
  delayPoints: Array<[number, number]>;
  delayCount: number;
  delaySum: number;
  delayMax: number;
  gcPauses: Record<string, { count: number; totalMs: number }>;
  gcMs: number;
  last: RawProbeSample | null;
  heapAfterGcBytes: number | null;
  activeResources: Record<string, number>;
  threadpoolCount: number;
  threadpoolSum: number;
  threadpoolMax: number;
  threadpoolSeen: boolean;
  /** Sum of the /proc/self/io deltas of windows closing in this second; null when none carried them. */
  io: NonNullable<TargetSample['io']> | null;
  heapLimitBytes: number | null;
}

function emptyBucket(): Bucket {
  return {
    activeMs: 0,
    idleMs: 0,
    coveredMs: 0,
    cpuUserUs: 0,
    cpuSystemUs: 0,
    pauseMs: 0,
    pauseUserUs: 0,
    pauseSystemUs: 0,
    delayPoints: [],
    delayCount: 0,
    delaySum: 0,
    delayMax: 0,
    gcPauses: {},
    gcMs: 0,
    last: null,
    heapAfterGcBytes: null,
    activeResources: {},
    threadpoolCount: 0,
    threadpoolSum: 0,
    threadpoolMax: 0,
    threadpoolSeen: false,
    io: null,
    heapLimitBytes: null,
  };
}

function quantile(points: Array<[number, number]>, q: number): number {
  if (points.length === 0) return 0;
  const total = points.reduce((s, [, w]) => s + w, 0);
  if (total <= 0) return points[points.length - 1]?.[0] ?? 0;
  const goal = q * total;
  let acc = 0;
  for (const [value, weight] of points) {
    acc += weight;
    if (acc >= goal) return value;
  }
  return points[points.length - 1]?.[0] ?? 0;
}

/** Buckets one thread's windows into seconds of the run clock (second t covers (t-1, t] seconds after start). */
function bucketise(raw: RawProbeSample[], runStartEpochMs: number, profile: TimedCpuProfile | undefined): Map<number, Bucket> {
  const buckets = new Map<number, Bucket>();
  const get = (t: number): Bucket => {
    let b = buckets.get(t);
    if (!b) {
      b = emptyBucket();
      buckets.set(t, b);
    }
    return b;
  };
  // Adds a time-additive span (epoch ms) to the seconds it overlaps, proportionally, so a long window
  // (a stalled loop delays the sampler) lands where the time was actually spent.
  const spread = (startEpochMs: number, endEpochMs: number, add: (b: Bucket, share: number, overlapMs: number) => void): void => {
    const endRel = endEpochMs - runStartEpochMs;
    if (endRel <= 0) return;
    const startRel = Math.max(0, startEpochMs - runStartEpochMs);
    const durationMs = Math.max(1e-9, endEpochMs - startEpochMs);
    const firstT = Math.floor(startRel / 1000) + 1;
    const lastT = Math.ceil(endRel / 1000);
    for (let t = firstT; t <= lastT; t++) {
      const overlap = Math.min(endRel, t * 1000) - Math.max(startRel, (t - 1) * 1000);
      if (overlap > 0) add(get(t), overlap / durationMs, overlap);
    }
  };
  const profileWindows = profile ? eluWindowsFromProfile(profile) : [];
  const first = profileWindows[0];
  const last = profileWindows[profileWindows.length - 1];
  const profiled = first && last ? { start: first.startEpochMs, end: last.endEpochMs } : null;
  for (const w of profileWindows) {
    spread(w.startEpochMs, w.endEpochMs, (b, share) => {
      b.activeMs += w.activeMs * share;
      b.idleMs += w.idleMs * share;
    });
  }
  const sorted = raw.slice().sort((a, b) => a.endEpochMs - b.endEpochMs);
  for (const s of sorted) {
    const endRel = s.endEpochMs - runStartEpochMs;
    if (endRel <= 0) continue;
    const durationMs = Math.max(1e-9, s.endEpochMs - s.startEpochMs);
    spread(s.startEpochMs, s.endEpochMs, (b, share, overlapMs) => {
      b.coveredMs += overlapMs;
      if (s.cpu) {
        b.cpuUserUs += s.cpu.userUs * share;
        b.cpuSystemUs += s.cpu.systemUs * share;
      }
      if (s.probePause) {
        b.pauseMs += s.probePause.ms * share;
        b.pauseUserUs += s.probePause.userUs * share;
        b.pauseSystemUs += s.probePause.systemUs * share;
      }
    });
    // The probe's own ELU counts only outside the profiled span (see AggregateOptions.cpuProfiles).
    const eluSpans: Array<[number, number]> = profiled
      ? [
          [s.startEpochMs, Math.min(s.endEpochMs, profiled.start)],
          [Math.max(s.startEpochMs, profiled.end), s.endEpochMs],
        ]
      : [[s.startEpochMs, s.endEpochMs]];
    for (const [a, z] of eluSpans) {
      if (z <= a) continue;
      const part = (z - a) / durationMs;
      spread(a, z, (b, share) => {
        b.activeMs += s.elu.activeMs * part * share;
        b.idleMs += s.elu.idleMs * part * share;
      });
    }
    // Point-in-time quantities belong to the second in which the window closed.
    const b = get(Math.ceil(endRel / 1000));
    b.last = s;
    if (s.heapAfterMajorGcBytes !== null) b.heapAfterGcBytes = s.heapAfterMajorGcBytes;
    for (const [kind, g] of Object.entries(s.gc)) {
      const slot = b.gcPauses[kind] ?? (b.gcPauses[kind] = { count: 0, totalMs: 0 });
      slot.count += g.count;
      slot.totalMs += g.totalMs;
      // Collections the probe forced (leak evidence, heap snapshots) are its cost, not the target's GC pressure.
      if (kind !== 'forced') b.gcMs += g.totalMs;
    }
    if (s.loopDelay && s.loopDelay.count > 0) {
      const d = s.loopDelay;
      b.delayCount += d.count;
      b.delaySum += d.meanMs * d.count;
      b.delayMax = Math.max(b.delayMax, d.maxMs);
      // Turn the window's cumulative percentile points into weighted values so windows merge.
      let prev = 0;
      for (const [p, v] of d.percentiles) {
        const w = ((p - prev) / 100) * d.count;
        if (w > 0) b.delayPoints.push([v, w]);
        prev = p;
      }
    }
    if (s.threadpool) {
      b.threadpoolSeen = true;
      b.threadpoolCount += s.threadpool.count;
      b.threadpoolSum += s.threadpool.meanMs * s.threadpool.count;
      b.threadpoolMax = Math.max(b.threadpoolMax, s.threadpool.maxMs);
    }
    if (s.io) {
      const io = b.io ?? (b.io = { readBytes: 0, writeBytes: 0, syscr: 0, syscw: 0, rchar: 0, wchar: 0 });
      for (const k of Object.keys(io) as (keyof typeof io)[]) io[k] += Math.max(0, s.io[k]);
    }
    if (typeof s.heapLimitBytes === 'number') b.heapLimitBytes = s.heapLimitBytes;
    if (s.activeResources) {
      for (const [type, n] of Object.entries(s.activeResources)) {
        b.activeResources[type] = Math.max(b.activeResources[type] ?? 0, n);
      }
    }
  }
  return buckets;
}

const round = (x: number, digits = 4): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/**
 * Aggregates raw probe windows into one `TargetSample` per second of the run clock.
 * Second `t` covers `(t-1, t]` seconds after `runStartEpochMs`; windows before the run start are
 * ignored. ELU and CPU are split over the seconds a window overlaps; loop delay, GC pauses, memory and
 * active resources (maximum per type) belong to the second in which a window closed. Worker-thread
 * windows (`thread !== 'main'`) become `threads[label].elu`. Seconds without any main-thread window
 * are omitted (e.g. after the target exited). When several processes report, pass only one's samples.
 * Pass the CPU profiles taken during the run in `options.cpuProfiles` (see `profilesForAggregation`)
 * so ELU stays right while the profiler runs.
 */
export function aggregateSamples(raw: RawProbeSample[], runStartEpochMs: number, options: AggregateOptions = {}): TargetSample[] {
  if (!Number.isFinite(runStartEpochMs)) throw new TypeError('aggregateSamples: runStartEpochMs must be a finite epoch ms');
  const byThread = new Map<string, RawProbeSample[]>();
  for (const s of raw) {
    const list = byThread.get(s.thread) ?? [];
    list.push(s);
    byThread.set(s.thread, list);
  }
  const main = bucketise(byThread.get('main') ?? [], runStartEpochMs, options.cpuProfiles?.main);
  const workers = new Map<string, Map<number, Bucket>>();
  for (const [thread, list] of byThread) {
    if (thread !== 'main') workers.set(thread, bucketise(list, runStartEpochMs, options.cpuProfiles?.[thread]));
  }
  // The thread-pool probe's unloaded latency: the smallest it ever took in this process.
  let threadpoolBaseline = Number.POSITIVE_INFINITY;
  for (const s of byThread.get('main') ?? []) if (s.threadpool) threadpoolBaseline = Math.min(threadpoolBaseline, s.threadpool.baselineMs);
  const out: TargetSample[] = [];
  let lastSeen: RawProbeSample | null = null;
  const seconds = [...main.keys()].sort((a, b) => a - b);
  for (const t of seconds) {
    const b = main.get(t) as Bucket;
    if (b.last) lastSeen = b.last;
    const snap = b.last ?? lastSeen;
    // The probe's own pauses are left out: their time is neither the loop's work nor its idling, and
    // their CPU is the probe's (loop delay already comes without them, see RawProbeSample.probePause).
    const pauseMs = Math.min(b.pauseMs, b.activeMs, Math.max(0, b.coveredMs - 1));
    const activeMs = b.activeMs - pauseMs;
    const busy = activeMs + b.idleMs;
    const coveredMs = Math.max(1, b.coveredMs - pauseMs);
    const cpuUserUs = Math.max(0, b.cpuUserUs - b.pauseUserUs);
    const cpuSystemUs = Math.max(0, b.cpuSystemUs - b.pauseSystemUs);
    b.delayPoints.sort((x, y) => x[0] - y[0]);
    const sample: TargetSample = {
      t,
      elu: busy > 0 ? round(activeMs / busy) : 0,
      loopDelayMs: {
        mean: b.delayCount > 0 ? round(b.delaySum / b.delayCount, 3) : 0,
        p50: round(quantile(b.delayPoints, 0.5), 3),
        p99: round(quantile(b.delayPoints, 0.99), 3),
        max: round(b.delayMax, 3),
      },
      gcShare: round(Math.min(1, b.gcMs / coveredMs)),
      gcPauses: Object.fromEntries(
        Object.entries(b.gcPauses).map(([k, v]) => [k, { count: v.count, totalMs: round(v.totalMs, 3) }]),
      ),
      heapUsedBytes: snap?.heapUsedBytes ?? 0,
      heapTotalBytes: snap?.heapTotalBytes ?? 0,
      externalBytes: snap?.externalBytes ?? 0,
      rssBytes: snap?.rssBytes ?? 0,
      heapAfterGcBytes: b.heapAfterGcBytes,
      cpuUser: round(cpuUserUs / 1000 / coveredMs),
      cpuSystem: round(cpuSystemUs / 1000 / coveredMs),
      activeResources: b.activeResources,
    };
    const threads: Record<string, { elu: number }> = {};
    for (const [thread, wb] of workers) {
      const w = wb.get(t);
      if (!w) continue;
      const wBusy = w.activeMs + w.idleMs;
      threads[thread] = { elu: wBusy > 0 ? round(w.activeMs / wBusy) : 0 };
    }
    if (Object.keys(threads).length > 0) sample.threads = threads;
    if (b.threadpoolSeen && Number.isFinite(threadpoolBaseline)) {
      // A second in which the task never finished still has a lower bound: the age of the waiting task.
      const mean = b.threadpoolCount > 0 ? b.threadpoolSum / b.threadpoolCount : b.threadpoolMax;
      sample.threadpoolDelayMs = { mean: round(Math.max(0, mean - threadpoolBaseline), 3), max: round(Math.max(0, b.threadpoolMax - threadpoolBaseline), 3) };
    }
    if (b.io) sample.io = b.io;
    if (b.heapLimitBytes !== null) sample.heapLimitBytes = b.heapLimitBytes;
    out.push(sample);
  }
  return out;
}

/**
 * Turns the result of `stopCpuProfile()` (main profile plus optional `threads`) into the
 * `cpuProfiles` map `aggregateSamples` takes.
 */
export function profilesForAggregation(cpu: TimedCpuProfile & { threads?: Record<string, TimedCpuProfile> }): Record<string, TimedCpuProfile> {
  const out: Record<string, TimedCpuProfile> = { main: { profile: cpu.profile, startEpochMs: cpu.startEpochMs } };
  for (const [thread, p] of Object.entries(cpu.threads ?? {})) out[thread] = { profile: p.profile, startEpochMs: p.startEpochMs };
  return out;
}

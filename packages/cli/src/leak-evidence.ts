import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rename, rm } from 'node:fs/promises';
import { freemem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes, RedlineError, linearRegression, type FullGc, type HeapSnapshots } from '@redline/core';
import { Thresholds } from '@redline/doctor';
import type { FullGcResult, HeapSnapshotResult, RawProbeSample, TargetHandle } from '@redline/probe/host';

/** When heap snapshots are taken under load. */
export type LeakSnapshotMode = 'auto' | 'on' | 'off';

/** Options of the leak evidence a session gathers from a launched target. */
export interface LeakEvidenceOptions {
  /** Force a full GC at a few moments when V8 ran none of its own (default true). */
  fullGc?: boolean;
  /** `auto` (default): snapshots only when heap after full GC grew early in the run; `on`; `off`. */
  snapshots?: LeakSnapshotMode;
  /**
   * Free memory in bytes, read before each snapshot. Default: `MemAvailable` from /proc/meminfo
   * (memory the kernel can hand out without swapping), else `os.freemem()`.
   */
  freeMemoryBytes?: () => number;
}

/** The part of a launched target the leak evidence uses. */
type Target = Pick<TargetHandle, 'collectGarbage' | 'writeHeapSnapshot' | 'samples'>;

const MB = 1024 * 1024;
/** Shortest planned run on which `auto` takes heap snapshots, ms. */
const AUTO_MIN_RUN_MS = 20_000;
/** Most full GCs forced in one run. */
const MAX_FORCED_GCS = 12;
/**
 * Most of the wall time forced full GCs may cost the target once the leak rule has its first points: after
 * a GC that cost P ms (see {@link forcedGcCostMs}), the next waits at least P / FORCED_GC_PAUSE_SHARE
 * (20 ms: 1.3 s; 100 ms: 6.7 s), so big heaps, whose collections take longer, get fewer.
 */
export const FORCED_GC_PAUSE_SHARE = 0.015;
/**
 * The share of the run the first `Thresholds.LEAK_MIN_POINTS` forced GCs may take together (the
 * fewest the leak rule fits; fewer and a 12 s run can call no leak at all). Until then each goes at
 * its moment when it cost at most FORCED_GC_EVIDENCE_MAX_ONE of the run and the total stays within
 * this; otherwise the FORCED_GC_PAUSE_SHARE spacing applies.
 */
export const FORCED_GC_EVIDENCE_SHARE = 0.05;
/** Largest cost of one of the first forced GCs (and expected cost of the very first), as a share of the planned run. */
export const FORCED_GC_EVIDENCE_MAX_ONE = 0.02;

/**
 * How long to wait after the last of `costsMs` (the costs of the forced GCs so far, in order) in a run
 * of `plannedMs`, ms: nothing while the leak rule's first points stay within the evidence budget
 * (FORCED_GC_EVIDENCE_MAX_ONE each, FORCED_GC_EVIDENCE_SHARE together), else last cost /
 * FORCED_GC_PAUSE_SHARE.
 */
export function forcedGcSpacingMs(costsMs: readonly number[], plannedMs: number): number {
  const last = costsMs.at(-1) ?? 0;
  const total = costsMs.reduce((sum, c) => sum + c, 0);
  const evidence = costsMs.length < Thresholds.LEAK_MIN_POINTS && last <= FORCED_GC_EVIDENCE_MAX_ONE * plannedMs && total + last <= FORCED_GC_EVIDENCE_SHARE * plannedMs;
  return evidence ? 0 : last / FORCED_GC_PAUSE_SHARE;
}

/**
 * What a forced GC cost the target, ms: its pause, or the CPU it used when that is less. On a busy
 * machine most of the wall pause is waiting for a core the target would not have had anyway (measured
 * at load 18: pauses 21–101 ms for a steady 13 ms of CPU on a 6 MB heap); on a quiet one the pause is
 * the smaller (V8's helper threads add CPU beside the main thread).
 */
export function forcedGcCostMs(gc: Pick<FullGcResult, 'pauseMs' | 'cpuMs'>): number {
  return gc.cpuMs === undefined ? gc.pauseMs : Math.min(gc.pauseMs, gc.cpuMs);
}
/**
 * Expected pause of a first full GC per MB of heap used, ms, before any was measured (V8 marks and
 * compacts a live heap at roughly 1 GB/s on one core; a busy machine is slower, which the measured
 * pause then shows): a heap whose first collection would already spend the run's budget gets none.
 */
const FIRST_GC_MS_PER_MB = 1;

/** MemAvailable from /proc/meminfo, else os.freemem(), in bytes. */
export function availableMemoryBytes(): number {
  try {
    const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // not Linux
  }
  return freemem();
}

/**
 * Throws REDLINE_ERR_SNAPSHOT_REFUSED when a heap snapshot of `heapUsedBytes` would not fit in
 * `freeBytes`: V8 builds the snapshot's graph next to the heap, about SNAPSHOT_MEMORY_FACTOR times
 * its size, and a target pushed into swap or the OOM killer is worse than no snapshot.
 */
export function checkSnapshotMemory(heapUsedBytes: number, freeBytes: number): void {
  const needed = heapUsedBytes * Thresholds.SNAPSHOT_MEMORY_FACTOR;
  if (needed > freeBytes) {
    const mb = (b: number): string => `${Math.round(b / MB)} MB`;
    throw new RedlineError(
      ErrorCodes.SNAPSHOT_REFUSED,
      `heap snapshot refused: the heap is ${mb(heapUsedBytes)} and a snapshot needs about ${Thresholds.SNAPSHOT_MEMORY_FACTOR}× that (${mb(needed)}), but only ${mb(freeBytes)} of memory is free`,
    );
  }
}

/**
 * Moments (share of the planned run) at which snapshots are taken under load; one more follows right
 * after the load ends (`finish`), so only one or two pauses fall inside the measured run.
 */
export function snapshotMoments(plannedMs: number): number[] {
  // Early, so that most of the run still follows the pause (a snapshot can stop the target for seconds).
  return plannedMs < 20_000 ? [0.3] : [0.25, 0.55];
}

/**
 * Gathers the leak rule's evidence from a launched target while the load runs: full GCs forced at a
 * few moments when V8 ran no major GC of its own since the last moment (so a short run still has heap
 * after full GC to fit), and heap snapshots at two or three moments (`auto`: only when the heap after
 * full GC already grew by the first one). Operations run one at a time; `stop()` waits for them.
 */
export class LeakEvidence {
  readonly #target: Target;
  readonly #plannedMs: number;
  readonly #opts: Required<Omit<LeakEvidenceOptions, 'freeMemoryBytes'>> & { freeMemoryBytes: () => number };
  readonly #onEvent: (message: string) => void;
  readonly #timers: NodeJS.Timeout[] = [];
  /** Heap after full GC points: forced GCs and the full GC each snapshot begins with. */
  readonly #forced: FullGcResult[] = [];
  /** The forced GCs alone (the pause budget counts these). */
  readonly #gcs: FullGcResult[] = [];
  #budgetNoted = false;
  readonly #snapshots: HeapSnapshotResult[] = [];
  #queue: Promise<void> = Promise.resolve();
  #dir: string | null = null;
  #skipped: HeapSnapshots['skipped'] = null;
  #stopped = false;

  constructor(target: Target, plannedMs: number, opts: LeakEvidenceOptions = {}, onEvent: (message: string) => void = () => undefined) {
    this.#target = target;
    this.#plannedMs = plannedMs;
    this.#opts = { fullGc: opts.fullGc ?? true, snapshots: opts.snapshots ?? 'auto', freeMemoryBytes: opts.freeMemoryBytes ?? availableMemoryBytes };
    this.#onEvent = onEvent;
  }

  /** Schedules the forced GCs and snapshots relative to the run's start (epoch ms). */
  start(runStartEpochMs: number): void {
    const at = (ms: number, fn: () => Promise<void>): void => {
      this.#timers.push(setTimeout(() => this.#enqueue(fn), Math.max(0, runStartEpochMs + ms - Date.now())));
    };
    if (this.#opts.fullGc) {
      // A forced full GC stops the target (20–110 ms measured under load) and costs it CPU: at most
      // one per 1.25 s, yet five or more on a 7 s run, the fewest the leak rule fits, and further
      // apart when their measured cost would take more than FORCED_GC_PAUSE_SHARE of the time, once
      // the rule's first points are in (forcedGcSpacingMs). The probe leaves the pauses out of loop
      // delay, ELU and CPU.
      const every = Math.min(10_000, Math.max(1_250, this.#plannedMs / 12));
      for (let ms = every / 2, n = 0; ms < this.#plannedMs - 300 && n < MAX_FORCED_GCS; ms += every, n++) {
        const due = runStartEpochMs + ms;
        // A moment that passed while a snapshot paused the target is dropped, not made up in a burst.
        at(ms, () => (Date.now() - due > every ? Promise.resolve() : this.#maybeCollect(every)));
      }
    }
    if (this.#opts.snapshots !== 'off') {
      snapshotMoments(this.#plannedMs).forEach((share, k) => at(share * this.#plannedMs, () => this.#snapshot(k, runStartEpochMs)));
    }
  }

  #enqueue(fn: () => Promise<void>): void {
    if (this.#stopped) return;
    this.#queue = this.#queue.then(fn).catch((err: unknown) => this.#onEvent(`leak evidence: ${(err as Error).message}`));
  }

  /**
   * Forces a full GC unless V8 ran a major GC of its own in the last `windowMs`, or the pause budget
   * ({@link forcedGcSpacingMs}) does not allow one yet.
   */
  async #maybeCollect(windowMs: number): Promise<void> {
    const now = Date.now();
    const since = now - windowMs;
    const samples = this.#target.samples();
    const ownGc = (s: RawProbeSample): boolean => this.#forced.some((g) => g.atEpochMs >= s.startEpochMs - 50 && g.atEpochMs <= s.endEpochMs + 250);
    const natural = samples.some((s) => s.thread === 'main' && s.endEpochMs >= since && s.heapAfterMajorGcBytes !== null && !ownGc(s));
    if (natural) return;
    const waitMs = this.#budgetWaitMs(now, samples);
    if (waitMs > 0) {
      if (!this.#budgetNoted) {
        this.#onEvent(
          Number.isFinite(waitMs)
            ? `forced full GCs spaced out so that their pauses stay a small share of the run (next in ${(waitMs / 1000).toFixed(1)} s)`
            : `no forced full GCs: on this heap one would pause the target for more than ${FORCED_GC_EVIDENCE_MAX_ONE * 100} % of the run`,
        );
      }
      this.#budgetNoted = true;
      return;
    }
    const gc = await this.#target.collectGarbage();
    this.#gcs.push(gc);
    this.#forced.push(gc);
  }

  /**
   * How long the pause budget still holds the next forced GC back, ms (0: go ahead). After the first,
   * the last one's measured cost sets the spacing ({@link forcedGcSpacingMs}); before it, V8's own
   * slowest major GC so far, or the heap used at FIRST_GC_MS_PER_MB, must be at most
   * FORCED_GC_EVIDENCE_MAX_ONE of the run.
   */
  #budgetWaitMs(now: number, samples: readonly RawProbeSample[]): number {
    const last = this.#gcs.at(-1);
    if (last !== undefined) return Math.max(0, last.atEpochMs + forcedGcSpacingMs(this.#gcs.map(forcedGcCostMs), this.#plannedMs) - now);
    const main = samples.filter((s) => s.thread === 'main');
    const majorMs = Math.max(0, ...main.map((s) => (s.gc.major ? s.gc.major.totalMs / Math.max(1, s.gc.major.count) : 0)));
    const expectedMs = Math.max(majorMs, ((main.at(-1)?.heapUsedBytes ?? 0) / MB) * FIRST_GC_MS_PER_MB);
    return expectedMs <= FORCED_GC_EVIDENCE_MAX_ONE * this.#plannedMs ? 0 : Number.POSITIVE_INFINITY;
  }

  /** Heap after full GC so far: forced points and V8's own major GCs, `[epoch ms, bytes]`. */
  #afterGcSoFar(): [number, number][] {
    const forced = this.#forced.map((g): [number, number] => [g.atEpochMs, g.heapUsedBytes]);
    const natural = this.#target
      .samples()
      .filter((s) => s.thread === 'main' && s.heapAfterMajorGcBytes !== null)
      .map((s): [number, number] => [s.endEpochMs, s.heapAfterMajorGcBytes!]);
    return [...forced, ...natural].sort((a, b) => a[0] - b[0]);
  }

  /** In auto mode: why not to take snapshots (no growth yet), or null to take them. */
  #autoVeto(): string | null {
    // On a loaded machine one snapshot can pause the target for most of a short run and take the
    // leak's own evidence with it; short runs get snapshots only when asked for (`on`).
    if (this.#plannedMs < AUTO_MIN_RUN_MS) return `auto mode takes heap snapshots only on runs of ${AUTO_MIN_RUN_MS / 1000} s or more (a snapshot pauses the target); use --leak-snapshots on`;
    // The first point is the warm-up (JIT, first caches): growth is judged from the second on.
    const points = this.#afterGcSoFar().slice(1);
    if (points.length < 3) return `auto mode saw only ${points.length} full GC${points.length === 1 ? '' : 's'} before the first snapshot moment`;
    const fit = linearRegression(points.map((p) => p[0] / 60_000), points.map((p) => p[1] / MB));
    const growthMb = (points[points.length - 1]![1] - points[0]![1]) / MB;
    if (fit.slope >= Thresholds.LEAK_SNAPSHOT_TRIGGER_MB_PER_MIN && growthMb >= Thresholds.LEAK_SNAPSHOT_TRIGGER_MB) return null;
    return `auto mode: heap after full GC did not grow (${growthMb.toFixed(1)} MB, ${fit.slope.toFixed(1)} MB/min) before the first snapshot moment`;
  }

  async #snapshot(k: number, runStartEpochMs: number): Promise<void> {
    if (this.#skipped !== null) return;
    if (k === 0 && this.#opts.snapshots === 'auto') {
      const veto = this.#autoVeto();
      if (veto !== null) {
        this.#skipped = { code: null, message: veto };
        return;
      }
    }
    const last = this.#target.samples().findLast((s) => s.thread === 'main');
    try {
      checkSnapshotMemory(last?.heapUsedBytes ?? 0, this.#opts.freeMemoryBytes());
    } catch (err) {
      const e = err as RedlineError;
      this.#skipped = { code: e.code, message: e.message };
      this.#onEvent(e.message);
      return;
    }
    this.#dir ??= await mkdtemp(join(tmpdir(), 'redline-heap-'));
    const snap = await this.#target.writeHeapSnapshot(join(this.#dir, `heap-${k + 1}.heapsnapshot`));
    this.#snapshots.push(snap);
    // The snapshot began with a full GC: its heap after is a point of the leak fit like a forced GC's.
    if (this.#opts.fullGc) this.#forced.push({ atEpochMs: snap.atEpochMs, heapUsedBytes: snap.heapAfterBytes, pauseMs: snap.pauseMs });
    this.#onEvent(`heap snapshot ${k + 1} at t=${((snap.atEpochMs - runStartEpochMs) / 1000).toFixed(1)}s: ${(snap.fileBytes / MB).toFixed(1)} MB, paused the target ${Math.round(snap.pauseMs)} ms`);
  }

  /**
   * Once the load has ended: cancels what has not started, waits for what has, and takes the last
   * snapshot when earlier ones were taken (the diff compares it with the first).
   */
  async finish(runStartEpochMs: number): Promise<void> {
    if (this.#stopped) return;
    for (const t of this.#timers) clearTimeout(t);
    // Decided when its turn comes: the snapshot under load may still be being written.
    this.#enqueue(async () => {
      if (this.#snapshots.length > 0 && this.#skipped === null) await this.#snapshot(this.#snapshots.length, runStartEpochMs);
    });
    this.#stopped = true;
    await this.#queue;
  }

  /** Cancels what has not started and waits for what has. */
  async stop(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    this.#stopped = true;
    await this.#queue;
  }

  /**
   * The result fields (`target.fullGcs`, `target.heapSnapshots`), moving the snapshot files into the
   * run directory as `heap-1.heapsnapshot`, …
   */
  async report(runDir: string, runStartEpochMs: number): Promise<{ fullGcs?: FullGc[]; heapSnapshots?: HeapSnapshots }> {
    const t = (epochMs: number): number => Math.round((epochMs - runStartEpochMs)) / 1000;
    const taken: HeapSnapshots['taken'] = [];
    for (const snap of this.#snapshots) {
      const file = snap.path.slice(snap.path.lastIndexOf('/') + 1);
      await move(snap.path, join(runDir, file));
      taken.push({ file, t: t(snap.atEpochMs), heapUsedBytes: snap.heapUsedBytes, pauseMs: round1(snap.pauseMs), fileBytes: snap.fileBytes });
    }
    const skipped = this.#skipped ?? (taken.length < 2 && this.#opts.snapshots !== 'off' ? { code: null, message: 'the run ended before two snapshots were taken' } : null);
    return {
      ...(this.#opts.fullGc ? { fullGcs: this.#forced.map((g) => ({ t: t(g.atEpochMs), heapUsedBytes: g.heapUsedBytes, pauseMs: round1(g.pauseMs) })) } : {}),
      heapSnapshots: { mode: this.#opts.snapshots, taken, skipped },
    };
  }

  /** Removes the temporary snapshot directory (whatever was not moved into the run directory). */
  async dispose(): Promise<void> {
    if (this.#dir !== null) await rm(this.#dir, { recursive: true, force: true }).catch(() => undefined);
  }
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}

async function move(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    await copyFile(from, to);
    await rm(from, { force: true });
  }
}

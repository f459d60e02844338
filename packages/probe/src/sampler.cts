import type { RawProbeSample, RawProcIo } from './protocol.cjs';

/** What the sampler needs from the runtime; passed in so the same code runs in the probe and via the inspector. */
export interface SamplerDeps {
  performance: {
    timeOrigin: number;
    now(): number;
    eventLoopUtilization(a?: unknown, b?: unknown): { idle: number; active: number; utilization: number };
  };
  monitorEventLoopDelay(opts: { resolution: number }): {
    enable(): boolean;
    disable(): boolean;
    reset(): void;
    count: number;
    min: number;
    max: number;
    mean: number;
    percentiles: Map<number, number>;
    percentile(p: number): number;
  };
  PerformanceObserver: new (cb: (list: { getEntries(): Array<{ duration: number; startTime?: number; detail?: unknown }> }) => void) => {
    observe(opts: { entryTypes: string[] }): void;
    disconnect(): void;
  };
  getHeapStatistics(): { used_heap_size: number; total_heap_size: number; heap_size_limit?: number };
  /** Text of `/proc/self/io`, or null where it cannot be read (not Linux, no permission). Optional. */
  readProcIo?: () => string | null;
  process: {
    pid: number;
    memoryUsage(): { heapUsed: number; heapTotal: number; external: number; rss: number };
    cpuUsage(prev?: { user: number; system: number }): { user: number; system: number };
    getActiveResourcesInfo(): string[];
  };
  isMainThread: boolean;
  thread: string;
  /** Resources the probe itself holds (e.g. `{ Timeout: 1, PipeWrap: 1 }`), subtracted from the counts. */
  ownResources: Record<string, number>;
}

/** A pause of the probe's own making (a forced full GC, a heap snapshot), as noted by `Sampler.notePause`. */
interface ProbePause {
  /** performance.now() ms. */
  startMs: number;
  endMs: number;
  /** Process CPU the pause took (all threads: V8's GC helpers too), µs. */
  userUs: number;
  systemUs: number;
}

/** A running sampler: `take()` closes the current window and returns it; `stop()` releases everything. */
export interface Sampler {
  take(dropped: number, expectedWindowMs?: number): RawProbeSample;
  /**
   * Notes a pause the probe caused itself (`startMs`/`endMs` in performance.now() ms, the process CPU
   * it took in µs). GCs that start inside it count as kind `forced`; the window it ends in reports it
   * in `probePause` and leaves it out of its loop delay (the timer tick it made late is taken back by
   * the pause's length), so the probe's own cost does not read as the target's blocking.
   */
  notePause(startMs: number, endMs: number, cpuUs?: { user: number; system: number }): void;
  stop(): void;
}

/**
 * Creates the window sampler used inside the target.
 * This function must stay self-contained (no references outside its body) because `attachInspector`
 * ships its source text to a remote process through `Runtime.evaluate`.
 */
export function createSampler(deps: SamplerDeps): Sampler {
  const resolutionMs = 10;
  // GC kinds from perf_hooks.constants.NODE_PERFORMANCE_GC_*.
  const kindNames: Record<number, string> = { 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weakcb' };
  const perf = deps.performance;
  const nowEpoch = (): number => perf.timeOrigin + perf.now();
  const histogram = deps.monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  let gc: Record<string, { count: number; totalMs: number }> = {};
  let heapAfterMajorGc: number | null = null;
  // The probe's own pauses, oldest first; the last few are kept to classify GC entries that arrive late.
  const pauses: ProbePause[] = [];
  const isForced = (startTime: number): boolean => pauses.some((p) => startTime >= p.startMs - 1 && startTime <= p.endMs + 1);
  let observer: { disconnect(): void } | null = null;
  try {
    const obs = new deps.PerformanceObserver((list) => {
      try {
        for (const entry of list.getEntries()) {
          const detail = entry.detail as { kind?: number } | undefined;
          const kindNumber = detail?.kind ?? 0;
          const natural = kindNames[kindNumber] ?? 'other';
          const kind = isForced((entry as { startTime?: number }).startTime ?? -1) ? 'forced' : natural;
          const slot = gc[kind] ?? (gc[kind] = { count: 0, totalMs: 0 });
          slot.count += 1;
          slot.totalMs += entry.duration;
          // Observer callbacks run shortly after the GC, before much new allocation: close enough to "after GC".
          if (natural === 'major') heapAfterMajorGc = deps.getHeapStatistics().used_heap_size;
        }
      } catch {
        // never throw into the target
      }
    });
    obs.observe({ entryTypes: ['gc'] });
    observer = obs;
  } catch {
    observer = null;
  }
  // Cumulative /proc/self/io counters; each window reports the difference to the previous read.
  const ioFields: Record<string, keyof RawProcIo> = { read_bytes: 'readBytes', write_bytes: 'writeBytes', syscr: 'syscr', syscw: 'syscw', rchar: 'rchar', wchar: 'wchar' };
  const readIo = (): RawProcIo | null => {
    try {
      const text = deps.isMainThread && deps.readProcIo ? deps.readProcIo() : null;
      if (text === null) return null;
      const io: RawProcIo = { readBytes: 0, writeBytes: 0, syscr: 0, syscw: 0, rchar: 0, wchar: 0 };
      let seen = 0;
      for (const line of text.split('\n')) {
        const colon = line.indexOf(':');
        const key = ioFields[line.slice(0, colon).trim()];
        if (colon < 0 || key === undefined) continue;
        io[key] = Number(line.slice(colon + 1).trim()) || 0;
        seen += 1;
      }
      return seen > 0 ? io : null;
    } catch {
      return null;
    }
  };
  let prevIo = readIo();
  let prevElu = perf.eventLoopUtilization();
  let prevCpu = deps.process.cpuUsage();
  let windowStart = nowEpoch();
  let windowStartPerf = perf.now();

  function loopDelay(): RawProbeSample['loopDelay'] {
    const count = histogram.count;
    if (!count) return null;
    // The histogram records the timer period plus the delay; subtract the period to get the delay.
    const ms = (ns: number): number => Math.max(0, ns / 1e6 - resolutionMs);
    const percentiles: Array<[number, number]> = [];
    for (const [p, v] of histogram.percentiles) percentiles.push([p, ms(v)]);
    percentiles.sort((a, b) => a[0] - b[0]);
    return { count, minMs: ms(histogram.min), maxMs: ms(histogram.max), meanMs: ms(histogram.mean), percentiles };
  }

  /**
   * The window's delays with the probe's pauses taken back out. The loop-delay timer is late by a
   * whole pause exactly once, in the tick that spans it: the smallest observation of at least the
   * pause's length (a longer real stall in the same window is a different, larger one and stays) is
   * replaced by itself minus the pause. Without such an observation the window did not see that tick
   * (it landed after the histogram's reset, which drops the first tick of every window).
   * Observations are read back one by one (`percentile` at each rank), so one can be replaced exactly.
   */
  function withoutPauses(d: NonNullable<RawProbeSample['loopDelay']>, pausesMs: number[]): NonNullable<RawProbeSample['loopDelay']> {
    const n = d.count;
    if (n > 2000 || pausesMs.every((p) => d.maxMs < p - resolutionMs)) return d;
    const values: number[] = [];
    for (let k = 1; k <= n; k++) values.push(Math.max(0, histogram.percentile((100 * (k - 0.5)) / n) / 1e6 - resolutionMs));
    values.sort((a, b) => a - b);
    let removedMs = 0;
    for (const pauseMs of pausesMs.slice().sort((a, b) => b - a)) {
      const i = values.findIndex((v) => v >= pauseMs - resolutionMs);
      if (i === -1) continue;
      const v = values[i] as number;
      const corrected = Math.max(0, v - pauseMs);
      removedMs += v - corrected;
      values.splice(i, 1);
      const at = values.findIndex((x) => x > corrected);
      values.splice(at === -1 ? values.length : at, 0, corrected);
    }
    if (removedMs === 0) return d;
    const percentiles: Array<[number, number]> = [[0, values[0] as number]];
    values.forEach((v, k) => percentiles.push([(100 * (k + 1)) / n, v]));
    return { count: n, minMs: values[0] as number, maxMs: values[n - 1] as number, meanMs: Math.max(0, d.meanMs - removedMs / n), percentiles };
  }

  return {
    take(dropped: number, expectedWindowMs?: number): RawProbeSample {
      const end = nowEpoch();
      const curElu = perf.eventLoopUtilization();
      const delta = perf.eventLoopUtilization(curElu, prevElu);
      prevElu = curElu;
      const endPerf = perf.now();
      // The probe's pauses that ended in this window, each clipped to it.
      const own = pauses.filter((p) => p.endMs > windowStartPerf && p.endMs <= endPerf);
      const ownMs = own.reduce((sum, p) => sum + p.endMs - Math.max(p.startMs, windowStartPerf), 0);
      let delay = loopDelay();
      if (delay === null) {
        // A loop turn longer than the window leaves the histogram empty (after a reset it needs two
        // timer ticks to record one delay), which would hide exactly the worst blocking. The lateness
        // of the window's own timer, less the probe's own pauses, is then the delay observed.
        const lateMs = (expectedWindowMs === undefined ? 0 : end - windowStart - expectedWindowMs) - ownMs;
        if (lateMs > resolutionMs) delay = { count: 1, minMs: lateMs, maxMs: lateMs, meanMs: lateMs, percentiles: [[100, lateMs]] };
        // The tick that spans the pause would land in the next window, past its correction: drop it.
        if (own.length > 0) histogram.reset();
      } else {
        if (own.length > 0) delay = withoutPauses(delay, own.map((p) => p.endMs - p.startMs));
        histogram.reset();
      }
      const gcWindow = gc;
      gc = {};
      const afterGc = heapAfterMajorGc;
      heapAfterMajorGc = null;
      // Fields every thread reports; only the main thread can see process memory, CPU and resources.
      const common = {
        pid: deps.process.pid,
        thread: deps.thread,
        startEpochMs: windowStart,
        endEpochMs: end,
        elu: { activeMs: delta.active, idleMs: delta.idle },
        loopDelay: delay,
        gc: gcWindow,
        heapAfterMajorGcBytes: afterGc,
        dropped,
        ...(own.length > 0
          ? { probePause: { count: own.length, ms: ownMs, userUs: own.reduce((n, p) => n + p.userUs, 0), systemUs: own.reduce((n, p) => n + p.systemUs, 0) } }
          : {}),
      };
      let sample: RawProbeSample;
      if (deps.isMainThread) {
        const cpu = deps.process.cpuUsage(prevCpu);
        prevCpu = deps.process.cpuUsage();
        const mem = deps.process.memoryUsage();
        const resources: Record<string, number> = {};
        for (const type of deps.process.getActiveResourcesInfo()) resources[type] = (resources[type] ?? 0) + 1;
        for (const [type, n] of Object.entries(deps.ownResources)) {
          const left = (resources[type] ?? 0) - n;
          if (left > 0) resources[type] = left;
          else delete resources[type];
        }
        const io = readIo();
        const ioDelta: RawProcIo | null =
          io && prevIo
            ? { readBytes: io.readBytes - prevIo.readBytes, writeBytes: io.writeBytes - prevIo.writeBytes, syscr: io.syscr - prevIo.syscr, syscw: io.syscw - prevIo.syscw, rchar: io.rchar - prevIo.rchar, wchar: io.wchar - prevIo.wchar }
            : null;
        if (io) prevIo = io;
        const limit = deps.getHeapStatistics().heap_size_limit;
        sample = {
          ...common,
          ...(ioDelta ? { io: ioDelta } : {}),
          ...(typeof limit === 'number' ? { heapLimitBytes: limit } : {}),
          heapUsedBytes: mem.heapUsed,
          heapTotalBytes: mem.heapTotal,
          externalBytes: mem.external,
          rssBytes: mem.rss,
          cpu: { userUs: cpu.user, systemUs: cpu.system },
          activeResources: resources,
        };
      } else {
        const heap = deps.getHeapStatistics();
        sample = {
          ...common,
          heapUsedBytes: heap.used_heap_size,
          heapTotalBytes: heap.total_heap_size,
          externalBytes: null,
          rssBytes: null,
          cpu: null,
          activeResources: null,
        };
      }
      windowStart = end;
      windowStartPerf = endPerf;
      return sample;
    },
    notePause(startMs: number, endMs: number, cpuUs?: { user: number; system: number }): void {
      pauses.push({ startMs, endMs, userUs: cpuUs?.user ?? 0, systemUs: cpuUs?.system ?? 0 });
      if (pauses.length > 64) pauses.shift();
    },
    stop(): void {
      try {
        histogram.disable();
      } catch {
        // ignore
      }
      try {
        observer?.disconnect();
      } catch {
        // ignore
      }
    },
  };
}

import { cpus, hostname, totalmem } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import {
  ErrorCodes,
  RESULT_SCHEMA_VERSION,
  RedlineError,
  defaultRunDir,
  type GeneratorReport,
  type LatencyHistogram,
  type RunResult,
  type RunStatus,
  type RunSummary,
  type ThresholdResult,
  type TimeseriesPoint,
} from '@redline/core';
import { RunAggregate } from './aggregate.js';
import { loadDataSources, segmentRows } from './data-feed.js';
import { runSetup, runTeardown } from './lifecycle.js';
import { summarizeCustomMetric } from './custom-metrics.js';
import { engineNow } from './engine-clock.js';
import type { IntervalSnapshot } from './recorder.js';
import { scenarioEndMs, type LoadPlan } from './scenario.js';
import { originOf, parseTargetUrl } from './request.js';
import { checkProxy } from './transports/proxy.js';
import { transportConfigOf } from './transports/select.js';
import { evaluateThresholds, parseThresholds, type Threshold } from './thresholds.js';
import type { TraceRecord, TraceSettings } from './trace-context.js';
import { checkShareRunnable, executionShare, type SegmentSpec } from './segments.js';
import { REDLINE_VERSION } from './version.js';
import { WorkerEngine, type EngineInit, type EngineMessage } from './worker-engine.js';
import type { RunnerMessage, WorkerData } from './worker.js';

/**
 * Young generation of an engine thread (V8 splits it in three: two 4 MiB semi-spaces and the
 * large-object part). V8's default grows it to 48 MiB under allocation churn and, with the memory
 * reducer off, never gives it back: limiting it cut the peak RSS with 10,000 open WebSockets from
 * 303-315 MB to 269-286 MB (bench/websocket.bench.ts). The engine's per-message garbage is
 * short-lived, so smaller semi-spaces cost only more, cheaper scavenges.
 */
const ENGINE_YOUNG_GENERATION_MB = 12;

/** A live view of the run, once per second. */
export interface LiveStatus {
  elapsedMs: number;
  plannedMs: number;
  point: TimeseriesPoint;
  totalRequests: number;
  totalErrors: number;
  /** This second's corrected-latency histogram (all requests), encoded (`LatencyHistogram.decode`); streaming outputs read it. */
  latencyHistogram?: string;
  /**
   * The same histogram, decoded (the runner merged it from the workers' snapshots): streaming
   * outputs read it instead of decoding `latencyHistogram` again. Shared; never modify it.
   */
  latency?: LatencyHistogram;
}

/** Options of `startLoad`/`runLoad`. */
export interface RunLoadOptions {
  /** Worker threads; 0 runs the engine on the calling thread. Default: cores − 1, at least 1. */
  workers?: number;
  /** Called once per second with the merged interval. */
  onSecond?: (status: LiveStatus) => void;
  /** Stops the run gracefully when aborted (the result is marked `interrupted`). */
  signal?: AbortSignal;
  /** Default run directory name base (`<cwd>/.redline/runs/...`); used only for the result id. */
  now?: () => Date;
  /** Sends a W3C traceparent on every request and keeps the tail's trace ids (see trace-context.ts). */
  trace?: TraceSettings;
  /** Receives the kept requests' records as the engines report them (about once per second). */
  onTraceRecords?: (records: TraceRecord[]) => void;
  /** This instance's execution segment (`--execution-segment`); absent: the whole run. Checked before anything starts. */
  segment?: SegmentSpec;
  /**
   * Called once every worker is ready; resolves to the engine-clock instant (epoch ms) to start at,
   * e.g. the instant a distributed run's instances agreed on. A rejection ends the run with that
   * error before any request is sent. Default: 50 ms from now.
   */
  startAt?: () => Promise<number>;
  /** Receives each second's interval snapshots (every worker's, before they are merged); see `coordinate`. */
  onIntervals?: (index: number, snapshots: readonly IntervalSnapshot[]) => void;
}

/** A running load test. */
export interface LoadRun {
  /**
   * Graceful stop: no new iterations, in-flight ones drain for the grace period. Marks the run
   * `interrupted`, or `aborted` when the reason is `thresholds` (a distributed run's coordinator).
   */
  stop(reason?: 'thresholds'): void;
  /** Immediate stop: in-flight work is abandoned; the partial result is still produced. */
  abort(): void;
  /** Engine-clock ms at which the load started (after workers are ready). */
  readonly started: Promise<number>;
  /** The result, once every worker has reported its last interval. */
  readonly result: Promise<RunResult>;
}

export { defaultWorkerCount } from './worker-count.js';

/** Most distinct origins the proxy pre-flight opens a tunnel to. */
const PROXY_PREFLIGHT_ORIGINS = 8;

/**
 * With a proxy, checks before any worker starts that it tunnels to the static requests' origins
 * (or the base URL): a refusing proxy is one REDLINE_ERR_PROXY_FAILED, not a run of failures.
 */
async function preflightProxy(init: Omit<EngineInit, 'workerIndex'>): Promise<void> {
  const t = init.transport;
  if (!t?.proxy) return;
  if (t.version === 'h2') throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'proxy: HTTP/2 through a proxy is not supported; use HTTP/1.1 (drop --http2 or protocol: "h2") with --proxy');
  const urls = new Set<string>();
  for (const specs of Object.values(init.requests)) for (const r of specs) urls.add(parseTargetUrl(r.url, init.baseUrl).origin);
  if (urls.size === 0 && init.baseUrl) urls.add(parseTargetUrl(init.baseUrl).origin);
  for (const u of [...urls].slice(0, PROXY_PREFLIGHT_ORIGINS)) await checkProxy(t.proxy, originOf(new URL(u)), Math.min(init.config.timeoutMs, 10_000));
}

/** A worker thread's failure as the error users see (not an "unexpected error"). */
function workerFailed(message: string, cause?: unknown): RedlineError {
  return new RedlineError(ErrorCodes.WORKER_FAILED, `a load-generator worker failed: ${message}`, cause === undefined ? undefined : { cause });
}

/** Planned length of the whole run in ms (the latest scenario end). */
export function plannedDurationMs(plan: LoadPlan): number {
  return Math.max(0, ...plan.config.scenarios.map(scenarioEndMs));
}

interface EngineHandle {
  send(msg: RunnerMessage): void;
  terminate(): void;
}

/**
 * Starts a load test from a validated plan. Thresholds are parsed first, so an invalid
 * expression fails before any request is sent.
 */
export function startLoad(plan: LoadPlan, options: RunLoadOptions = {}): LoadRun {
  const thresholds = parseThresholds(plan.definition.thresholds);
  const share = executionShare(options.segment);
  checkShareRunnable(plan.config.scenarios, share);
  let stopRequested = false;
  let abortRequested = false;
  let status: RunStatus = 'completed';
  const handles: EngineHandle[] = [];
  let startResolve!: (t: number) => void;
  let startReject!: (e: unknown) => void;
  const started = new Promise<number>((res, rej) => {
    startResolve = res;
    startReject = rej;
  });
  started.catch(() => undefined);

  const stop = (reason?: 'thresholds'): void => {
    if (stopRequested) return;
    stopRequested = true;
    if (status === 'completed') status = reason === 'thresholds' ? 'aborted' : 'interrupted';
    for (const h of handles) h.send({ type: 'stop' });
  };
  const abort = (): void => {
    if (abortRequested) return;
    stop();
    abortRequested = true;
    for (const h of handles) h.send({ type: 'abort' });
  };
  if (options.signal) {
    if (options.signal.aborted) stop();
    else options.signal.addEventListener('abort', () => stop(), { once: true });
  }

  // setup() before any engine starts, teardown() after the run however it ended (not after a failed setup).
  const result = (async (): Promise<RunResult> => {
    const transport = await transportConfigOf(plan.definition, plan.config.source);
    const lifecycle = { transport, env: plan.env ?? {}, timeoutMs: plan.config.timeoutMs };
    const setupData = await runSetup(plan.definition, lifecycle);
    let measured: RunResult;
    try {
      measured = await measure(transport, setupData);
    } catch (err) {
      await runTeardown(plan.definition, setupData, lifecycle);
      throw err;
    }
    const teardownError = await runTeardown(plan.definition, setupData, lifecycle);
    if (teardownError) measured.warnings = [...(measured.warnings ?? []), teardownError];
    return measured;
  })();

  async function measure(transport: EngineInit['transport'], setupData: unknown): Promise<RunResult> {
    const startedAtDate = (options.now ?? (() => new Date()))();
    // Under an execution segment each instance keeps only its rows: every row used by one instance.
    const data = (await loadDataSources(plan.definition.data, plan.config.source)).map((d) => segmentRows(d, share));
    const hasScript = plan.config.scenarios.some((s) => s.mode === 'script');
    let workerCount = options.workers ?? plan.config.workers;
    // Iteration functions cannot cross a thread boundary; without a module file to import in
    // each worker, scripted scenarios run on this thread.
    if (hasScript && !plan.config.source) workerCount = 0;
    const engines = Math.max(1, workerCount);
    const baseInit: Omit<EngineInit, 'workerIndex'> = {
      config: { ...plan.config, workers: workerCount },
      workerCount: engines,
      baseUrl: plan.definition.baseUrl,
      defaultHeaders: plan.definition.headers ?? {},
      insecure: plan.definition.insecure ?? false,
      transport,
      requests: Object.fromEntries(plan.requests),
      data,
      dataCounters: data.map(() => new SharedArrayBuffer(4)),
      iterationCounters: plan.config.scenarios.map(() => new SharedArrayBuffer(4)),
      ...(options.trace ? { trace: options.trace } : {}),
      env: plan.env ?? {},
      ...(setupData !== undefined ? { setupData } : {}),
      ...(options.segment ? { segment: options.segment } : {}),
    };
    await preflightProxy(baseInit);

    const agg = new RunAggregate();
    const pending = new Map<number, IntervalSnapshot[]>();
    const lastIndex = new Map<number, number>();
    const doneWorkers = new Set<number>();
    let nextIndex = 1;
    let runStart = 0;
    let cpuPrev = process.cpuUsage();
    let cpuPrevAt = engineNow();
    const fatal: string[] = [];
    /** Worker threads that died before their last snapshot: the run cannot be trusted. */
    const died: string[] = [];
    let allDone!: () => void;
    const finished = new Promise<void>((r) => (allDone = r));
    const plannedMs = plannedDurationMs(plan);
    let aborting = false;

    const emitReady = (): void => {
      for (;;) {
        const idx = nextIndex;
        const snaps = pending.get(idx) ?? [];
        const complete = [...Array(engines).keys()].every((w) => snaps.some((s) => s.worker === w) || (doneWorkers.has(w) && (lastIndex.get(w) ?? 0) < idx));
        if (!complete || (snaps.length === 0 && doneWorkers.size < engines)) return;
        if (snaps.length === 0) break;
        pending.delete(idx);
        nextIndex++;
        const now = engineNow();
        const cpu = process.cpuUsage(cpuPrev);
        const cpuCores = (cpu.user + cpu.system) / 1000 / Math.max(1, now - cpuPrevAt);
        cpuPrev = process.cpuUsage();
        cpuPrevAt = now;
        options.onIntervals?.(idx, snaps);
        const point = agg.addSecond(idx, snaps, cpuCores, Math.min(now - runStart, idx * 1000));
        options.onSecond?.({
          elapsedMs: now - runStart,
          plannedMs,
          point,
          totalRequests: agg.slices.get('all')?.requests ?? 0,
          totalErrors: agg.slices.get('all')?.errors ?? 0,
          ...(agg.intervalHistograms.length ? { latencyHistogram: agg.intervalHistograms.at(-1)! } : {}),
          ...(agg.lastSecondLatency ? { latency: agg.lastSecondLatency } : {}),
        });
        if (!aborting && checkAbort(thresholds, agg, now - runStart)) {
          aborting = true;
          status = 'aborted';
          stopRequested = false;
          stop();
        }
      }
      if (doneWorkers.size === engines && pending.size === 0) allDone();
    };

    const onMessage = (msg: EngineMessage | { type: 'ready' }, worker: number): void => {
      if (msg.type === 'ready') return;
      if (msg.type === 'fatal') {
        fatal.push(msg.message);
        return;
      }
      if (msg.traces?.length) options.onTraceRecords?.(msg.traces);
      const list = pending.get(msg.snapshot.index) ?? [];
      list.push(msg.snapshot);
      pending.set(msg.snapshot.index, list);
      if (msg.type === 'done') {
        doneWorkers.add(worker);
        lastIndex.set(worker, msg.snapshot.index);
      }
      emitReady();
    };

    if (workerCount === 0) {
      const engine = new WorkerEngine({ ...baseInit, workerIndex: 0 }, plan.exec, (m) => queueMicrotask(() => onMessage(m, 0)));
      handles.push({
        send: (m) => {
          if (m.type === 'start') {
            engine.run(m.startAt).catch((err: unknown) => onMessage({ type: 'fatal', message: (err as Error)?.message ?? String(err) }, 0));
          }
          else if (m.type === 'stop') engine.stop();
          else engine.abort();
        },
        terminate: () => undefined,
      });
    } else {
      const ready: Array<Promise<void>> = [];
      // V8's memory reducer runs 3-10 ms mark-compacts in a lightly loaded engine thread about 8 s
      // in, which showed up as schedule-lag spikes (bench/load-timing.bench.ts: p99 2.1 ms with it,
      // 1.6 ms without). The flag is process-wide and applies to isolates created after it is set,
      // i.e. these engine threads; their heaps are then not shrunk while idle, which a load
      // generator does not need.
      setFlagsFromString('--no-memory-reducer');
      for (let w = 0; w < workerCount; w++) {
        const wd: WorkerData = { init: { ...baseInit, workerIndex: w }, scenarioFile: plan.config.source };
        const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: wd, resourceLimits: { maxYoungGenerationSizeMb: ENGINE_YOUNG_GENERATION_MB } });
        ready.push(
          new Promise<void>((res, rej) => {
            worker.on('message', (m: EngineMessage | { type: 'ready' }) => {
              if (m.type === 'ready') res();
              else if (m.type === 'fatal' && runStart === 0) rej(workerFailed(m.message));
              onMessage(m, w);
            });
            worker.on('error', (err) => {
              fatal.push(err.message);
              rej(err);
              if (!doneWorkers.has(w)) {
                died.push(`worker ${w} failed: ${err.message}`);
                doneWorkers.add(w);
                lastIndex.set(w, nextIndex - 1);
                emitReady();
              }
            });
            worker.on('exit', (code) => {
              if (!doneWorkers.has(w)) {
                died.push(`worker ${w} exited (code ${code}) before reporting its last interval`);
                rej(new Error(died.at(-1)));
                doneWorkers.add(w);
                lastIndex.set(w, nextIndex - 1);
                emitReady();
              }
            });
          }),
        );
        handles.push({ send: (m) => worker.postMessage(m), terminate: () => void worker.terminate() });
      }
      try {
        await Promise.all(ready);
      } catch (err) {
        for (const h of handles) h.terminate();
        const e = err instanceof RedlineError ? err : workerFailed((err as Error)?.message ?? String(err), err);
        startReject(e);
        throw e;
      }
    }

    // Start slightly in the future so every worker begins on the same instant.
    if (options.startAt) {
      try {
        runStart = await options.startAt();
      } catch (err) {
        for (const h of handles) h.terminate();
        startReject(err);
        throw err;
      }
    } else runStart = engineNow() + 50;
    startResolve(runStart);
    for (const h of handles) h.send({ type: 'start', startAt: runStart });
    if (stopRequested) for (const h of handles) h.send({ type: 'stop' });
    if (abortRequested) for (const h of handles) h.send({ type: 'abort' });

    let hardTimer: NodeJS.Timeout | null = null;
    const hardWait = new Promise<void>((res) => {
      const check = setInterval(() => {
        if (abortRequested && !hardTimer) {
          // After an abort, workers get a moment to post their final snapshot.
          hardTimer = setTimeout(res, 1000);
        }
      }, 50);
      void finished.then(() => {
        clearInterval(check);
        if (hardTimer) clearTimeout(hardTimer);
        res();
      });
    });
    await Promise.race([finished, hardWait]);
    const endedAt = engineNow();
    // Workers that exit from here on were terminated by us.
    for (let w = 0; w < engines; w++) doneWorkers.add(w);
    for (const h of handles) h.terminate();
    // Whatever arrived but did not make a complete second still counts.
    for (const [idx, snaps] of [...pending.entries()].sort((a, b) => a[0] - b[0])) {
      options.onIntervals?.(idx, snaps);
      agg.addSecond(idx, snaps, 0, endedAt - runStart);
    }
    if (died.length) {
      const measured = agg.slices.get('all')?.requests ?? 0;
      throw new RedlineError(
        ErrorCodes.WORKER_FAILED,
        `the load generator failed: ${died[0]}${died.length > 1 ? ` (and ${died.length - 1} more)` : ''}; its share of the load was lost after ${measured} requests, so the run has no result`,
        { details: { died } },
      );
    }
    if (fatal.length && agg.timeseries.length === 0) throw workerFailed(fatal[0]!);

    // A run stopped before its start instant (Ctrl-C while workers were starting) lasted 0 ms, not less.
    const durationMs = Math.max(0, endedAt - runStart);
    const thresholdResults = evaluateThresholds(thresholds, agg);
    const built = buildResult(plan, {
      agg,
      status,
      startedAt: new Date(startedAtDate.getTime()),
      durationMs,
      thresholds: thresholdResults,
      workers: workerCount,
      warnings: fatal,
    });
    if (options.segment) built.executionSegment = { segment: share.label, sequence: options.segment.sequence ?? null };
    return built;
  }
  // A run that fails before it starts (data files, workers) must not leave `started` pending forever.
  result.catch((err: unknown) => startReject(err));

  return { stop, abort, started, result };
}

/** Runs a plan to completion and returns the result (see `startLoad`). */
export function runLoad(plan: LoadPlan, options: RunLoadOptions = {}): Promise<RunResult> {
  return startLoad(plan, options).result;
}

function checkAbort(thresholds: readonly Threshold[], agg: RunAggregate, elapsedMs: number): boolean {
  const armed = thresholds.filter((t) => t.abortOnFail && elapsedMs >= t.delayAbortEvalMs);
  if (armed.length === 0) return false;
  return evaluateThresholds(armed, agg).some((r) => !r.ok);
}

/** Judges whether the generator, not the target, limited the run. */
export function generatorVerdict(agg: RunAggregate): GeneratorReport {
  const secs = agg.generatorSeconds;
  // The first and last seconds are partial (start-up, drain) and say little about steady state.
  const steady = secs.length > 2 ? secs.slice(1, -1) : secs;
  const busy = steady.filter((s) => s.elu >= 0.95);
  const late = steady.filter((s) => s.intendedRate !== null && s.scheduleLagMs.p99 > 20);
  const reasons: string[] = [];
  const enough = (n: number): boolean => n >= Math.max(2, Math.ceil(steady.length * 0.2));
  if (enough(busy.length)) {
    reasons.push(
      `the load generator's event loop was ≥ 95 % busy in ${busy.length} of ${steady.length} steady seconds, so the numbers may describe the generator rather than the target; add --workers or lower the load`,
    );
  }
  // Lateness alone needs a larger share: a short burst of OS scheduling delay on a shared machine
  // is not the generator failing to keep up.
  if (late.length >= Math.max(3, Math.ceil(steady.length * 0.3))) {
    const worst = Math.max(...late.map((s) => s.scheduleLagMs.p99));
    const idle = late.every((s) => s.elu < 0.5);
    reasons.push(
      `iterations started late (schedule-lag p99 up to ${worst.toFixed(1)} ms) in ${late.length} of ${steady.length} steady seconds, so the intended rate was not held by the generator` +
        (idle ? ' (its event loop was mostly idle: the machine was short of CPU, e.g. the target or other processes used every core)' : ''),
    );
  }
  const outOfFds = agg.slices.get('all')?.errorsByKind.generator ?? 0;
  if (outOfFds > 0) {
    reasons.push(
      `the load generator ran out of file descriptors (EMFILE/ENFILE) on ${outOfFds} request${outOfFds === 1 ? '' : 's'}, which never reached the target; raise its limit (ulimit -n) or use fewer VUs`,
    );
  }
  const lag = agg.lag;
  const elus = steady.map((s) => s.elu);
  const cpus = steady.map((s) => s.cpuCores);
  return {
    limited: reasons.length > 0,
    reasons,
    scheduleLagMs: { p50: lag.percentileMs(50), p99: lag.percentileMs(99), max: lag.maxMs },
    eluMax: elus.length ? Math.max(...elus) : 0,
    eluMean: elus.length ? elus.reduce((a, b) => a + b, 0) / elus.length : 0,
    cpuCoresMean: cpus.length ? cpus.reduce((a, b) => a + b, 0) / cpus.length : 0,
    seconds: secs,
  };
}

/**
 * Builds a RunResult from merged intervals: the local runner's last step, and the coordinator's for
 * a distributed run (whose aggregate holds every instance's snapshots).
 */
export function buildResult(
  plan: Pick<LoadPlan, 'config'>,
  r: { agg: RunAggregate; status: RunStatus; startedAt: Date; durationMs: number; thresholds: ThresholdResult[]; workers: number; warnings: string[] },
): RunResult {
  const { agg } = r;
  const seconds = r.durationMs / 1000;
  const all = agg.slice('all');
  const byName: RunSummary['byName'] = {};
  const byStatusClass: RunSummary['byStatusClass'] = {};
  const byScenario: RunSummary['byScenario'] = {};
  for (const [key, s] of agg.slices) {
    if (key.startsWith('name:')) byName[key.slice(5)] = s.summary(seconds);
    else if (key.startsWith('status:')) byStatusClass[key.slice(7)] = s.summary(seconds);
  }
  for (const sc of plan.config.scenarios) {
    const s = agg.slices.get(`scenario:${sc.name}`) ?? agg.slice(`scenario:${sc.name}`);
    byScenario[sc.name] = { ...s.summary(seconds), iterations: agg.iterations[sc.name] ?? 0, iterationsDropped: agg.dropped[sc.name] ?? 0 };
  }
  const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
  const checks = agg.checkCounts();
  const summary: RunSummary = {
    ...all.summary(seconds),
    durationMs: r.durationMs,
    iterations: sum(agg.iterations),
    iterationsDropped: sum(agg.dropped),
    iterationErrors: sum(agg.iterationErrors),
    dataSentBytes: agg.bytesSent,
    dataReceivedBytes: agg.bytesReceived,
    vusMax: agg.vusMax,
    byName,
    byStatusClass,
    byScenario,
    checks: { passes: checks.passes, fails: checks.fails, byName: Object.fromEntries(Object.entries(agg.checks).map(([n, [p, f]]) => [n, { passes: p, fails: f }])) },
  };
  if (agg.http2ByWorker.size) {
    const h2 = { connections: 0, goaways: 0, streamLimitWaits: 0, refusedStreams: 0 };
    for (const c of agg.http2ByWorker.values()) {
      h2.connections += c.sessions;
      h2.goaways += c.goaways;
      h2.streamLimitWaits += c.streamLimitWaits;
      h2.refusedStreams += c.refusedStreams;
    }
    summary.http2 = h2;
  }
  const grpc = agg.protocols.grpcSummary();
  if (grpc) summary.grpc = grpc;
  const ws = agg.protocols.wsSummary();
  if (ws) summary.ws = ws;
  if (agg.compression) summary.compression = { ...agg.compression };
  const cache = agg.cache.summary();
  if (cache) summary.cache = cache;
  if (agg.timings.size) summary.timings = Object.fromEntries([...agg.timings].map(([phase, h]) => [phase, h.summary()]));
  const byGroup = groupSummaries(agg, seconds);
  if (byGroup) summary.byGroup = byGroup;
  if (agg.custom.size) summary.metrics = Object.fromEntries([...agg.custom].sort(([a], [b]) => a.localeCompare(b)).map(([name, t]) => [name, summarizeCustomMetric(t, seconds)]));
  const generator = generatorVerdict(agg);
  const dirName = defaultRunDir(plan.config.name, r.startedAt, '/').split('/').pop()!;
  const cpuList = cpus();
  const result: RunResult = {
    schemaVersion: RESULT_SCHEMA_VERSION,
    kind: 'run',
    id: dirName,
    name: plan.config.name,
    status: r.status,
    startedAt: r.startedAt.toISOString(),
    endedAt: new Date(r.startedAt.getTime() + r.durationMs).toISOString(),
    config: { ...plan.config, workers: r.workers },
    environment: {
      redlineVersion: REDLINE_VERSION,
      node: process.version,
      platform: process.platform,
      arch: process.arch,
      cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
      cpuCount: cpuList.length,
      totalMemoryBytes: totalmem(),
      hostname: hostname(),
      workers: r.workers,
    },
    generator,
    summary,
    thresholds: r.thresholds,
    timeseries: agg.timeseries,
    histograms: {
      ...all.encoded(),
      byName: slicesWith(agg, 'name:'),
      intervals: agg.intervalHistograms,
      ...(agg.groupDurations.size ? { groups: Object.fromEntries([...agg.groupDurations].map(([path, h]) => [path, h.encode()])) } : {}),
      ...(trendHistograms(agg) ?? {}),
      serviceIntervals: agg.serviceIntervalHistograms,
      byScenario: slicesWith(agg, 'scenario:'),
      byStatusClass: slicesWith(agg, 'status:'),
      scheduleLag: agg.lag.encode(),
      ...(agg.timings.size ? { timings: Object.fromEntries([...agg.timings].map(([phase, h]) => [phase, h.encode()])) } : {}),
    },
    target: null,
    findings: [],
  };
  const warnings = [...r.warnings];
  if (agg.firstIterationError) warnings.push(`iterations failed: ${agg.firstIterationError}`);
  const nothing = noResponseError(result);
  if (nothing) warnings.push(nothing.message);
  if (warnings.length) result.warnings = warnings;
  return result;
}

/** Per group path: the requests tagged with it and the group's duration; null in runs without groups. */
function groupSummaries(agg: RunAggregate, seconds: number): NonNullable<RunSummary['byGroup']> | null {
  const paths = new Set<string>(agg.groupDurations.keys());
  for (const key of agg.slices.keys()) if (key.startsWith('group:')) paths.add(key.slice(6));
  if (paths.size === 0) return null;
  const out: NonNullable<RunSummary['byGroup']> = {};
  for (const path of [...paths].sort()) {
    const traffic = (agg.slices.get(`group:${path}`) ?? agg.slice(`group:${path}`)).summary(seconds);
    const h = agg.groupDurations.get(path);
    out[path] = h && h.count > 0 ? { ...traffic, duration: h.summary() } : traffic;
  }
  return out;
}

function trendHistograms(agg: RunAggregate): { metrics: Record<string, string> } | null {
  const trends = [...agg.custom].filter(([, t]) => t.type === 'trend');
  if (trends.length === 0) return null;
  return { metrics: Object.fromEntries(trends.map(([name, t]) => [name, (t as { histogram: { encode(): string } }).histogram.encode()])) };
}

/** Encoded whole-run histograms of the slices whose key starts with `prefix`, keyed without it. */
function slicesWith(agg: RunAggregate, prefix: string): Record<string, { latency: string; serviceTime: string }> {
  const out: Record<string, { latency: string; serviceTime: string }> = {};
  for (const [k, s] of agg.slices) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = s.encoded();
  return out;
}

/** Error kinds that are not an HTTP response: the request got no status at all. */
function isNoResponseKind(kind: string): boolean {
  // A gRPC status is the server's answer, like an HTTP status; a deadline the client enforced, or
  // a call it cancelled, got none.
  if (kind.startsWith('grpc_')) return kind === 'grpc_deadline_exceeded' || kind === 'grpc_cancelled';
  return !kind.startsWith('http_');
}

/**
 * REDLINE_ERR_NO_RESPONSES when no request of the run got an HTTP response (every one refused,
 * reset, timed out, interrupted, or never made), else null. Such a run measured nothing about the
 * target, so it must not pass: the CLI exits 1 with this message.
 */
export function noResponseError(result: Pick<RunResult, 'summary'>): RedlineError | null {
  const s = result.summary;
  let failed = 0;
  for (const [kind, n] of Object.entries(s.errorsByKind)) if (isNoResponseKind(kind)) failed += n;
  if (s.requests - failed > 0) return null;
  if (s.requests === 0) {
    const why =
      s.iterationErrors > 0 && s.iterationErrors === s.iterations
        ? `all ${s.iterations} iterations failed before sending one`
        : s.iterations > 0
          ? `${s.iterations} iterations ran without sending one`
          : 'no iteration ran (check the load model: duration, VUs, rate)';
    return new RedlineError(ErrorCodes.NO_RESPONSES, `no request was made: ${why}, so the run measured nothing`);
  }
  const kinds = Object.entries(s.errorsByKind)
    .filter(([k, n]) => isNoResponseKind(k) && n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return new RedlineError(ErrorCodes.NO_RESPONSES, `no request got a response: all ${s.requests} failed (${kinds}), so the run measured nothing about the target`, {
    details: { requests: s.requests, errorsByKind: s.errorsByKind },
  });
}

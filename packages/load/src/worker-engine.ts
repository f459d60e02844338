import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { EventLoopUtilization } from 'node:perf_hooks';
import type { ResolvedRunConfig } from '@redline/core';
import { CustomMetricRecorder, attachMetricSink } from './custom-metrics.js';
import { CacheRecorder } from './cache-recorder.js';
import { DataFeed, type LoadedData } from './data-feed.js';
import { engineNow } from './engine-clock.js';
import { executors, isOpenModel, type ExecutorName } from './executors/index.js';
import { ProtocolCounters } from './protocol-counters.js';
import { closeGrpcClients } from './script-grpc.js';
import { TimingRecorder } from './timing-recorder.js';
import { IntervalRecorder, type IntervalSnapshot, type Slice } from './recorder.js';
import { prepareRequest, type OriginOptions, type RequestSpec } from './request.js';
import { createIterationContext, type IterationContext, type ScriptHost } from './script-context.js';
import { TraceStamper, type StampablePayload, type TraceRecord, type TraceSettings } from './trace-context.js';
import { TransportSelector, defaultTransportConfig, type TransportConfig } from './transports/select.js';
import type { Connection, Exchange, PreparedRequest } from './transports/transport.js';
import type { ExecutorEnv, Vu } from './vu.js';
import { executionShare, type ExecutionShare, type SegmentSpec } from './segments.js';

/** Everything a worker needs, all structured-clonable (functions travel as the scenario file path). */
export interface EngineInit {
  config: ResolvedRunConfig;
  workerIndex: number;
  workerCount: number;
  baseUrl: string | undefined;
  defaultHeaders: Record<string, string>;
  insecure: boolean;
  /** HTTP version, TLS material and HTTP/2 sharing (defaults: HTTP/1.1, `insecure` above, no TLS files). */
  transport?: TransportConfig;
  /** Static requests by scenario. */
  requests: Record<string, RequestSpec[]>;
  data: LoadedData[];
  /** One shared counter per data source (same order as `data`). */
  dataCounters: SharedArrayBuffer[];
  /** One shared counter per scenario (same order as config.scenarios), for shared-iterations. */
  iterationCounters: SharedArrayBuffer[];
  /** Set when the run is traced: every request carries a traceparent. */
  trace?: TraceSettings;
  /** The script environment (`ctx.env`). */
  env?: Readonly<Record<string, string>>;
  /** What `setup()` returned (structured-cloneable); each scripted VU gets its own copy as `ctx.data`. */
  setupData?: unknown;
  /** This instance's execution segment; absent: the whole run. */
  segment?: SegmentSpec;
}

/** Messages from the engine to the runner. */
export type EngineMessage =
  | { type: 'interval'; snapshot: IntervalSnapshot; traces?: TraceRecord[] }
  | { type: 'done'; snapshot: IntervalSnapshot; traces?: TraceRecord[] }
  | { type: 'fatal'; message: string };

type IterationFn = (ctx: IterationContext) => unknown;

const YIELD_EVERY_ITERATIONS = 64;

/**
 * The load engine of one worker: runs its share of every scenario, records into per-second
 * interval snapshots aligned on the run start, and reports them through `post`.
 */
export class WorkerEngine {
  readonly #init: EngineInit;
  readonly #post: (msg: EngineMessage) => void;
  readonly #exec: Map<string, IterationFn>;
  readonly #transports: TransportSelector;
  readonly #recorder = new IntervalRecorder();
  readonly #timings = new TimingRecorder();
  readonly #custom = new CustomMetricRecorder(engineNow);
  #detachMetrics: (() => void) | null = null;
  /** gRPC statuses and WebSocket counters of the current interval. */
  readonly #protocols = new ProtocolCounters();
  readonly #cache = new CacheRecorder();
  /** Decoded (Content-Encoding) scripted responses of the current interval. */
  #compression: { responses: number; wireBytes: number; decodedBytes: number } | null = null;
  readonly #connections = new Set<Connection>();
  readonly #vus = new Set<Vu>();
  readonly #feeds = new Map<string, DataFeed>();
  readonly #vuCounts = new Map<string, { active: number; allocated: number }>();
  readonly #stopWaiters = new Set<() => void>();
  #stopping = false;
  #hardStopped = false;
  #startAt = 0;
  #flushed = 0;
  #flushTimer: NodeJS.Timeout | null = null;
  #sweepTimer: NodeJS.Timeout | null = null;
  #elu: EventLoopUtilization = performance.eventLoopUtilization();
  #vuSeq = 0;
  #vusMax = 0;
  #finished = false;
  /** Requests in flight now, and its samples over the current interval (Little's-law check). */
  #inFlight = 0;
  #inFlightSum = 0;
  #inFlightSamples = 0;
  #inFlightTimer: NodeJS.Timeout | null = null;
  readonly #tracer: TraceStamper | null;
  readonly #share: ExecutionShare;

  constructor(init: EngineInit, exec: Map<string, IterationFn>, post: (msg: EngineMessage) => void) {
    this.#init = init;
    this.#tracer = init.trace ? new TraceStamper(init.trace, init.workerIndex, init.workerCount) : null;
    this.#share = executionShare(init.segment);
    this.#exec = exec;
    this.#post = post;
    this.#transports = new TransportSelector(init.transport ?? { ...defaultTransportConfig(), insecure: init.insecure }, this.#protocols.ws);
    init.data.forEach((d, i) => this.#feeds.set(d.name, new DataFeed(d, init.dataCounters[i]!)));
  }

  /** Starts all scenarios at engine time `startAt` and resolves when every one has finished. */
  async run(startAt: number): Promise<void> {
    this.#startAt = startAt;
    this.#detachMetrics = attachMetricSink(this.#custom);
    this.#scheduleFlush();
    const sweepMs = Math.max(5, Math.min(100, this.#init.config.timeoutMs / 4));
    this.#sweepTimer = setInterval(() => this.#sweep(), sweepMs);
    this.#inFlightTimer = setInterval(() => {
      this.#inFlightSum += this.#inFlight;
      this.#inFlightSamples++;
    }, 10);
    try {
      await Promise.all(this.#init.config.scenarios.map((s, i) => this.#runScenario(s, i)));
    } finally {
      this.#finish();
    }
  }

  /** Graceful stop: no new iterations; in-flight ones may finish. */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    for (const w of this.#stopWaiters) w();
    this.#stopWaiters.clear();
  }

  /** Hard stop: abandon in-flight work, report what was measured, and finish now. */
  abort(): void {
    this.stop();
    this.#hardStopped = true;
    this.#finish();
  }

  #runScenario(s: ResolvedRunConfig['scenarios'][number], index: number): Promise<void> {
    const init = this.#init;
    const scenarioSlice = this.#recorder.slice(`scenario:${s.name}`);
    const counts = { active: 0, allocated: 0 };
    this.#vuCounts.set(s.name, counts);
    const scenarioStartAt = this.#startAt + s.startMs;
    const newVu =
      s.mode === 'static'
        ? this.#staticVuFactory(s.name, init.requests[s.name] ?? [], scenarioSlice)
        : this.#scriptVuFactory(s.name, scenarioSlice, s.options);
    const abandonHooks: (() => void)[] = [];
    const env: ExecutorEnv = {
      scenarioStartAt,
      workerIndex: init.workerIndex,
      workerCount: init.workerCount,
      share: this.#share,
      newVu: () => {
        const vu = newVu();
        this.#vus.add(vu);
        return vu;
      },
      stopping: () => this.#stopping,
      waitUntil: (at) => this.#waitUntil(at),
      countDropped: () => this.#recorder.countDropped(s.name),
      onAbandon: (fn) => abandonHooks.push(fn),
      recordLag: (lagMs) => {
        this.#recorder.intended++;
        this.#recorder.lag.recordUs(lagMs * 1000);
      },
      sharedCounter: new Int32Array(init.iterationCounters[index]!),
      setVus: (active, allocated) => {
        counts.active = active;
        counts.allocated = allocated;
      },
      scenarioSlice,
      maxQueueWaitMs: init.config.timeoutMs,
    };
    const executor = executors[s.executor as ExecutorName];
    const work = executor(env, s);
    // Graceful stop: once the scenario's own end (or a stop) comes, in-flight iterations get
    // gracefulStopMs to finish; after that the scenario is abandoned.
    const graceMs = (s.options as { gracefulStopMs?: number }).gracefulStopMs ?? init.config.gracefulStopMs;
    return new Promise<void>((resolve) => {
      let graceTimer: NodeJS.Timeout | null = null;
      let settled = false;
      const settle = (): void => {
        if (graceTimer) clearTimeout(graceTimer);
        settled = true;
        resolve();
      };
      const abandon = (): void => {
        if (settled) return;
        for (const fn of abandonHooks) fn();
        settle();
      };
      work.then(settle, (err: unknown) => {
        this.#post({ type: 'fatal', message: `scenario "${s.name}": ${(err as Error)?.message ?? String(err)}` });
        settle();
      });
      const armGrace = (): void => {
        graceTimer = setTimeout(abandon, graceMs);
        graceTimer.unref();
      };
      const plannedEnd = scenarioStartAt + plannedLengthMs(s);
      const onStop = (): void => armGrace();
      this.#stopWaiters.add(onStop);
      const endTimer = setTimeout(() => {
        this.#stopWaiters.delete(onStop);
        armGrace();
      }, Math.max(0, plannedEnd - engineNow()));
      endTimer.unref();
      work.finally(() => {
        clearTimeout(endTimer);
        this.#stopWaiters.delete(onStop);
      });
    });
  }

  #staticVuFactory(scenario: string, specs: RequestSpec[], scenarioSlice: Slice): () => Vu {
    const init = this.#init;
    const prepared: PreparedRequest[] = specs.map((r) => prepareRequest({ ...r, headers: { ...init.defaultHeaders, ...(r.headers ?? {}) } }, init.baseUrl, this.#originOptions()));
    const nameSlices = prepared.map((p) => this.#recorder.slice(`name:${p.name}`));
    const pick = requestPicker(specs);
    const recorder = this.#recorder;
    const tracer = this.#tracer;
    const timings = this.#timings;
    const protocols = this.#protocols;
    const cache = this.#cache;
    return () => {
      const id = this.#nextVuId();
      const conns: Array<Connection | undefined> = new Array(prepared.length);
      // Traced runs: each VU owns a copy of each payload with a traceparent rewritten per request.
      const stamped: StampablePayload[] | null = tracer ? prepared.map((p) => tracer.stampable(p.payload)) : null;
      let currentSeq = 0;
      // Requests to the same origin share the VU's connection.
      const byOrigin = new Map<string, Connection>();
      const connFor = (i: number): Connection => {
        let c = conns[i];
        if (c) return c;
        const o = prepared[i]!.origin;
        const key = `${o.protocol}//${o.authority}`;
        c = byOrigin.get(key);
        if (!c) {
          c = this.#transports.for(o).connect(o, { keepResponse: false });
          byOrigin.set(key, c);
          this.#connections.add(c);
        }
        conns[i] = c;
        return c;
      };
      // A VU runs one iteration at a time, so the in-flight iteration's state lives on the VU and
      // one callback serves every exchange (no closure allocated per request).
      let current = 0;
      let currentConn: Connection | null = null;
      let currentDelayMs = 0;
      let currentDone: (() => void) | null = null;
      const onExchange = (ex: Exchange): void => {
        this.#inFlight--;
        recorder.recordExchange(nameSlices[current]!, scenarioSlice, ex, currentConn!.startedAt, currentDelayMs);
        timings.record(ex);
        if (ex.grpcStatus !== undefined) protocols.countGrpcCode(ex.grpcStatus);
        if (ex.cache) cache.record(prepared[current]!.name, ex, currentConn!.startedAt);
        if (tracer) tracer.complete(prepared[current]!.name, currentSeq, ex, currentConn!.startedAt, currentDelayMs);
        // Requests interrupted by the end of the run are counted, but start nothing new.
        if (this.#finished) return;
        recorder.countIteration(scenario, false);
        const done = currentDone!;
        currentDone = null;
        done();
      };
      return {
        id,
        run: (startDelayMs, done) => {
          const i = pick();
          const req = prepared[i]!;
          const conn = connFor(i);
          this.#inFlight++;
          current = i;
          currentConn = conn;
          currentDelayMs = startDelayMs;
          currentDone = done;
          if (stamped) {
            const sp = stamped[i]!;
            currentSeq = tracer!.stamp(sp);
            // HTTP/2 translates each payload once, keyed by the Buffer: give it a new one per request.
            conn.exchange(this.#transports.for(req.origin).name === 'http1' ? sp.buf : Buffer.from(sp.buf), req.method, onExchange);
          } else conn.exchange(req.payload, req.method, onExchange);
        },
        close: () => {
          for (const c of byOrigin.values()) {
            c.close();
            this.#connections.delete(c);
          }
        },
      };
    };
  }

  #scriptVuFactory(scenario: string, scenarioSlice: Slice, options: Record<string, unknown>): () => Vu {
    const exec = this.#exec.get(scenario);
    if (!exec) throw new Error(`scenario "${scenario}" has no iteration function in this worker`);
    const init = this.#init;
    const recorder = this.#recorder;
    return () => {
      const id = this.#nextVuId();
      let startDelayMs = 0;
      const host: ScriptHost = {
        transportFor: (origin) => this.#transports.for(origin),
        baseUrl: init.baseUrl,
        defaultHeaders: init.defaultHeaders,
        insecure: init.insecure,
        originOptions: this.#originOptions(),
        track: (c) => this.#connections.add(c),
        untrack: (c) => this.#connections.delete(c),
        onExchangeStart: () => this.#inFlight++,
        onExchange: (name, ex, startedAt, traceSeq, group) => {
          this.#inFlight--;
          recorder.recordExchange(recorder.slice(`name:${name}`), scenarioSlice, ex, startedAt, startDelayMs, group ? recorder.slice(`group:${group}`) : null);
          this.#timings.record(ex);
          if (ex.cache) this.#cache.record(name, ex, startedAt);
          if (this.#tracer && traceSeq !== undefined) this.#tracer.complete(name, traceSeq, ex, startedAt, startDelayMs);
        },
        onLaggedExchange: (name, ex, startedAt, lagMs) => {
          this.#inFlight--;
          recorder.recordExchange(recorder.slice(`name:${name}`), scenarioSlice, ex, startedAt, startDelayMs + lagMs);
        },
        baseDir: init.config.source ? dirname(init.config.source) : process.cwd(),
        onGrpcStatus: (status) => this.#protocols.countGrpc(status),
        wsCounters: this.#protocols.ws,
        ...(this.#tracer ? { traceparent: this.#tracer.header.bind(this.#tracer) } : {}),
        onCheck: (name, ok) => recorder.countCheck(name, ok),
        onGroup: (path, durationMs) => {
          if (!this.#finished) recorder.recordGroup(path, durationMs);
        },
        feeds: this.#feeds,
        sleep: (ms) => this.#sleep(ms),
        ...(typeof options.maxBodyBytes === 'number' ? { maxBodyBytes: options.maxBodyBytes } : {}),
        ...(typeof options.discardResponseBodies === 'boolean' ? { discardResponseBodies: options.discardResponseBodies } : {}),
        onDecoded: (wire, decoded) => {
          const c = (this.#compression ??= { responses: 0, wireBytes: 0, decodedBytes: 0 });
          c.responses++;
          c.wireBytes += wire;
          c.decodedBytes += decoded;
        },
      };
      // A copy per VU, as in k6: one VU changing its data cannot change another's.
      const data = init.setupData === undefined ? undefined : structuredClone(init.setupData);
      const { ctx, close: closeVu } = createIterationContext(host, id, scenario, init.env ?? {}, data);
      let sinceYield = 0;
      let closed = false;
      return {
        id,
        run: (delay, done) => {
          startDelayMs = delay;
          const finish = (failed: boolean, message?: string): void => {
            if (closed) return;
            recorder.countIteration(scenario, failed, message);
            ctx.iteration++;
            // A script that never awaits anything real would otherwise starve timers forever.
            if (++sinceYield >= YIELD_EVERY_ITERATIONS) {
              sinceYield = 0;
              setImmediate(done);
            } else done();
          };
          let result: unknown;
          try {
            result = exec(ctx);
          } catch (err) {
            finish(true, (err as Error)?.message ?? String(err));
            return;
          }
          Promise.resolve(result).then(
            () => finish(false),
            (err: unknown) => finish(true, (err as Error)?.message ?? String(err)),
          );
        },
        close: () => {
          closed = true;
          closeVu();
        },
      };
    };
  }

  #originOptions(): OriginOptions {
    const t = this.#transports.config;
    return { insecure: t.insecure, tls: t.tls, version: t.version, proxy: t.proxy ?? null };
  }

  #nextVuId(): number {
    // Interleaved ids are unique across workers without coordination.
    return this.#init.workerIndex + 1 + this.#init.workerCount * this.#vuSeq++;
  }

  #waitUntil(at: number): Promise<void> {
    const delay = at - engineNow();
    if (delay <= 0 || this.#stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#stopWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, delay);
      this.#stopWaiters.add(done);
    });
  }

  #sleep(ms: number): Promise<void> {
    if (this.#hardStopped) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, Math.max(0, ms));
      // A hard stop must not wait for user sleeps.
      t.unref();
    });
  }

  #sweep(): void {
    const timeoutMs = this.#init.config.timeoutMs;
    const now = engineNow();
    for (const c of this.#connections) {
      if (c.busy && now - c.startedAt > timeoutMs) c.abort('timeout', `no response within ${timeoutMs} ms`);
    }
  }

  #scheduleFlush(): void {
    const next = this.#startAt + (this.#flushed + 1) * 1000;
    this.#flushTimer = setTimeout(() => {
      this.#flush('interval');
      this.#scheduleFlush();
    }, Math.max(0, next - engineNow()));
  }

  #flush(type: 'interval' | 'done'): void {
    const elu = performance.eventLoopUtilization(this.#elu);
    this.#elu = performance.eventLoopUtilization();
    let vus = 0;
    let allocated = 0;
    for (const c of this.#vuCounts.values()) {
      vus += c.active;
      allocated += c.allocated;
    }
    this.#vusMax = Math.max(this.#vusMax, allocated, vus);
    const snapshot = this.#recorder.snapshot(++this.#flushed, this.#init.workerIndex, {
      vus,
      vusMax: this.#vusMax,
      elu: elu.utilization,
      hasOpenModel: this.#init.config.scenarios.some((s) => isOpenModel(s.executor)),
      inFlight: this.#inFlightSamples ? this.#inFlightSum / this.#inFlightSamples : this.#inFlight,
    });
    const timings = this.#timings.snapshot();
    if (timings) snapshot.timings = timings;
    const custom = this.#custom.snapshot();
    if (custom) snapshot.custom = custom;
    const cache = this.#cache.snapshot();
    if (cache) snapshot.cache = cache;
    if (this.#compression) snapshot.compression = this.#compression;
    this.#compression = null;
    const h2 = this.#transports.http2Counters();
    if (h2.sessions > 0) snapshot.http2 = h2;
    this.#protocols.drainInto(snapshot);
    this.#inFlightSum = 0;
    this.#inFlightSamples = 0;
    this.#post(this.#tracer ? { type, snapshot, traces: this.#tracer.drain() } : { type, snapshot });
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    if (this.#inFlightTimer) clearInterval(this.#inFlightTimer);
    // Requests still in flight when the graceful stop ended never completed. Counting them (as
    // `interrupted`) is what keeps a server that accepts and never answers from looking like a
    // run of zero requests.
    for (const c of this.#connections) {
      if (c.busy) c.abort('interrupted', 'still in flight when the graceful stop ended');
    }
    for (const vu of this.#vus) vu.close();
    for (const c of this.#connections) c.close();
    this.#detachMetrics?.();
    this.#flush('done');
    // After the last snapshot, which carries the transports' counters.
    this.#transports.close();
    closeGrpcClients();
  }
}

function plannedLengthMs(s: ResolvedRunConfig['scenarios'][number]): number {
  const o = s.options as { durationMs?: number; maxDurationMs?: number; stages?: Array<{ durationMs: number }> };
  return o.durationMs ?? (o.stages ? o.stages.reduce((a, st) => a + st.durationMs, 0) : (o.maxDurationMs ?? 0));
}

/** Round-robin over requests, or weighted random when any request has a weight. */
function requestPicker(specs: readonly RequestSpec[]): () => number {
  if (specs.length === 1) return () => 0;
  if (specs.some((s) => s.weight !== undefined)) {
    const cumulative: number[] = [];
    let sum = 0;
    for (const s of specs) cumulative.push((sum += s.weight ?? 1));
    return () => {
      const r = Math.random() * sum;
      let i = 0;
      while (cumulative[i]! <= r) i++;
      return i;
    };
  }
  let next = 0;
  return () => {
    const i = next;
    next = (next + 1) % specs.length;
    return i;
  };
}

import { request } from 'node:http';
import { open, rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { ErrorCodes, RedlineError } from '@redline/core';
import { InspectorClient } from './inspector-client.js';
import { createSampler } from './sampler.cjs';
import type { FullGcResult, HeapSnapshotResult, RawProbeSample } from './protocol.cjs';

/** Options of `attachInspector`. */
export interface AttachOptions {
  /** Sampling window in ms (default 100, 50–60000); each window is one `Runtime.evaluate` round trip. */
  intervalMs?: number;
  /** CPU profiler sampling interval in µs (default 1000, 10–1000000). */
  cpuSamplingIntervalUs?: number;
  /** Mean bytes between heap samples (default 32768). */
  heapSamplingIntervalBytes?: number;
  /** Timeout for discovering and connecting to the inspector, in ms (default 5000). */
  connectTimeoutMs?: number;
  /** Most raw samples kept (default 100000; oldest dropped first). */
  maxSamples?: number;
}

/** A process attached through its inspector (`node --inspect`). */
export interface AttachedTarget {
  /** Pid of the attached process. */
  readonly pid: number;
  /** The inspector WebSocket URL in use. */
  readonly webSocketUrl: string;
  /** Raw samples (main thread only) collected so far, same shape as the probe's. */
  samples(): RawProbeSample[];
  /** Subscribes to samples as they arrive; returns the unsubscribe function. */
  onSample(listener: (sample: RawProbeSample) => void): () => void;
  /** V8 heap usage now (`Runtime.getHeapUsage`), in bytes. */
  heapUsage(): Promise<{ usedBytes: number; totalBytes: number }>;
  /** Starts CPU profiling at `samplingIntervalUs` (default: the attach option `cpuSamplingIntervalUs`). */
  startCpuProfile(opts?: { samplingIntervalUs?: number }): Promise<void>;
  /**
   * Stops CPU profiling; the profile carries `$redline.startEpochMs` (target's clock). Worker threads
   * (seen through the inspector's `NodeWorker` domain, also those started while profiling ran) come
   * back in `threads`, keyed `worker-<threadId>`.
   */
  stopCpuProfile(): Promise<{ profile: Record<string, unknown>; startEpochMs: number; endEpochMs: number; threads?: Record<string, { profile: Record<string, unknown>; startEpochMs: number; endEpochMs: number }> }>;
  startHeapProfile(): Promise<void>;
  stopHeapProfile(): Promise<{ profile: Record<string, unknown>; startEpochMs: number; endEpochMs: number }>;
  /**
   * One full (mark-compact) collection in the target, through V8's `gc()` (exposed for the call only,
   * as the launched probe does); heap used right after it. The sampler leaves its pause out of loop
   * delay, ELU and CPU.
   */
  collectGarbage(): Promise<FullGcResult>;
  /**
   * Takes a heap snapshot over the inspector (`HeapProfiler.takeHeapSnapshot`) and streams it into
   * `path` on this machine (absolute, ending in `.heapsnapshot`, must not exist). The target is paused
   * while V8 writes it; that pause is left out of its loop delay like a forced GC's.
   */
  writeHeapSnapshot(path: string): Promise<HeapSnapshotResult>;
  /** Resolves when the inspector connection closes (target exited or detached); never rejects. */
  readonly closed: Promise<void>;
  /** Stops sampling, removes what was installed in the target, and closes the connection. */
  detach(): Promise<void>;
}

const SAMPLER_KEY = 'Symbol.for("redline.attach.sampler")';

function attachError(message: string, cause?: unknown): RedlineError {
  return new RedlineError(ErrorCodes.ATTACH_FAILED, message, cause === undefined ? undefined : { cause });
}

function parseHostPort(hostPort: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(hostPort.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 1 && port <= 65535)) {
    throw new RedlineError(ErrorCodes.USAGE, `--attach expects HOST:PORT (e.g. 127.0.0.1:9229), got "${hostPort}"`);
  }
  return { host: (m[1] ?? m[2]) as string, port };
}

function getJson(host: string, port: number, path: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'GET', timeout: timeoutMs, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > 1024 * 1024) req.destroy(new Error('response too large'));
        else chunks.push(c);
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new Error(`GET ${path} answered HTTP ${res.statusCode ?? '?'} without inspector JSON`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function checkRange(name: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `attachInspector: ${name} must be a number from ${min} to ${max}, got ${String(value)}`);
  }
}

/**
 * Attaches to a Node.js process started with `--inspect` at `hostPort` (`HOST:PORT`), starts sampling
 * its main thread by evaluating public APIs (event-loop utilisation and delay, GC, memory, CPU, active
 * resources), and offers CPU and sampling-heap profiling through the inspector protocol.
 * Throws RedlineError `REDLINE_ERR_ATTACH_FAILED` when nothing answers there or it is not an inspector,
 * `REDLINE_ERR_USAGE` when `hostPort` is malformed. Worker threads are not observed in this mode.
 */
export async function attachInspector(hostPort: string, opts: AttachOptions = {}): Promise<AttachedTarget> {
  const { host, port } = parseHostPort(hostPort);
  checkRange('intervalMs', opts.intervalMs, 50, 60_000);
  checkRange('cpuSamplingIntervalUs', opts.cpuSamplingIntervalUs, 10, 1_000_000);
  checkRange('heapSamplingIntervalBytes', opts.heapSamplingIntervalBytes, 1024, 1 << 30);
  checkRange('connectTimeoutMs', opts.connectTimeoutMs, 100, 600_000);
  checkRange('maxSamples', opts.maxSamples, 100, 10_000_000);
  const intervalMs = opts.intervalMs ?? 100;
  const connectTimeoutMs = opts.connectTimeoutMs ?? 5000;
  const cpuSamplingIntervalUs = opts.cpuSamplingIntervalUs ?? 1000;
  const heapSamplingIntervalBytes = opts.heapSamplingIntervalBytes ?? 32768;
  const maxSamples = opts.maxSamples ?? 100_000;

  let list: unknown;
  try {
    list = await getJson(host, port, '/json/list', connectTimeoutMs);
  } catch (err) {
    const reason = err instanceof Error ? ((err as NodeJS.ErrnoException).code ?? err.message) : String(err);
    throw attachError(`no Node.js inspector at ${hostPort} (${reason}); start the target with --inspect=${hostPort}`, err);
  }
  const targets = Array.isArray(list) ? (list as Array<{ type?: string; webSocketDebuggerUrl?: string }>) : [];
  const target = targets.find((t) => typeof t.webSocketDebuggerUrl === 'string' && (t.type === 'node' || t.type === undefined));
  if (!target?.webSocketDebuggerUrl) {
    throw attachError(`${hostPort} answers HTTP but lists no Node.js inspector target (GET /json/list)`);
  }
  const wsUrl = target.webSocketDebuggerUrl;
  let client: InspectorClient;
  try {
    client = await InspectorClient.connect(wsUrl, connectTimeoutMs);
  } catch (err) {
    throw attachError(`could not open the inspector WebSocket ${wsUrl}: ${err instanceof Error ? err.message : String(err)} (is another debugger attached?)`, err);
  }

  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await client.send<{ result: { value?: unknown }; exceptionDetails?: { text?: string; exception?: { description?: string } } }>(
      'Runtime.evaluate',
      // includeCommandLineAPI makes `require` available in the evaluated code on Node.
      { expression, returnByValue: true, includeCommandLineAPI: true, silent: true },
    );
    if (r.exceptionDetails) {
      throw new Error(r.exceptionDetails.exception?.description ?? r.exceptionDetails.text ?? 'evaluation failed');
    }
    return r.result.value as T;
  };

  let pid: number;
  try {
    pid = await evaluate<number>('process.pid');
    await evaluate<boolean>(`(() => {
      const key = ${SAMPLER_KEY};
      if (globalThis[key]) return true;
      const ph = require('node:perf_hooks');
      const v8 = require('node:v8');
      const fs = require('node:fs');
      const createSampler = (${createSampler.toString()});
      Object.defineProperty(globalThis, key, { configurable: true, enumerable: false, value: createSampler({
        performance: ph.performance, monitorEventLoopDelay: ph.monitorEventLoopDelay,
        PerformanceObserver: ph.PerformanceObserver, getHeapStatistics: v8.getHeapStatistics, process,
        readProcIo: () => (process.platform === 'linux' ? fs.readFileSync('/proc/self/io', 'latin1') : null),
        isMainThread: true, thread: 'main', ownResources: {} }) });
      return true;
    })()`);
  } catch (err) {
    client.close();
    throw attachError(`attached to ${hostPort} but could not install the sampler: ${err instanceof Error ? err.message : String(err)}`, err);
  }

  // Worker threads: the inspector's NodeWorker domain attaches a session per worker, spoken to through
  // NodeWorker.sendMessageToWorker / receivedMessageFromWorker.
  interface WorkerSession {
    label: string;
    nextId: number;
    pending: Map<number, { resolve(v: unknown): void; reject(e: Error): void }>;
    profiling: boolean;
  }
  const workers = new Map<string, WorkerSession>();
  let cpuProfiling = false;
  let profilingInterval = cpuSamplingIntervalUs;
  const workerSend = <T>(sessionId: string, method: string, params: object = {}): Promise<T> => {
    const w = workers.get(sessionId);
    if (!w) return Promise.reject(new Error('worker is gone'));
    const id = w.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        w.pending.delete(id);
        reject(new Error(`worker did not answer ${method}`));
      }, 60_000);
      timer.unref();
      w.pending.set(id, { resolve: (v) => (clearTimeout(timer), resolve(v as T)), reject: (e) => (clearTimeout(timer), reject(e)) });
      client.send('NodeWorker.sendMessageToWorker', { sessionId, message: JSON.stringify({ id, method, params }) }).catch((e: Error) => w.pending.get(id)?.reject(e));
    });
  };
  const startWorkerProfile = async (sessionId: string): Promise<void> => {
    const w = workers.get(sessionId);
    if (!w) return;
    try {
      await workerSend(sessionId, 'Profiler.enable');
      await workerSend(sessionId, 'Profiler.setSamplingInterval', { interval: profilingInterval });
      await workerSend(sessionId, 'Profiler.start');
      w.profiling = true;
    } catch {
      // a worker that ends meanwhile has nothing to profile
    }
  };
  client.onEvent((method, params) => {
    if (method === 'NodeWorker.attachedToWorker') {
      const sessionId = String(params.sessionId);
      const info = (params.workerInfo ?? {}) as { workerId?: unknown };
      workers.set(sessionId, { label: `worker-${String(info.workerId)}`, nextId: 1, pending: new Map(), profiling: false });
      if (cpuProfiling) void startWorkerProfile(sessionId);
    } else if (method === 'NodeWorker.receivedMessageFromWorker') {
      const w = workers.get(String(params.sessionId));
      let m: { id?: number; result?: unknown; error?: { message?: string } };
      try {
        m = JSON.parse(String(params.message)) as typeof m;
      } catch {
        return;
      }
      const p = typeof m.id === 'number' ? w?.pending.get(m.id) : undefined;
      if (!w || !p || typeof m.id !== 'number') return;
      w.pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error.message ?? 'inspector error'));
      else p.resolve(m.result);
    } else if (method === 'NodeWorker.detachedFromWorker') {
      const sessionId = String(params.sessionId);
      for (const p of workers.get(sessionId)?.pending.values() ?? []) p.reject(new Error('worker detached'));
      workers.delete(sessionId);
    }
  });
  await client.send('NodeWorker.enable', { waitForDebuggerOnStart: false }).catch(() => undefined);

  const raw: RawProbeSample[] = [];
  const listeners = new Set<(s: RawProbeSample) => void>();
  let polling = true;
  let pollTimer: NodeJS.Timeout | null = null;
  const poll = async (): Promise<void> => {
    if (!polling || client.isClosed) return;
    try {
      const json = await evaluate<string>(`JSON.stringify(globalThis[${SAMPLER_KEY}]?.take(0) ?? null)`);
      const sample = JSON.parse(json) as RawProbeSample | null;
      if (sample) {
        if (raw.length >= maxSamples) raw.splice(0, Math.ceil(maxSamples / 10));
        raw.push(sample);
        for (const l of listeners) l(sample);
      }
    } catch {
      // a failed round trip loses one window; the next one covers the gap
    }
    if (polling && !client.isClosed) {
      pollTimer = setTimeout(() => void poll(), intervalMs);
      pollTimer.unref();
    }
  };
  pollTimer = setTimeout(() => void poll(), intervalMs);
  pollTimer.unref();

  const nowInTarget = (): Promise<number> => evaluate<number>('performance.timeOrigin + performance.now()');
  let cpuStart = 0;
  let heapStart = 0;
  const wrap = (what: string) => (err: unknown): never => {
    throw attachError(`${what} over the inspector failed: ${err instanceof Error ? err.message : String(err)}`, err);
  };

  /** Streams `HeapProfiler.addHeapSnapshotChunk` events into `path` while the snapshot is taken. */
  const takeSnapshot = async (path: string): Promise<HeapSnapshotResult> => {
    const file = await open(path, 'wx');
    let fileBytes = 0;
    let writing: Promise<unknown> = Promise.resolve();
    const off = client.onEvent((method, params) => {
      if (method !== 'HeapProfiler.addHeapSnapshotChunk') return;
      const chunk = Buffer.from(String(params.chunk), 'utf8');
      fileBytes += chunk.length;
      writing = writing.then(() => file.write(chunk));
    });
    try {
      const before = await evaluate<{ perf: number; used: number }>("({ perf: performance.now(), used: require('node:v8').getHeapStatistics().used_heap_size })");
      // Chunks arrive as events before the command's answer; a large heap takes long on a busy machine.
      await client.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false }, 600_000);
      const after = await evaluate<{ perf: number; epoch: number; used: number }>(
        `(() => { const t = performance.now(); globalThis[${SAMPLER_KEY}]?.notePause(${before.perf}, t); return { perf: t, epoch: performance.timeOrigin + t, used: require('node:v8').getHeapStatistics().used_heap_size }; })()`,
      );
      await writing;
      if (fileBytes === 0) throw new Error('the inspector sent no snapshot data');
      return { path, atEpochMs: after.epoch, heapUsedBytes: before.used, heapAfterBytes: after.used, pauseMs: after.perf - before.perf, fileBytes };
    } catch (err) {
      await writing.catch(() => undefined);
      await file.close().catch(() => undefined);
      await rm(path, { force: true });
      throw err;
    } finally {
      off();
      await file.close().catch(() => undefined);
    }
  };

  return {
    pid,
    webSocketUrl: wsUrl,
    samples: () => raw.slice(),
    onSample(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async heapUsage() {
      const r = await client.send<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage').catch(wrap('Runtime.getHeapUsage'));
      return { usedBytes: r.usedSize, totalBytes: r.totalSize };
    },
    async startCpuProfile(startOpts) {
      checkRange('samplingIntervalUs', startOpts?.samplingIntervalUs, 10, 1_000_000);
      const interval = startOpts?.samplingIntervalUs ?? cpuSamplingIntervalUs;
      await (async () => {
        await client.send('Profiler.enable');
        await client.send('Profiler.setSamplingInterval', { interval });
        cpuStart = await nowInTarget();
        await client.send('Profiler.start');
        profilingInterval = interval;
        cpuProfiling = true;
        await Promise.all([...workers.keys()].map((id) => startWorkerProfile(id)));
      })().catch(wrap('starting the CPU profile'));
    },
    async stopCpuProfile() {
      return await (async () => {
        const { profile } = await client.send<{ profile: Record<string, unknown> & { startTime?: number } }>('Profiler.stop', {}, 60_000);
        const [hrMs, epochMs] = await evaluate<[number, number]>('[Number(process.hrtime.bigint()) / 1e6, performance.timeOrigin + performance.now()]');
        await client.send('Profiler.disable').catch(() => undefined);
        let startEpochMs = cpuStart;
        if (typeof profile.startTime === 'number') {
          const mapped = profile.startTime / 1000 - hrMs + epochMs;
          if (Math.abs(mapped - cpuStart) < 1000) startEpochMs = mapped;
        }
        profile.$redline = { startEpochMs, endEpochMs: epochMs, thread: 'main', pid };
        cpuProfiling = false;
        const threads: Record<string, { profile: Record<string, unknown>; startEpochMs: number; endEpochMs: number }> = {};
        for (const [sessionId, w] of workers) {
          if (!w.profiling) continue;
          w.profiling = false;
          const r = await workerSend<{ profile: Record<string, unknown> & { startTime?: number } }>(sessionId, 'Profiler.stop').catch(() => null);
          if (r === null) continue;
          // Worker profiles share the process's monotonic clock.
          const start = typeof r.profile.startTime === 'number' ? r.profile.startTime / 1000 - hrMs + epochMs : startEpochMs;
          r.profile.$redline = { startEpochMs: start, endEpochMs: epochMs, thread: w.label, pid };
          threads[w.label] = { profile: r.profile, startEpochMs: start, endEpochMs: epochMs };
        }
        return { profile, startEpochMs, endEpochMs: epochMs, ...(Object.keys(threads).length > 0 ? { threads } : {}) };
      })().catch(wrap('stopping the CPU profile'));
    },
    async startHeapProfile() {
      await (async () => {
        await client.send('HeapProfiler.enable');
        heapStart = await nowInTarget();
        await client.send('HeapProfiler.startSampling', { samplingInterval: heapSamplingIntervalBytes });
      })().catch(wrap('starting the heap profile'));
    },
    async stopHeapProfile() {
      return await (async () => {
        const { profile } = await client.send<{ profile: Record<string, unknown> }>('HeapProfiler.stopSampling', {}, 60_000);
        const endEpochMs = await nowInTarget();
        await client.send('HeapProfiler.disable').catch(() => undefined);
        profile.$redline = { startEpochMs: heapStart, endEpochMs, thread: 'main', pid };
        return { profile, startEpochMs: heapStart, endEpochMs };
      })().catch(wrap('stopping the heap profile'));
    },
    async collectGarbage() {
      return await evaluate<FullGcResult>(`(() => {
        const v8 = require('node:v8');
        v8.setFlagsFromString('--expose-gc');
        const gc = require('node:vm').runInNewContext('gc');
        const { performance } = require('node:perf_hooks');
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        gc();
        const t1 = performance.now();
        const cpu = process.cpuUsage(cpu0);
        globalThis[${SAMPLER_KEY}]?.notePause(t0, t1, cpu);
        return { atEpochMs: performance.timeOrigin + performance.now(), heapUsedBytes: v8.getHeapStatistics().used_heap_size, pauseMs: t1 - t0, cpuMs: (cpu.user + cpu.system) / 1000 };
      })()`).catch(wrap('forcing a garbage collection'));
    },
    async writeHeapSnapshot(path) {
      if (!isAbsolute(path) || !path.endsWith('.heapsnapshot')) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `writeHeapSnapshot: path must be absolute and end in .heapsnapshot, got "${path}"`);
      return await takeSnapshot(path).catch(wrap('taking a heap snapshot'));
    },
    closed: client.closed,
    async detach() {
      polling = false;
      if (pollTimer) clearTimeout(pollTimer);
      if (!client.isClosed) {
        await evaluate(`(() => { const key = ${SAMPLER_KEY}; globalThis[key]?.stop(); delete globalThis[key]; return true; })()`).catch(
          () => undefined,
        );
        client.close();
      }
    },
  };
}

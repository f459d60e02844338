import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { performance, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics, setFlagsFromString, writeHeapSnapshot } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';
import diagnosticsChannel from 'node:diagnostics_channel';
import { Session } from 'node:inspector';
import {
  PROBE_INTERVAL_ENV,
  PROBE_POOL_LEAK_ENV,
  PROBE_POOLS_ENV,
  PROBE_SOCKET_ENV,
  type FullGcResult,
  type HeapSnapshotResult,
  type HostCommand,
  type ProbeMessage,
  type ProfileResult,
} from './protocol.cjs';
import { createSampler, type Sampler, type SamplerDeps } from './sampler.cjs';
import { createThreadpoolMeter } from './threadpool-meter.cjs';
import { startPoolForwarding } from './pool-forwarding.cjs';
import { createServerSettingsWatcher } from './server-settings.cjs';

/** Most messages the probe queues while the runner is not reading; older samples are dropped first. */
const MAX_QUEUED_MESSAGES = 600;
/** Most listen events reported per thread (the host only needs the first). */
const MAX_LISTEN_REPORTS = 8;
/** Longest command line accepted from the host, in bytes. */
const MAX_COMMAND_BYTES = 64 * 1024;

const STATE_KEY = Symbol.for('redline.probe.state');

/** Options of `startProbe`; all default from the environment. */
export interface StartProbeOptions {
  /** Unix socket path of the runner; default `process.env.REDLINE_PROBE_SOCKET`. Nothing starts without it. */
  socketPath?: string;
  /** Sampling window in ms (10–60000); default `REDLINE_PROBE_INTERVAL_MS` or 100. */
  intervalMs?: number;
}

/** Handle of a running probe in this thread. */
export interface ProbeInstance {
  /** Stops sampling, closes the connection and ends any profiling session. Idempotent. */
  stop(): void;
}

function nowEpochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Maps a V8 monotonic timestamp (µs, same clock as `process.hrtime`) to epoch ms. */
function monotonicUsToEpochMs(us: number): number {
  const hrMs = Number(process.hrtime.bigint()) / 1e6;
  const epoch = nowEpochMs();
  return us / 1000 - hrMs + epoch;
}

/** Spans (performance.now ms) in which the probe forced a collection; GCs starting inside are the probe's. */
const forcedSpans: Array<[number, number]> = [];
let fullGc: (() => void) | null | undefined;

/**
 * One full (mark-compact) collection: V8's `gc()`, exposed for this call only through `--expose-gc`
 * in a fresh context. The inspector's `HeapProfiler.collectGarbage` runs several in a row, several
 * times the pause. Null when the flag cannot be set.
 */
function fullGcFunction(): (() => void) | null {
  if (fullGc !== undefined) return fullGc;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    fullGc = typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    fullGc = null;
  }
  return fullGc;
}

function markForced(from: number, to: number): void {
  forcedSpans.push([from, to]);
  if (forcedSpans.length > 64) forcedSpans.shift();
}

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => {
      if (err) reject(err);
      else resolve(result as T);
    });
  });
}

/**
 * Starts the probe in the current thread (main thread or worker) if a runner socket is configured.
 * Returns `null` when there is no socket to report to or the probe already runs in this thread.
 * Never throws: a probe that cannot start leaves the target untouched.
 */
export function startProbe(options: StartProbeOptions = {}): ProbeInstance | null {
  try {
    return startProbeUnsafe(options);
  } catch {
    return null;
  }
}

function startProbeUnsafe(options: StartProbeOptions): ProbeInstance | null {
  const socketPath = options.socketPath ?? process.env[PROBE_SOCKET_ENV];
  if (!socketPath) return null;
  const g = globalThis as Record<symbol, unknown>;
  if (g[STATE_KEY]) return null;
  const envInterval = Number(process.env[PROBE_INTERVAL_ENV]);
  let intervalMs = options.intervalMs ?? (Number.isFinite(envInterval) && envInterval > 0 ? envInterval : 100);
  intervalMs = Math.min(60_000, Math.max(10, Math.round(intervalMs)));
  const thread = isMainThread ? 'main' : `worker-${threadId}`;

  const queue: string[] = [];
  let dropped = 0;
  let blocked = true; // until connected
  let stopped = false;
  let session: Session | null = null;
  let cpuStartEpochMs = 0;
  let heapStartEpochMs = 0;
  let listenReports = 0;

  const socket: Socket = createConnection(socketPath);
  socket.unref();
  socket.setEncoding('utf8');

  function flush(): void {
    while (!blocked && queue.length > 0 && !stopped) {
      const line = queue.shift() as string;
      if (!socket.write(line)) blocked = true;
    }
  }
  function send(message: ProbeMessage): void {
    if (stopped) return;
    if (queue.length >= MAX_QUEUED_MESSAGES) {
      // Drop the oldest sample, never a reply the host is waiting for.
      const index = queue.findIndex((line) => line.startsWith('{"type":"sample"'));
      queue.splice(index === -1 ? 0 : index, 1);
      dropped += 1;
    }
    queue.push(JSON.stringify(message) + '\n');
    flush();
  }

  socket.on('connect', () => {
    blocked = false;
    flush();
  });
  socket.on('drain', () => {
    blocked = false;
    flush();
  });
  socket.on('error', () => stop());
  socket.on('close', () => stop());

  let buffered = '';
  socket.on('data', (chunk: string) => {
    try {
      buffered += chunk;
      if (buffered.length > MAX_COMMAND_BYTES) buffered = '';
      let newline = buffered.indexOf('\n');
      while (newline !== -1) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (line.trim() !== '') void handleCommand(JSON.parse(line) as HostCommand);
        newline = buffered.indexOf('\n');
      }
    } catch {
      buffered = '';
    }
  });

  function getSession(): Session {
    if (!session) {
      session = new Session();
      session.connect();
    }
    return session;
  }

  async function handleCommand(command: HostCommand): Promise<void> {
    try {
      const result = await runCommand(command);
      send({ type: 'reply', id: command.id, ok: true, result });
    } catch (err) {
      send({ type: 'reply', id: command.id, ok: false, error: err instanceof Error ? err.message : String(err) });
    }
  }

  async function runCommand(command: HostCommand): Promise<unknown> {
    const s = getSession();
    switch (command.cmd) {
      case 'cpu-start':
        await post(s, 'Profiler.enable');
        await post(s, 'Profiler.setSamplingInterval', { interval: Math.max(1, Math.round(command.samplingIntervalUs)) });
        cpuStartEpochMs = nowEpochMs();
        await post(s, 'Profiler.start');
        return { startEpochMs: cpuStartEpochMs };
      case 'cpu-stop': {
        const { profile } = await post<{ profile: Record<string, unknown> & { startTime?: number } }>(s, 'Profiler.stop');
        const endEpochMs = nowEpochMs();
        await post(s, 'Profiler.disable').catch(() => undefined);
        // The profile's own timestamps are on the monotonic clock; map its start to epoch ms. Fall back to
        // the time recorded around Profiler.start when the clocks disagree (they should not on Linux).
        let startEpochMs = cpuStartEpochMs;
        if (typeof profile.startTime === 'number') {
          const mapped = monotonicUsToEpochMs(profile.startTime);
          if (Math.abs(mapped - cpuStartEpochMs) < 1000) startEpochMs = mapped;
        }
        profile.$redline = { startEpochMs, endEpochMs, thread, pid: process.pid };
        const out: ProfileResult = { profile, startEpochMs, endEpochMs, thread };
        return out;
      }
      case 'heap-start':
        await post(s, 'HeapProfiler.enable');
        heapStartEpochMs = nowEpochMs();
        await post(s, 'HeapProfiler.startSampling', {
          samplingInterval: Math.max(1024, Math.round(command.samplingIntervalBytes)),
        });
        return { startEpochMs: heapStartEpochMs };
      case 'heap-stop': {
        const { profile } = await post<{ profile: Record<string, unknown> }>(s, 'HeapProfiler.stopSampling');
        const endEpochMs = nowEpochMs();
        await post(s, 'HeapProfiler.disable').catch(() => undefined);
        profile.$redline = { startEpochMs: heapStartEpochMs, endEpochMs, thread, pid: process.pid };
        const out: ProfileResult = { profile, startEpochMs: heapStartEpochMs, endEpochMs, thread };
        return out;
      }
      case 'full-gc': {
        const t0 = performance.now();
        const gc = command.via === 'inspector' ? null : fullGcFunction();
        if (gc) gc();
        else await post(s, 'HeapProfiler.collectGarbage');
        const pauseMs = performance.now() - t0;
        markForced(t0, performance.now());
        const out: FullGcResult = { atEpochMs: nowEpochMs(), heapUsedBytes: getHeapStatistics().used_heap_size, pauseMs };
        return out;
      }
      case 'heap-snapshot': {
        // The host names a fresh file of its own; anything else is refused rather than written.
        if (typeof command.path !== 'string' || !isAbsolute(command.path) || !command.path.endsWith('.heapsnapshot')) throw new Error('heap-snapshot needs an absolute path ending in .heapsnapshot');
        const heapUsedBytes = getHeapStatistics().used_heap_size;
        const t0 = performance.now();
        const path = writeHeapSnapshot(command.path);
        markForced(t0, performance.now());
        const out: HeapSnapshotResult = { path, atEpochMs: nowEpochMs(), heapUsedBytes, heapAfterBytes: getHeapStatistics().used_heap_size, pauseMs: performance.now() - t0, fileBytes: statSync(path).size };
        return out;
      }
      case 'server-settings':
        return servers.read();
      default:
        throw new Error(`unknown command ${(command as { cmd?: unknown }).cmd as string}`);
    }
  }

  // Report listening TCP ports (the runner waits for the first one).
  const onListen = (message: unknown): void => {
    try {
      if (listenReports >= MAX_LISTEN_REPORTS) return;
      const server = (message as { server?: { address(): unknown } }).server;
      const address = server?.address() as { port?: number; address?: string } | string | null | undefined;
      if (!address || typeof address === 'string' || typeof address.port !== 'number') return;
      listenReports += 1;
      send({ type: 'listen', port: address.port, address: address.address ?? '', atEpochMs: nowEpochMs() });
    } catch {
      // never throw into the target
    }
  };
  const listenChannel = diagnosticsChannel.channel('tracing:net.server.listen:asyncEnd');
  listenChannel.subscribe(onListen);
  // Socket settings of the HTTP servers (keepAliveTimeout & co.), for the doctor's server-keepalive rule.
  const servers = createServerSettingsWatcher(thread, () => send({ type: 'server-settings', servers: servers.read() }));

  const deps: SamplerDeps = {
    performance: performance as unknown as SamplerDeps['performance'],
    monitorEventLoopDelay: monitorEventLoopDelay as unknown as SamplerDeps['monitorEventLoopDelay'],
    PerformanceObserver: PerformanceObserver as unknown as SamplerDeps['PerformanceObserver'],
    getHeapStatistics,
    process,
    isMainThread,
    thread,
    readProcIo: () => (process.platform === 'linux' ? readFileSync('/proc/self/io', 'latin1') : null),
    // Our timer and socket are unref'd, and getActiveResourcesInfo() lists only ref'd handles and timers.
    ownResources: {},
    forcedGc: (startTime) => forcedSpans.some(([a, b]) => startTime >= a - 1 && startTime <= b + 1),
  };
  const sampler: Sampler = createSampler(deps);
  // The thread pool is process-wide: one meter, in the main thread.
  const threadpool = isMainThread ? createThreadpoolMeter(nowEpochMs) : null;
  const leakMs = Number(process.env[PROBE_POOL_LEAK_ENV] ?? 0);
  const stopPools = startPoolForwarding((m) => send(m), {
    autoWatch: process.env[PROBE_POOLS_ENV] !== '0',
    leakMs: Number.isFinite(leakMs) && leakMs > 0 ? leakMs : 0,
  });
  const timer = setInterval(() => {
    try {
      const sample = sampler.take(dropped, intervalMs);
      if (threadpool) sample.threadpool = threadpool.take();
      send({ type: 'sample', sample });
    } catch {
      // never throw into the target
    }
  }, intervalMs);
  timer.unref();

  function stop(): void {
    if (stopped) return;
    stopped = true;
    try {
      clearInterval(timer);
      sampler.stop();
      stopPools();
      listenChannel.unsubscribe(onListen);
      servers.stop();
      session?.disconnect();
      session = null;
      socket.destroy();
    } catch {
      // never throw into the target
    }
    delete g[STATE_KEY];
  }

  const instance: ProbeInstance = { stop };
  g[STATE_KEY] = instance;
  send({
    type: 'hello',
    pid: process.pid,
    ppid: process.ppid,
    thread,
    threadId,
    nodeVersion: process.version,
    script: process.argv[1] ?? null,
    intervalMs,
  });
  return instance;
}

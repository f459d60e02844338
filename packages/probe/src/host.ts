import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, RedlineError } from '@redline/core';
import { ProbeChannel, type ProbeConnection } from './channel.js';
import { PROBE_INTERVAL_ENV, PROBE_POOL_LEAK_ENV, PROBE_POOLS_ENV, PROBE_SOCKET_ENV, type FullGcResult, type HeapSnapshotResult, type PoolInfoMessage, type PoolLeakChannelMessage, type ProfileResult, type RawProbeSample, type RawServerSettings, type StatsChannelMessage } from './protocol.cjs';
import { startWatchdog } from './watchdog.js';
import { parseTargetNodeOptions } from './node-options.js';

export { aggregateSamples, eluWindowsFromProfile, profilesForAggregation, type AggregateOptions, type TimedCpuProfile } from './aggregate.js';
export { attachInspector, type AttachOptions, type AttachedTarget } from './attach.js';
export { aggregateStats, collectLeaks } from './aggregate-stats.js';
export { parseTargetNodeOptions } from './node-options.js';
export { defaultCpuSamplingIntervalUs, MAX_DEFAULT_CPU_INTERVAL_US, MIN_PROFILE_SAMPLES } from './cpu-interval.js';
export type { FullGcResult, HeapSnapshotResult } from './protocol.cjs';
export type { RawServerSettings } from './protocol.cjs';
export type { RawProbeSample, RawLoopDelay, RawThreadpoolDelay, ProfileResult, StatsChannelMessage, PoolLeakChannelMessage, PoolInfoMessage } from './protocol.cjs';

/** Absolute path of the CommonJS preload the runner injects (`--require`); runs in worker threads too. */
export const PROBE_REGISTER_CJS = fileURLToPath(new URL('./register.cjs', import.meta.url));
/** Absolute path of the ESM preload (`--import`); main thread only on Node 20. */
export const PROBE_REGISTER_ESM = fileURLToPath(new URL('./register.js', import.meta.url));

/** Bytes of stdout/stderr kept from the target for error messages. */
const OUTPUT_TAIL_BYTES = 64 * 1024;

/** Options of `launchTarget`. */
export interface LaunchTargetOptions {
  /** Shell command line, run by `/bin/sh -c` (so quoting, `&&`, env assignments work as in a shell). */
  command: string;
  /** Working directory; default the runner's. */
  cwd?: string;
  /** Extra environment variables, merged over the runner's environment. `NODE_OPTIONS` is appended to. */
  env?: Record<string, string>;
  /** How long to wait for readiness, in ms (default 15000, 100–600000). */
  startTimeoutMs?: number;
  /** When set, the target is ready once this URL answers with any HTTP status (polled every 100 ms). */
  waitForUrl?: string;
  /** Probe sampling window in ms (default 100, 10–60000). */
  intervalMs?: number;
  /** CPU profiler sampling interval in µs (default 1000, 10–1000000). */
  cpuSamplingIntervalUs?: number;
  /** Whether a sampling heap profile is wanted (informational; `startHeapProfile` works either way). Default false. */
  heapProfile?: boolean;
  /** Mean bytes between heap samples (default 32768). */
  heapSamplingIntervalBytes?: number;
  /** Time between SIGTERM and SIGKILL in `stop()`, in ms (default 5000). */
  stopGraceMs?: number;
  /** Most raw samples kept on the runner side (default 100000, about 2.7 h of one thread at 100 ms). */
  maxSamples?: number;
  /** Report pool clients held longer than this, in ms (`--pool-leak-ms`); default off. */
  poolLeakMs?: number;
  /** Watch the pg and tarn pools the target creates (default true). */
  watchPools?: boolean;
  /**
   * V8/Node flags for the target (`--max-semi-space-size=64`), appended to NODE_OPTIONS before the
   * probe's preload; checked by {@link parseTargetNodeOptions} (REDLINE_ERR_INVALID_ARGUMENT otherwise).
   * Node refuses some V8 flags in NODE_OPTIONS: the target then fails to start, quoting Node's message.
   */
  nodeOptions?: string;
  /**
   * Aborting it while the target is starting kills the target and rejects with
   * `REDLINE_ERR_INTERRUPTED` at once (Ctrl-C need not wait out `startTimeoutMs`).
   */
  signal?: AbortSignal;
  /**
   * Whether to preload the probe (default true). `false` starts the command the same way without it
   * (baselines, non-Node targets); readiness then needs `waitForUrl`.
   */
  probe?: boolean;
}

/** How the target ended. */
export interface TargetExit {
  code: number | null;
  signal: string | null;
  /** Epoch ms at which the runner saw the exit. */
  atEpochMs: number;
}

/** A CPU profile of the target's main thread, plus one per observed worker thread. */
export interface CpuProfileResult {
  /** `.cpuprofile` JSON (Chrome DevTools format) with a `$redline` key `{ startEpochMs, endEpochMs, thread, pid }`. */
  profile: Record<string, unknown>;
  /** Epoch ms at which profiling started; profile `timeDeltas` count from here. */
  startEpochMs: number;
  endEpochMs: number;
  /** Worker-thread profiles keyed by thread label (`worker-1`, ...); absent when there are none. */
  threads?: Record<string, { profile: Record<string, unknown>; startEpochMs: number; endEpochMs: number }>;
}

/** A sampling heap profile (`.heapprofile` JSON) of the main thread. */
export interface HeapProfileResult {
  profile: Record<string, unknown>;
  startEpochMs: number;
  endEpochMs: number;
}

/** A running target started by `launchTarget`. */
export interface TargetHandle {
  /** Pid of the spawned shell process (process-group leader). */
  readonly pid: number;
  /** Pid of the process the probe reports from (the one that listens), once known. */
  readonly probePid: number | null;
  /** First TCP port reported as listening by the probe; `null` when none was reported. */
  readonly port: number | null;
  /** Raw probe samples of the probed process (all threads) received so far, oldest first. */
  samples(): RawProbeSample[];
  /** Samples lost so far: dropped by the probe (runner too slow) plus dropped by the runner's bounded buffer. */
  readonly droppedSamples: number;
  /** Stats-channel messages (`redline:pool:stats`, `redline:flow:stats`) of the probed process so far. */
  stats(): StatsChannelMessage[];
  /** Pool leak events of the probed process so far. */
  poolLeaks(): PoolLeakChannelMessage[];
  /** What the probe read from watched pools' database servers. */
  poolInfos(): PoolInfoMessage[];
  /** Subscribes to samples of the probed process as they arrive; returns the unsubscribe function. */
  onSample(listener: (sample: RawProbeSample) => void): () => void;
  /**
   * Starts CPU profiling in the main thread and all connected worker threads (and in workers that
   * connect while it runs), at `samplingIntervalUs` (default: the launch option `cpuSamplingIntervalUs`).
   */
  startCpuProfile(opts?: { samplingIntervalUs?: number }): Promise<void>;
  /** Stops CPU profiling and returns the profiles. */
  stopCpuProfile(): Promise<CpuProfileResult>;
  /** Starts sampling heap profiling in the main thread. */
  startHeapProfile(): Promise<void>;
  /** Stops sampling heap profiling and returns the profile. */
  stopHeapProfile(): Promise<HeapProfileResult>;
  /**
   * Forces a full garbage collection in the main thread and returns the heap used after it and the
   * pause: one mark-compact through V8's `gc()` (default), or the inspector's `HeapProfiler.collectGarbage`.
   */
  collectGarbage(via?: 'gc' | 'inspector'): Promise<FullGcResult>;
  /**
   * Writes a heap snapshot of the main thread to `path` (absolute, ending in `.heapsnapshot`); the
   * target is paused meanwhile. Callers check memory first: a snapshot needs about twice the heap.
   */
  writeHeapSnapshot(path: string): Promise<HeapSnapshotResult>;
  /**
   * The HTTP servers of the probed process (every thread) with their socket settings
   * (`keepAliveTimeout`, `headersTimeout`, `requestTimeout`, `maxRequestsPerSocket`, `timeout`), read
   * now; a thread that does not answer within 5 s (or has exited) gives what it last reported.
   */
  serverSettings(): Promise<RawServerSettings[]>;
  /** Resolves when the target exits (never rejects). */
  readonly exited: Promise<TargetExit>;
  /** The last `lines` lines of the target's stderr (default 20). */
  stderrTail(lines?: number): string;
  /** The last `lines` lines of the target's stdout (default 20). */
  stdoutTail(lines?: number): string;
  /**
   * SIGTERM to the target's process group, SIGKILL to the group if any process of it is still alive
   * after `stopGraceMs`; resolves with how the spawned shell ended.
   */
  stop(): Promise<{ code: number | null; signal: string | null }>;
}

function invalid(message: string): RedlineError {
  return new RedlineError(ErrorCodes.INVALID_ARGUMENT, message);
}

function checkRange(name: string, value: number | undefined, min: number, max: number, unit: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`launchTarget: ${name} must be a number from ${min} to ${max} ${unit}, got ${String(value)}`);
  }
}

/** Tail buffer of a byte stream (bounded). */
class OutputTail {
  private text = '';
  push(chunk: Buffer | string): void {
    this.text += chunk.toString();
    if (this.text.length > OUTPUT_TAIL_BYTES) this.text = this.text.slice(-OUTPUT_TAIL_BYTES);
  }
  lines(count: number): string {
    const lines = this.text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-count).join('\n');
  }
}

function quoteForNodeOptions(path: string): string {
  return `"${path.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** A thrown error's headline in Node's crash output: `Error: Cannot find module '…'`, `TypeError [ERR_X]: …`. */
const ERROR_HEADLINE = /^(?:Uncaught )?(?:[A-Z]\w*)?(?:Error|Exception)(?: \[[A-Z0-9_]+\])?: \S/;

/**
 * Last meaningful stderr lines on one line: stack frames, carets, Node's version footer, the
 * `node:internal/…` location and the error's property dump (`code: 'MODULE_NOT_FOUND'`) are noise.
 * When Node printed an uncaught error, its headline (`Error: Cannot find module …`) is kept.
 */
function stderrSummary(text: string, lines: number): string {
  const all = text.split('\n').map((l) => l.trim());
  const lastError = all.findLastIndex((l) => ERROR_HEADLINE.test(l));
  const from = lastError >= 0 ? all.slice(0, lastError + 1) : all;
  const kept = from.filter((l) => l !== '' && !/^at /.test(l) && !/^Node\.js v\d/.test(l) && !/^\^+$/.test(l) && !/^node:internal\//.test(l) && !/^throw \w+;$/.test(l));
  const out = kept.slice(-lines).join(' | ');
  return out.length > 500 ? `…${out.slice(-500)}` : out;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
  }
}
/** True while any process of the child's process group is alive. */
function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // The target runs in its own process group (so SIGTERM reaches node behind a shell); make sure it
    // does not outlive a runner that exits without calling stop().
    process.once('exit', () => {
      for (const c of liveChildren) killGroup(c, 'SIGTERM');
    });
  }
}

/**
 * Starts the target command with the probe preloaded and resolves once it is ready: the probe reports
 * a listening TCP port, or `waitForUrl` answers when given.
 * Throws RedlineError `REDLINE_ERR_TARGET_START_FAILED` when the command is not found, exits before it
 * is ready, or is not ready within `startTimeoutMs` (the target is then killed); messages quote the
 * last lines of its stderr. Throws `REDLINE_ERR_INVALID_ARGUMENT` for bad options.
 */
export async function launchTarget(opts: LaunchTargetOptions): Promise<TargetHandle> {
  if (typeof opts !== 'object' || opts === null) throw invalid('launchTarget: options object is required');
  if (typeof opts.command !== 'string' || opts.command.trim() === '') {
    throw invalid('launchTarget: command must be a non-empty string');
  }
  checkRange('startTimeoutMs', opts.startTimeoutMs, 100, 600_000, 'ms');
  checkRange('intervalMs', opts.intervalMs, 10, 60_000, 'ms');
  checkRange('cpuSamplingIntervalUs', opts.cpuSamplingIntervalUs, 10, 1_000_000, 'µs');
  checkRange('heapSamplingIntervalBytes', opts.heapSamplingIntervalBytes, 1024, 1 << 30, 'bytes');
  checkRange('stopGraceMs', opts.stopGraceMs, 0, 600_000, 'ms');
  checkRange('maxSamples', opts.maxSamples, 100, 10_000_000, 'samples');
  checkRange('poolLeakMs', opts.poolLeakMs, 1, 86_400_000, 'ms');
  if (opts.waitForUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(opts.waitForUrl);
    } catch {
      throw new RedlineError(ErrorCodes.BAD_URL, `launchTarget: waitForUrl is not a valid URL: ${opts.waitForUrl}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new RedlineError(ErrorCodes.BAD_URL, `launchTarget: waitForUrl must be http(s), got ${opts.waitForUrl}`);
    }
  }
  if (opts.probe === false && opts.waitForUrl === undefined) {
    throw invalid('launchTarget: waitForUrl is required when probe is false (nothing else can tell readiness)');
  }
  const cwd = opts.cwd ?? process.cwd();
  if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
    throw new RedlineError(ErrorCodes.TARGET_START_FAILED, `target working directory does not exist: ${cwd}`);
  }
  const startTimeoutMs = opts.startTimeoutMs ?? 15_000;
  const intervalMs = opts.intervalMs ?? 100;
  const cpuSamplingIntervalUs = opts.cpuSamplingIntervalUs ?? 1000;
  const heapSamplingIntervalBytes = opts.heapSamplingIntervalBytes ?? 32768;
  const stopGraceMs = opts.stopGraceMs ?? 5000;

  const channel = new ProbeChannel(opts.maxSamples ?? 100_000);
  await channel.open();

  const nodeOptions = opts.nodeOptions === undefined ? [] : parseTargetNodeOptions(opts.nodeOptions);
  const baseEnv: Record<string, string | undefined> = { ...process.env, ...opts.env };
  if (nodeOptions.length > 0) baseEnv.NODE_OPTIONS = `${baseEnv.NODE_OPTIONS?.trim() ?? ''} ${nodeOptions.join(' ')}`.trim();
  const userNodeOptions = baseEnv.NODE_OPTIONS?.trim() ?? '';
  const env: Record<string, string | undefined> =
    opts.probe === false
      ? baseEnv
      : {
          ...baseEnv,
          NODE_OPTIONS: `${userNodeOptions} --require ${quoteForNodeOptions(PROBE_REGISTER_CJS)}`.trim(),
          [PROBE_SOCKET_ENV]: channel.socketPath,
          [PROBE_INTERVAL_ENV]: String(intervalMs),
          ...(opts.poolLeakMs !== undefined ? { [PROBE_POOL_LEAK_ENV]: String(opts.poolLeakMs) } : {}),
          ...(opts.watchPools === false ? { [PROBE_POOLS_ENV]: '0' } : {}),
        };

  const stderr = new OutputTail();
  const stdout = new OutputTail();
  const child = spawn('/bin/sh', ['-c', opts.command], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  trackChild(child);
  // Detached, the target would outlive a runner killed by SIGKILL or SIGHUP; the watchdog ends it.
  const watchdog = child.pid !== undefined ? startWatchdog(child.pid) : null;
  child.stdout?.on('data', (c: Buffer) => stdout.push(c));
  child.stderr?.on('data', (c: Buffer) => stderr.push(c));

  let exitInfo: TargetExit | null = null;
  let spawnError: Error | null = null;
  const exited = new Promise<TargetExit>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      if (child.pid === undefined) {
        exitInfo = { code: null, signal: null, atEpochMs: Date.now() };
        liveChildren.delete(child);
        resolve(exitInfo);
      }
    });
    child.once('exit', (code, signal) => {
      exitInfo = { code, signal, atEpochMs: Date.now() };
      liveChildren.delete(child);
      resolve(exitInfo);
    });
  });
  // Keep the channel open until the streams are drained so late samples still arrive, then clean up.
  void exited.then(() => setTimeout(() => channel.close(), 200).unref());

  const describe = `target "${opts.command}"`;
  const stderrQuote = (): string => {
    const tail = stderrSummary(stderr.lines(200), 3);
    return tail === '' ? 'stderr was empty' : `last stderr: ${tail}`;
  };

  // Wait for readiness.
  await new Promise<void>((resolve, reject) => {
    let settled = false;
    const cleanups: Array<() => void> = [];
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      for (const c of cleanups) c();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => {
      const waitedFor = opts.waitForUrl ? `${opts.waitForUrl} never answered` : 'no listening port was reported';
      killGroup(child, 'SIGKILL');
      watchdog?.disarm();
      finish(
        new RedlineError(
          ErrorCodes.TARGET_START_FAILED,
          `${describe} did not become ready within ${startTimeoutMs} ms (${waitedFor}); ${stderrQuote()}`,
        ),
      );
    }, startTimeoutMs);
    cleanups.push(() => clearTimeout(timer));
    if (opts.signal) {
      const onAbort = (): void => {
        killGroup(child, 'SIGKILL');
        watchdog?.disarm();
        finish(new RedlineError(ErrorCodes.INTERRUPTED, `interrupted while ${describe} was starting; it was stopped`));
      };
      if (opts.signal.aborted) onAbort();
      else {
        opts.signal.addEventListener('abort', onAbort, { once: true });
        cleanups.push(() => opts.signal?.removeEventListener('abort', onAbort));
      }
    }

    void exited.then(async (exit) => {
      // Let the stderr pipe drain so the message can quote it.
      await new Promise((r) => setTimeout(r, 50));
      if (settled) return;
      killGroup(child, 'SIGKILL');
      watchdog?.disarm();
      if (spawnError && child.pid === undefined) {
        finish(new RedlineError(ErrorCodes.TARGET_START_FAILED, `${describe} could not be started: ${spawnError.message}`));
        return;
      }
      if (exit.code === 127) {
        finish(new RedlineError(ErrorCodes.TARGET_START_FAILED, `${describe}: command not found (exit code 127); ${stderrQuote()}`));
        return;
      }
      const how = exit.signal ? `signal ${exit.signal}` : `code ${String(exit.code)}`;
      finish(new RedlineError(ErrorCodes.TARGET_START_FAILED, `${describe} exited with ${how} before it became ready; ${stderrQuote()}`));
    });

    if (opts.waitForUrl) {
      const url = opts.waitForUrl;
      let polling = true;
      cleanups.push(() => {
        polling = false;
      });
      const poll = async (): Promise<void> => {
        while (polling) {
          try {
            const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
            await res.body?.cancel();
            finish();
            return;
          } catch {
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      };
      void poll();
    } else {
      cleanups.push(channel.onFirstListen(() => finish()));
    }
  });

  const probePid = (): number | null => {
    const listen = channel.listens[0];
    if (listen) return listen.pid;
    // No port reported (waitForUrl readiness): take the most recent main-thread probe, the innermost process.
    for (let i = channel.connections.length - 1; i >= 0; i--) {
      const hello = channel.connections[i]?.hello;
      if (hello && hello.thread === 'main') return hello.pid;
    }
    return null;
  };
  const probeConnections = (): ProbeConnection[] => {
    const pid = probePid();
    return channel.connections.filter((c) => !c.closed && c.hello !== null && c.hello.pid === pid);
  };
  const mainConnection = (what: string): ProbeConnection => {
    const main = probeConnections().find((c) => c.hello?.thread === 'main');
    if (!main) {
      throw new RedlineError(ErrorCodes.TARGET_START_FAILED, `cannot ${what}: the probe is not connected (is the target a Node.js process?)`);
    }
    return main;
  };
  const wrapProbeError = (what: string) => (err: unknown): never => {
    if (err instanceof RedlineError) throw err;
    throw new RedlineError(ErrorCodes.INTERNAL, `${what} failed in the target: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  };
  let profiled: ProbeConnection[] = [];
  let profilingIntervalUs = cpuSamplingIntervalUs;
  let profilingActive = false;
  // A worker thread that starts while the CPU profile runs is profiled from its first message on.
  channel.onHello((c) => {
    if (!profilingActive || c.hello === null || c.hello.thread === 'main' || c.hello.pid !== probePid()) return;
    profiled.push(c);
    channel.request(c, { cmd: 'cpu-start', samplingIntervalUs: profilingIntervalUs }, 10_000).catch(() => {
      profiled = profiled.filter((x) => x !== c);
    });
  });

  const handle: TargetHandle = {
    pid: child.pid ?? -1,
    get probePid() {
      return probePid();
    },
    get port() {
      return channel.listens[0]?.port ?? null;
    },
    get droppedSamples() {
      let inTarget = 0;
      for (const s of channel.samples()) inTarget = Math.max(inTarget, s.dropped);
      return inTarget + channel.dropped;
    },
    samples() {
      const pid = probePid();
      return channel.samples().filter((s) => pid === null || s.pid === pid);
    },
    stats() {
      const pid = probePid();
      return channel.stats.filter((m) => pid === null || m.pid === pid);
    },
    poolLeaks() {
      const pid = probePid();
      return channel.leaks.filter((m) => pid === null || m.pid === pid);
    },
    poolInfos() {
      const pid = probePid();
      return channel.poolInfos.filter((m) => pid === null || m.pid === pid);
    },
    onSample(listener) {
      return channel.onSample((s) => {
        const pid = probePid();
        if (pid === null || s.pid === pid) listener(s);
      });
    },
    async startCpuProfile(startOpts) {
      checkRange('samplingIntervalUs', startOpts?.samplingIntervalUs, 10, 1_000_000, 'µs');
      mainConnection('start the CPU profile');
      profilingIntervalUs = startOpts?.samplingIntervalUs ?? cpuSamplingIntervalUs;
      profiled = probeConnections();
      profilingActive = true;
      await Promise.all(
        profiled.map((c) => channel.request(c, { cmd: 'cpu-start', samplingIntervalUs: profilingIntervalUs }, 10_000)),
      ).catch(wrapProbeError('starting the CPU profile'));
    },
    async stopCpuProfile() {
      profilingActive = false;
      const targets = profiled.filter((c) => !c.closed);
      profiled = [];
      const results = await Promise.all(
        targets.map((c) =>
          channel
            .request(c, { cmd: 'cpu-stop' }, 60_000)
            .then((r) => r as ProfileResult)
            // A worker that ended meanwhile has no profile to give; the main thread must answer.
            .catch((err: unknown) => (c.hello?.thread === 'main' ? Promise.reject(err) : null)),
        ),
      ).catch(wrapProbeError('stopping the CPU profile'));
      const main = results.find((r) => r?.thread === 'main');
      if (!main) throw new RedlineError(ErrorCodes.INTERNAL, 'stopping the CPU profile failed: no profile from the main thread (was it started?)');
      const out: CpuProfileResult = { profile: main.profile, startEpochMs: main.startEpochMs, endEpochMs: main.endEpochMs };
      const threads: NonNullable<CpuProfileResult['threads']> = {};
      for (const r of results) {
        if (r && r.thread !== 'main') threads[r.thread] = { profile: r.profile, startEpochMs: r.startEpochMs, endEpochMs: r.endEpochMs };
      }
      if (Object.keys(threads).length > 0) out.threads = threads;
      return out;
    },
    async startHeapProfile() {
      const main = mainConnection('start the heap profile');
      await channel
        .request(main, { cmd: 'heap-start', samplingIntervalBytes: heapSamplingIntervalBytes }, 10_000)
        .catch(wrapProbeError('starting the heap profile'));
    },
    async stopHeapProfile() {
      const main = mainConnection('stop the heap profile');
      const r = (await channel.request(main, { cmd: 'heap-stop' }, 60_000).catch(wrapProbeError('stopping the heap profile'))) as ProfileResult;
      return { profile: r.profile, startEpochMs: r.startEpochMs, endEpochMs: r.endEpochMs };
    },
    async collectGarbage(via = 'gc') {
      const main = mainConnection('force a garbage collection');
      return (await channel.request(main, { cmd: 'full-gc', via }, 60_000).catch(wrapProbeError('forcing a garbage collection'))) as FullGcResult;
    },
    async writeHeapSnapshot(path) {
      const main = mainConnection('take a heap snapshot');
      return (await channel.request(main, { cmd: 'heap-snapshot', path }, 600_000).catch(wrapProbeError('taking a heap snapshot'))) as HeapSnapshotResult;
    },
    async serverSettings() {
      const connections = channel.connections.filter((c) => c.hello !== null && c.hello.pid === probePid());
      const answers = await Promise.all(
        connections.map((c) =>
          c.closed
            ? Promise.resolve(c.servers ?? [])
            : channel.request(c, { cmd: 'server-settings' }, 5000).then(
                (r) => (Array.isArray(r) ? (r as RawServerSettings[]) : (c.servers ?? [])),
                () => c.servers ?? [],
              ),
        ),
      );
      return answers.flat();
    },
    exited,
    stderrTail(lines = 20) {
      return stderr.lines(lines);
    },
    stdoutTail(lines = 20) {
      return stdout.lines(lines);
    },
    async stop() {
      // The shell may be gone while the service behind it still runs: wait for the whole process group.
      if (!exitInfo || groupAlive(child)) {
        killGroup(child, 'SIGTERM');
        const deadline = Date.now() + stopGraceMs;
        while ((!exitInfo || groupAlive(child)) && Date.now() < deadline) await sleep(25);
        if (!exitInfo || groupAlive(child)) {
          killGroup(child, 'SIGKILL');
          const killDeadline = Date.now() + 5000;
          while ((!exitInfo || groupAlive(child)) && Date.now() < killDeadline) await sleep(25);
        }
      }
      const e = await exited;
      watchdog?.disarm();
      return { code: e.code, signal: e.signal };
    },
  };
  return handle;
}

/**
 * Wire format between the in-target probe and the runner: newline-delimited JSON over a Unix domain
 * socket. Kept in a CommonJS-compatible file so the `--require` entry and the ESM host share it.
 */

/** Environment variable naming the Unix domain socket the probe connects back to. */
export const PROBE_SOCKET_ENV = 'REDLINE_PROBE_SOCKET';
/** Environment variable with the sampling interval in milliseconds (default 100). */
export const PROBE_INTERVAL_ENV = 'REDLINE_PROBE_INTERVAL_MS';
/** `0` stops the probe from watching the pg and tarn pools the target creates (default: watch them). */
export const PROBE_POOLS_ENV = 'REDLINE_PROBE_POOLS';
/** Leak threshold in ms for the pools the probe watches (`--pool-leak-ms`); absent or 0: no leak detection. */
export const PROBE_POOL_LEAK_ENV = 'REDLINE_POOL_LEAK_MS';

/**
 * Latency of the probe's tiny libuv thread-pool task (a 1-byte `crypto.randomFill`) in one window.
 * Unloaded it takes well under a millisecond; when the thread pool is saturated the task waits in its
 * queue, so `latency − baseline` is the queue delay work submitted then would see.
 */
export interface RawThreadpoolDelay {
  /** Tasks completed in the window. */
  count: number;
  meanMs: number;
  /** Largest latency in the window, including the age of a task still waiting at the window's end. */
  maxMs: number;
  /** Smallest latency seen since the probe started (the unloaded cost of the task). */
  baselineMs: number;
}

/**
 * The process's I/O in one window, from `/proc/self/io` (Linux): bytes and system calls, as deltas.
 * `readBytes`/`writeBytes` are what reached the storage layer (page-cache hits read 0); `rchar`/`wchar`
 * count every byte through read/write-like calls (files, sockets, pipes); `syscr`/`syscw` the calls.
 */
export interface RawProcIo {
  readBytes: number;
  writeBytes: number;
  syscr: number;
  syscw: number;
  rchar: number;
  wchar: number;
}

/** Loop-delay statistics of one probe window, in milliseconds, with the timer resolution already subtracted. */
export interface RawLoopDelay {
  /** Number of delay observations in the window. */
  count: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
  /** Cumulative distribution points `[percentile 0–100, delay ms]`, ascending. */
  percentiles: Array<[number, number]>;
}

/**
 * One probe window (default 100 ms) of one thread of the target, as sent by the probe.
 * Timestamps are epoch milliseconds (`performance.timeOrigin + performance.now()`), so the host can
 * align them with the run clock. Process-wide numbers (CPU, RSS, active resources) are only sent by
 * the main thread and are `null` for workers.
 */
export interface RawProbeSample {
  /** Process id of the sending process. */
  pid: number;
  /** `main` or `worker-<threadId>`. */
  thread: string;
  startEpochMs: number;
  endEpochMs: number;
  /** Event-loop time split of this window, in ms. */
  elu: { activeMs: number; idleMs: number };
  loopDelay: RawLoopDelay | null;
  /** GC pauses in this window by kind (`major`, `minor`, `incremental`, `weakcb`; `forced` for the probe's own). */
  gc: Record<string, { count: number; totalMs: number }>;
  /** Heap used right after the last major GC in this window, if one happened. */
  heapAfterMajorGcBytes: number | null;
  heapUsedBytes: number;
  heapTotalBytes: number;
  /** Process-wide; `null` in worker samples. */
  externalBytes: number | null;
  rssBytes: number | null;
  /** Process CPU in this window in microseconds; `null` in worker samples. */
  cpu: { userUs: number; systemUs: number } | null;
  /** Active resources by type, excluding the probe's own; `null` in worker samples. */
  activeResources: Record<string, number> | null;
  /** Messages the probe dropped so far because the runner did not read fast enough. */
  dropped: number;
  /** Thread-pool queue probe of this window (main thread only; absent from older probes and via --attach). */
  threadpool?: RawThreadpoolDelay | null;
  /** Process I/O in this window (main thread only; absent where `/proc/self/io` cannot be read). */
  io?: RawProcIo;
  /** V8's heap size limit (`heap_size_limit`, what `--max-old-space-size` sets), in bytes. */
  heapLimitBytes?: number;
}

/** First message of every probe connection. */
export interface HelloMessage {
  type: 'hello';
  pid: number;
  ppid: number;
  thread: string;
  threadId: number;
  nodeVersion: string;
  /** `process.argv[1]`, to tell wrapper processes (npm, tsx CLI) from the service. */
  script: string | null;
  intervalMs: number;
}

/** The process started listening on a TCP port. */
export interface ListenMessage {
  type: 'listen';
  port: number;
  address: string;
  atEpochMs: number;
}

/** A periodic sample. */
export interface SampleMessage {
  type: 'sample';
  sample: RawProbeSample;
}

/**
 * A message published inside the target on one of the stats channels the probe forwards
 * (`redline:pool:stats`, `redline:flow:stats`): `{ name, at, values, ... }`.
 */
export interface StatsChannelMessage {
  type: 'stats';
  channel: string;
  message: { name: string; at: number; values: Record<string, number>; meta?: Record<string, unknown>; intervalMs?: number };
}

/** A pool leak event from `redline:pool:leak`. */
export interface PoolLeakChannelMessage {
  type: 'pool-leak';
  message: {
    name: string;
    at: number;
    phase: 'held' | 'returned';
    id: number;
    acquiredAt: number;
    heldMs: number;
    stack: string;
    meta?: Record<string, unknown>;
  };
}

/** What the probe learned once about a watched pool's database server. */
export interface PoolInfoMessage {
  type: 'pool-info';
  name: string;
  /** The server's `max_connections`, minus the superuser-reserved slots (what ordinary clients can open). */
  serverMaxConnections?: number;
  /** Why it could not be read. */
  error?: string;
}

/**
 * One HTTP server of the target and its socket settings as read by the probe (ms; `null` where the
 * kind has no such setting). `maxRequestsPerSocket` 0 and `keepAliveTimeoutMs` 0 mean "no limit".
 */
export interface RawServerSettings {
  /** `http`/`https` (`node:http`, `node:https`), `http2`/`http2-secure` (`node:http2`). */
  kind: 'http' | 'https' | 'http2' | 'http2-secure';
  /** The thread that created it (`main`, `worker-<id>`). */
  thread: string;
  address: string | null;
  port: number | null;
  listening: boolean;
  keepAliveTimeoutMs: number | null;
  headersTimeoutMs: number | null;
  requestTimeoutMs: number | null;
  maxRequestsPerSocket: number | null;
  /** `server.timeout`: idle socket timeout (0: none). */
  timeoutMs: number | null;
}

/** The thread's HTTP servers, sent when a new one appears (the host asks again at the end of the run). */
export interface ServerSettingsMessage {
  type: 'server-settings';
  servers: RawServerSettings[];
}

/** Answer to a host command. */
export interface ReplyMessage {
  type: 'reply';
  id: number;
  ok: boolean;
  error?: string;
  result?: unknown;
}

/** Anything the probe sends. */
export type ProbeMessage = HelloMessage | ListenMessage | SampleMessage | ReplyMessage | StatsChannelMessage | PoolLeakChannelMessage | PoolInfoMessage | ServerSettingsMessage;

/** Commands the host sends to the probe. */
export type HostCommand =
  | { id: number; cmd: 'cpu-start'; samplingIntervalUs: number }
  | { id: number; cmd: 'cpu-stop' }
  | { id: number; cmd: 'heap-start'; samplingIntervalBytes: number }
  | { id: number; cmd: 'heap-stop' }
  | { id: number; cmd: 'full-gc'; via?: 'gc' | 'inspector' }
  | { id: number; cmd: 'heap-snapshot'; path: string }
  | { id: number; cmd: 'server-settings' };

/** Result of `full-gc`: a full collection forced through the inspector (`HeapProfiler.collectGarbage`). */
export interface FullGcResult {
  /** Epoch ms when the collection ended. */
  atEpochMs: number;
  /** Heap used right after it, bytes. */
  heapUsedBytes: number;
  /** How long the target's main thread was paused for it, ms. */
  pauseMs: number;
}

/** Result of `heap-snapshot`: `v8.writeHeapSnapshot` to the path the host chose. */
export interface HeapSnapshotResult {
  path: string;
  atEpochMs: number;
  /** Heap used just before the snapshot, bytes. */
  heapUsedBytes: number;
  /** Heap used right after it, bytes: V8 runs a full GC before it walks the heap, so this is heap after full GC. */
  heapAfterBytes: number;
  /** How long the main thread was paused writing it, ms. */
  pauseMs: number;
  /** Size of the written file, bytes. */
  fileBytes: number;
}

/** Result of `cpu-stop` / `heap-stop`. */
export interface ProfileResult {
  /** The `.cpuprofile` / `.heapprofile` JSON, with a `$redline` key carrying the fields below. */
  profile: Record<string, unknown>;
  /** Epoch ms at which profiling started (profile timestamps map onto the run clock from here). */
  startEpochMs: number;
  /** Epoch ms at which profiling stopped. */
  endEpochMs: number;
  thread: string;
}

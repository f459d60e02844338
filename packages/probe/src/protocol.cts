/**
 * Wire format between the in-target probe and the runner: newline-delimited JSON over a Unix domain
 * socket. Kept in a CommonJS-compatible file so the `--require` entry and the ESM host share it.
 */

/** Environment variable naming the Unix domain socket the probe connects back to. */
export const PROBE_SOCKET_ENV = 'REDLINE_PROBE_SOCKET';
/** Environment variable with the sampling interval in milliseconds (default 100). */
export const PROBE_INTERVAL_ENV = 'REDLINE_PROBE_INTERVAL_MS';

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
  /** GC pauses in this window by kind (`major`, `minor`, `incremental`, `weakcb`). */
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

/** Answer to a host command. */
export interface ReplyMessage {
  type: 'reply';
  id: number;
  ok: boolean;
  error?: string;
  result?: unknown;
}

/** Anything the probe sends. */
export type ProbeMessage = HelloMessage | ListenMessage | SampleMessage | ReplyMessage;

/** Commands the host sends to the probe. */
export type HostCommand =
  | { id: number; cmd: 'cpu-start'; samplingIntervalUs: number }
  | { id: number; cmd: 'cpu-stop' }
  | { id: number; cmd: 'heap-start'; samplingIntervalBytes: number }
  | { id: number; cmd: 'heap-stop' };

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

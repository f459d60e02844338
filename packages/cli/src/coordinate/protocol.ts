import type { IntervalSnapshot } from '@redline/load';

/**
 * The Redis keys of one coordinated run, all under `redline:run:<id>:`. They expire a day after the
 * last write, so an abandoned run leaves nothing behind for long.
 */
export function runKeys(runId: string): {
  seq: string;
  meet: string;
  refused: string;
  start: string;
  control: string;
  coordinator: string;
  stream: string;
} {
  const p = `redline:run:${runId}:`;
  return { seq: `${p}seq`, meet: `${p}meet`, refused: `${p}refused`, start: `${p}start`, control: `${p}control`, coordinator: `${p}coordinator`, stream: `${p}intervals` };
}

/** Seconds a run's keys live after their last write. */
export const KEY_TTL_S = 86_400;

/** What an instance says about itself when it joins. */
export interface InstanceInfo {
  instance: number;
  instances: number;
  /** SHA-256 of the scenario file (or of the resolved quick-mode config). */
  scenarioHash: string;
  /** File name as given (for messages). */
  scenarioFile: string;
  segment: string;
  sequence: string;
  host: string;
  pid: number;
  /** The scenario's threshold definitions (with abortOnFail), for the coordinator. */
  thresholds: Record<string, unknown[]>;
  /** The resolved run config (`result.config`); `source`, `commandLine` and `workers` may differ between instances. */
  config: Record<string, unknown>;
}

/** One second of one instance on the stream: its workers' snapshots, worker ids made unique across instances. */
export interface IntervalMessage {
  type: 'interval';
  instance: number;
  index: number;
  cpuCores: number;
  snapshots: IntervalSnapshot[];
}

/** An instance's last word: how its run ended and where its own run directory is. */
export interface DoneMessage {
  type: 'done';
  instance: number;
  status: string;
  lastIndex: number;
  durationMs: number;
  runDir: string | null;
}

export type StreamMessage = IntervalMessage | DoneMessage;

/** Worker ids of instance `i` start at `i × WORKER_ID_STRIDE`, so per-worker maxima do not collide. */
export const WORKER_ID_STRIDE = 1024;

import type { LatencyHistogram, RunResult } from '@redline/core';
import type { HdrWalk } from './hdr-buckets.js';
import type { LiveStatus } from '@redline/load';

/** What every output is told when the run starts. */
export interface OutputStart {
  /** Run name (scenario name or `--name`). */
  name: string;
  /** Identifies this run in series labels (`run_id`) and file rows. */
  runId: string;
  /** Planned length of the run in ms. */
  plannedMs: number;
}

/** One second of the run, as every output sees it. */
export interface OutputSecond {
  status: LiveStatus;
  /** Epoch ms at which this second was merged (the sample timestamp). */
  atMs: number;
  /** This second's corrected-latency histogram, decoded on first use and shared by all outputs; null without samples. */
  readonly latency: LatencyHistogram | null;
  /** Its non-empty buckets as [ms, count] pairs, computed on first use and shared. */
  latencyBuckets(): ReadonlyArray<readonly [number, number]>;
  /** Its non-empty buckets with their counts-array index (for lookups cached per index), walked once and shared. */
  latencyWalk(): HdrWalk;
}

/**
 * A streaming output (k6's `--out`): gets every second's aggregate while the run goes and the final
 * result at the end. `second` may return a promise (a network write); a rejected write is counted by
 * the output set and never stops the run.
 */
export interface Output {
  /** How the user named it, e.g. `json=run.jsonl` (URLs without credentials). */
  readonly label: string;
  /** Opens files, binds ports: a failure here is a usage error, before any load is sent. */
  open?(): Promise<void>;
  start?(info: OutputStart): void;
  second(s: OutputSecond): void | Promise<void>;
  /**
   * The final result (with findings): the last write, counted as one. Absent when an output has
   * nothing more to write than its seconds (remote write, OTLP, CSV).
   */
  end?(result: RunResult): Promise<void>;
  /** Releases files and sockets; called once, also after a failed run. */
  close(): Promise<void>;
}

/** Builds an output from the text after `NAME=` in `--output NAME=ARG`. */
export type OutputFactory = (arg: string, ctx: { cwd: string; env: Record<string, string | undefined> }) => Output;

import type { LatencySummary } from './histogram.js';

/**
 * Version of the `result.json` format. Bump on any incompatible change; readers refuse
 * versions they do not know (REDLINE_ERR_BAD_RUN_DIR). JSON Schema: schema/result.schema.json.
 */
export const RESULT_SCHEMA_VERSION = 1;

/** How a run ended. */
export type RunStatus = 'completed' | 'interrupted' | 'aborted';

/** Machine and runtime the generator ran on. */
export interface RunEnvironment {
  redlineVersion: string;
  node: string;
  platform: string;
  arch: string;
  cpuModel: string;
  cpuCount: number;
  totalMemoryBytes: number;
  hostname: string;
  workers: number;
}

/** Per-second self-check of the load generator. */
export interface GeneratorSecond {
  /** Seconds since run start (the second this sample closes). */
  t: number;
  intendedRate: number | null;
  achievedRate: number;
  scheduleLagMs: { p50: number; p99: number; max: number };
  /** Event-loop utilisation of the busiest worker in that second, 0–1. */
  elu: number;
  /** Generator process CPU in that second, in cores (1 = one full core). */
  cpuCores: number;
}

/** The generator's verdict about itself. */
export interface GeneratorReport {
  /** True when the generator could not hold the intended load for reasons of its own. */
  limited: boolean;
  /** Plain-language reasons when `limited` (empty otherwise). */
  reasons: string[];
  scheduleLagMs: { p50: number; p99: number; max: number };
  eluMax: number;
  eluMean: number;
  cpuCoresMean: number;
  seconds: GeneratorSecond[];
}

/** Counts of errors by kind: `connect_refused`, `dns`, `timeout`, `reset`, `http_4xx`, `http_5xx`, ... */
export type ErrorCounts = Record<string, number>;

/** Statistics for one slice of traffic (whole run, one request name, one status class). */
export interface TrafficSummary {
  requests: number;
  /** Requests that failed (network error, timeout, 4xx/5xx). */
  errors: number;
  errorsByKind: ErrorCounts;
  /** Completed requests per second over the measured duration. */
  throughput: number;
  /** Latency from the intended send time (coordinated-omission corrected) in open models; equal to serviceTime in closed models. */
  latency: LatencySummary;
  /** Latency from the actual send to the end of the response. */
  serviceTime: LatencySummary;
}

/** Whole-run summary. */
export interface RunSummary extends TrafficSummary {
  durationMs: number;
  iterations: number;
  iterationsDropped: number;
  /** Iterations that threw (script error) rather than failing a request. */
  iterationErrors: number;
  dataSentBytes: number;
  dataReceivedBytes: number;
  vusMax: number;
  byName: Record<string, TrafficSummary>;
  byStatusClass: Record<string, TrafficSummary>;
  byScenario: Record<string, TrafficSummary & { iterations: number; iterationsDropped: number }>;
  checks: { passes: number; fails: number; byName: Record<string, { passes: number; fails: number }> };
}

/** One second of the run's time series. */
export interface TimeseriesPoint {
  /** Seconds since run start at the end of this interval (1, 2, 3, ...). */
  t: number;
  requests: number;
  errors: number;
  errorsByKind: ErrorCounts;
  latency: { p50: number; p90: number; p99: number; max: number };
  serviceTime: { p50: number; p90: number; p99: number; max: number };
  iterations: number;
  iterationsDropped: number;
  vus: number;
  /** Mean requests in flight over this second, sampled every 10 ms (independent of latency, for Little's law). */
  inFlight?: number;
  intendedRate: number | null;
  scheduleLagMs: { p50: number; p99: number; max: number };
}

/** Outcome of one threshold expression. */
export interface ThresholdResult {
  /** Metric with optional tag filter, e.g. `http.latency{name:login}`. */
  metric: string;
  expression: string;
  ok: boolean;
  /** The observed value of the aggregation (e.g. p95 in ms, or a rate 0–1). */
  actual: number | null;
  abortOnFail: boolean;
}

/** Encoded HDR histograms (see LatencyHistogram.encode). */
export interface RunHistograms {
  latency: string;
  serviceTime: string;
  byName: Record<string, { latency: string; serviceTime: string }>;
  /** Per-second corrected-latency histograms, index i ↔ timeseries[i]. */
  intervals: string[];
}

/** A stage of a ramping load model, as resolved. */
export interface ResolvedStage {
  durationMs: number;
  target: number;
}

/** A scenario after defaults and profiles are applied; enough to re-run or compare. */
export interface ResolvedScenarioConfig {
  name: string;
  executor: string;
  startMs: number;
  tags: Record<string, string>;
  /** Executor-specific resolved options (rate, vus, stages, iterations, maxVUs, ...). */
  options: Record<string, unknown>;
  /** `static` for the fast path, `script` for scripted iterations. */
  mode: 'static' | 'script';
}

/** The resolved configuration of a run. */
export interface ResolvedRunConfig {
  name: string;
  /** Scenario file (absolute) or null for quick mode. */
  source: string | null;
  scenarios: ResolvedScenarioConfig[];
  thresholds: Record<string, string[]>;
  workers: number;
  timeoutMs: number;
  gracefulStopMs: number;
  /** Free-form tags of the run (e.g. git sha). */
  tags: Record<string, string>;
}

/** One per-second sample of the probed target process, aligned on the run clock. */
export interface TargetSample {
  /** Seconds since run start at the end of this interval. */
  t: number;
  /** Event-loop utilisation in this second (0–1). */
  elu: number;
  /** Event-loop delay in ms over this second. */
  loopDelayMs: { mean: number; p50: number; p99: number; max: number };
  /** Share of wall time spent in GC pauses in this second (0–1). */
  gcShare: number;
  gcPauses: Record<string, { count: number; totalMs: number }>;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  rssBytes: number;
  /** Heap used right after the last major GC in this second, if one happened. */
  heapAfterGcBytes: number | null;
  /** CPU in this second, in cores (1 = one full core). */
  cpuUser: number;
  cpuSystem: number;
  /** Active resources by type (`TCPSocketWrap`, `Timeout`, `FSReqCallback`, ...). */
  activeResources: Record<string, number>;
  /** Worker-thread utilisation by thread label, when the target has workers. */
  threads?: Record<string, { elu: number }>;
}

/** Files a probed run wrote next to result.json (paths relative to the run directory). */
export interface ProfileFiles {
  cpuprofile?: string;
  speedscope?: string;
  collapsed?: string;
  heapprofile?: string;
  /** Per-thread CPU profiles, keyed by thread label. */
  threads?: Record<string, string>;
}

/** What is known of the target process of a run. */
export interface TargetReport {
  command: string | null;
  attach: string | null;
  pid: number | null;
  samples: TargetSample[];
  /** Present when the target exited before the run ended. */
  exit: { code: number | null; signal: string | null; t: number } | null;
  profiles: ProfileFiles;
  /** Steady-state window over which the CPU profile was taken, seconds since run start. */
  profileWindow: { startS: number; endS: number } | null;
}

/** Categories the doctor can name. */
export type FindingCategory =
  | 'event-loop-blocked'
  | 'cpu-saturated'
  | 'gc-pressure'
  | 'memory-leak'
  | 'waiting-external'
  | 'generator-limited'
  | 'errors'
  | 'target-exited'
  | 'n-plus-one'
  | 'slow-query'
  | 'slow-downstream'
  | 'server-queueing'
  | 'no-problem';

/** Severity, from most to least urgent. */
export type Severity = 'high' | 'medium' | 'low' | 'info';

/** One number behind a finding, compared with the threshold that made it count. */
export interface Evidence {
  metric: string;
  value: number;
  threshold: number;
  comparison: '>' | '<' | '>=' | '<=';
  unit: string;
}

/** Code area a stack frame belongs to. */
export type CodeArea = 'app' | 'dependency' | 'node' | 'v8';

/** A hot function in the CPU profile within a finding's window. */
export interface HotFrame {
  functionName: string;
  /** Source-mapped when possible (TypeScript path). */
  file: string;
  line: number;
  column: number;
  area: CodeArea;
  /** Share of samples in the window where this function was on top of the stack, 0–1. */
  selfShare: number;
  /** Share of samples in the window where this function was anywhere on the stack, 0–1. */
  totalShare: number;
}

/** A diagnosis with its evidence. */
export interface Finding {
  category: FindingCategory;
  severity: Severity;
  /** 0–1 */
  confidence: number;
  title: string;
  /** Window in seconds since run start. */
  window: { startS: number; endS: number };
  evidence: Evidence[];
  frames: HotFrame[];
  recommendation: string;
}

/** The content of `result.json`. */
export interface RunResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  kind: 'run';
  id: string;
  name: string;
  status: RunStatus;
  /** ISO timestamps. */
  startedAt: string;
  endedAt: string;
  config: ResolvedRunConfig;
  environment: RunEnvironment;
  generator: GeneratorReport;
  summary: RunSummary;
  thresholds: ThresholdResult[];
  timeseries: TimeseriesPoint[];
  histograms: RunHistograms;
  target: TargetReport | null;
  findings: Finding[];
  /** Non-fatal problems worth a user's attention (script errors, worker failures). */
  warnings?: string[];
}

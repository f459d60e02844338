import type { z } from 'zod';
import type * as S from './result-schema.js';

// The types of `result.json`, inferred from the zod schemas in result-schema.ts (the one source of
// truth; the field documentation lives there). Type-only: importing these loads no zod at runtime,
// so the probe, which shares this package, stays light.

/**
 * Version of the `result.json` format. Bump on any incompatible change; readers refuse
 * versions they do not know (REDLINE_ERR_BAD_RUN_DIR). JSON Schema: schema/result.schema.json.
 */
export const RESULT_SCHEMA_VERSION = 1;

/** How a run ended. */
export type RunStatus = z.infer<typeof S.RunStatusSchema>;

/** Machine and runtime the generator ran on. */
export type RunEnvironment = z.infer<typeof S.RunEnvironmentSchema>;

/** Per-second self-check of the load generator. */
export type GeneratorSecond = z.infer<typeof S.GeneratorSecondSchema>;

/** The generator's verdict about itself. */
export type GeneratorReport = z.infer<typeof S.GeneratorReportSchema>;

/** Counts of errors by kind: `connect_refused`, `dns`, `timeout`, `reset`, `http_4xx`, `http_5xx`, ... */
export type ErrorCounts = z.infer<typeof S.ErrorCountsSchema>;

/** Statistics for one slice of traffic (whole run, one request name, one status class). */
export type TrafficSummary = z.infer<typeof S.TrafficSummarySchema>;

/** A custom metric's run total. */
export type CustomMetricSummary = z.infer<typeof S.CustomMetricSummarySchema>;

/** One group path's requests and duration. */
export type GroupSummary = z.infer<typeof S.GroupSummarySchema>;

/** Whole-run summary. */
export type RunSummary = z.infer<typeof S.RunSummarySchema>;
/** Cache verdicts of a run (`summary.cache`). */
export type CacheSummary = z.infer<typeof S.CacheSummarySchema>;

/** One second of the run's time series. */
export type TimeseriesPoint = z.infer<typeof S.TimeseriesPointSchema>;

/** Outcome of one threshold expression. */
export type ThresholdResult = z.infer<typeof S.ThresholdResultSchema>;

/** Encoded HDR histograms (see LatencyHistogram.encode). */
export type RunHistograms = z.infer<typeof S.RunHistogramsSchema>;

/** A stage of a ramping load model, as resolved. */
export type ResolvedStage = z.infer<typeof S.ResolvedStageSchema>;

/** A scenario after defaults and profiles are applied; enough to re-run or compare. */
export type ResolvedScenarioConfig = z.infer<typeof S.ResolvedScenarioConfigSchema>;

/** The resolved configuration of a run. */
export type ResolvedRunConfig = z.infer<typeof S.ResolvedRunConfigSchema>;

/** One per-second sample of the probed target process, aligned on the run clock. */
export type TargetSample = z.infer<typeof S.TargetSampleSchema>;

/** Files a probed run wrote next to result.json (paths relative to the run directory). */
export type ProfileFiles = z.infer<typeof S.ProfileFilesSchema>;

/** What is known of the target process of a run. */
export type TargetReport = z.infer<typeof S.TargetReportSchema>;

/** One HTTP server of the target with its socket settings (`target.servers`). */
export type ServerSettings = z.infer<typeof S.ServerSettingsSchema>;

/** Per-second values of one watched object (a pool, a limiter), aligned on the run clock. */
export type StatsSeries = z.infer<typeof S.StatsSeriesSchema>;

/** A pool client held longer than `--pool-leak-ms`. */
export type PoolLeak = z.infer<typeof S.PoolLeakSchema>;

/** A full garbage collection the probe forced for the leak rule's evidence. */
export type FullGc = z.infer<typeof S.FullGcSchema>;

/** Heap snapshots taken under load (`target.heapSnapshots`). */
export type HeapSnapshots = z.infer<typeof S.HeapSnapshotsSchema>;

/** One step of a leak's retainer path. */
export type RetainerStep = z.infer<typeof S.RetainerStepSchema>;

/** An object that keeps gaining objects across heap snapshots, and its retainer path. */
export type LeakSuspect = z.infer<typeof S.LeakSuspectSchema>;

/** Categories the doctor can name. */
export type FindingCategory = z.infer<typeof S.FindingCategorySchema>;

/** Severity, from most to least urgent. */
export type Severity = z.infer<typeof S.SeveritySchema>;

/** One number behind a finding, compared with the threshold that made it count. */
export type Evidence = z.infer<typeof S.EvidenceSchema>;

/** Code area a stack frame belongs to. */
export type CodeArea = z.infer<typeof S.CodeAreaSchema>;

/** A hot function in the CPU profile within a finding's window. */
export type HotFrame = z.infer<typeof S.HotFrameSchema>;

/** A diagnosis with its evidence. */
export type Finding = z.infer<typeof S.FindingSchema>;

/** The content of `result.json`. */
export type RunResult = z.infer<typeof S.RunResultSchema>;

/** How a result was assembled from several instances (`distributed` in result.json). */
export type DistributedReport = z.infer<typeof S.DistributedReportSchema>;

/** One instance of a distributed result. */
export type DistributedSource = z.infer<typeof S.DistributedSourceSchema>;

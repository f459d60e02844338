/**
 * Tracing for one run, as the session composes it: the receiver, the target's environment (the
 * preload, or the user's own SDK pointed at the receiver), the generator's settings, and after the
 * load the analysis, the run-directory files and the optional export. Nothing here fails a run:
 * every problem becomes a note, and a run without spans simply has no "Where the time goes".
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, RedlineError, writeJsonAtomic } from '@redline/core';
import { analyzeTraces, type NamePercentiles, type TraceAnalysis } from './analyze.js';
import { startReceiver, type KeptRecord, type ReceiverStats, type TraceReceiver } from './receiver.js';
import { spansToOtlpJson, type Span } from './span.js';

/** Absolute path of the CommonJS preload. */
export const TRACE_REGISTER_CJS = fileURLToPath(new URL('./register.cjs', import.meta.url));
/** Kept spans, as OTLP/JSON (open in Jaeger, or send to a collector). */
export const TRACES_OTLP_FILE = 'traces.otlp.json';
/** The analysis, the kept requests and the receiver's counters. */
export const TRACES_FILE = 'traces.json';

/** Share of requests flagged as sampled when a ratio is asked for without a value (`sampleRatio` only). */
export const DEFAULT_SAMPLE_RATIO = 1;
/**
 * The default sampling: a budget of about this many sampled requests per second for the whole run,
 * spent in one burst per second (`@redline/load`'s trace-sampler.ts). Below this rate every request
 * is sampled; above it the cost to the target stays bounded (BENCHMARKS.md, 2026-12-02, second section).
 */
export const DEFAULT_SAMPLE_PER_SECOND = 50;
/** Most spans written to the run directory. */
const MAX_FILE_SPANS = 200_000;

/** Options of {@link startRunTracing}. */
export interface RunTracingOptions {
  /** How the target is reached: launched (we set its environment) or attached (it exports on its own). */
  mode: 'launch' | 'attach' | 'none';
  /** The target's working directory (to detect its own OpenTelemetry SDK). */
  cwd: string;
  /** Share of requests sent with the sampled flag, 0 < r ≤ 1. Without it (and without {@link samplePerSecond}) the default budget applies. */
  sampleRatio?: number;
  /** About this many sampled requests per second (whole run), one burst per second (default {@link DEFAULT_SAMPLE_PER_SECOND}). */
  samplePerSecond?: number;
  /** Receiver port (default: 4318 when attaching, else any free port). */
  port?: number;
  /** An OTLP/HTTP traces URL to send the kept traces to after the run. */
  exportUrl?: string;
  /** Force the choice the own-SDK detection makes. */
  ownSdk?: boolean;
  onEvent?: (message: string) => void;
}

/** What the run directory's `traces.json` holds. */
export interface TracesFile {
  /** Share of requests flagged sampled: the ratio asked for, or with a budget the measured share (server spans per request). */
  sampleRatio: number;
  /** The sampling budget, requests per second, when one was used. */
  samplePerSecond?: number;
  /** Engine-clock epoch ms at which the load started: second 0 of the report's charts. */
  runStartMs?: number;
  analysis: TraceAnalysis;
  records: KeptRecord[];
  receiver: ReceiverStats;
  notes: string[];
  /** Spans in traces.otlp.json. */
  spansSaved: number;
}

/** A run's tracing, between its start and the end of the load. */
export interface RunTracing {
  /** Environment for a launched target (empty for attach). */
  targetEnv: Record<string, string>;
  /** For `startLoad`'s options. */
  load: { trace: { runTag: string; sampleRatio: number; samplePerSecond?: number; tailPerSecond: number; baselinePerSecond: number }; onTraceRecords: (r: KeptRecord[]) => void };
  notes: string[];
  receiver: TraceReceiver;
  /** Reads the preload's status once the target is up; adds a note when it could not trace. */
  checkTarget(): Promise<void>;
  /**
   * After the load: waits for the last spans, analyses, writes the files, exports. Returns the file's
   * content. `run.requests` (the run's responses) gives the measured sampled share under a budget;
   * `run.startMs` places the kept requests on the report's time axis.
   */
  finish(runDir: string, percentiles: NamePercentiles, run?: { requests?: number; startMs?: number }): Promise<TracesFile>;
  /** Closes the receiver and removes temp files (idempotent). */
  close(): Promise<void>;
}

const OWN_SDK_PACKAGES = ['@opentelemetry/sdk-node', '@opentelemetry/sdk-trace-node', '@opentelemetry/auto-instrumentations-node'];

/**
 * Whether the target runs its own OpenTelemetry SDK: its package.json (in `cwd` or the nearest
 * parent) depends on an SDK package, or NODE_OPTIONS already preloads one. Returns the reason, or null.
 */
export function detectOwnSdk(cwd: string, env: Record<string, string | undefined> = process.env): string | null {
  if (/@opentelemetry\//.test(env.NODE_OPTIONS ?? '')) return 'NODE_OPTIONS preloads @opentelemetry';
  let dir = resolve(cwd);
  for (;;) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        const pkg = JSON.parse(readFileSync(p, 'utf8')) as { dependencies?: Record<string, string>; name?: string };
        const dep = OWN_SDK_PACKAGES.find((d) => pkg.dependencies?.[d] !== undefined);
        return dep === undefined ? null : `${p} depends on ${dep}`;
      } catch {
        return null;
      }
    }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** The sampling the options ask for: a ratio, or a budget per second (the default). */
function samplingOf(o: Pick<RunTracingOptions, 'sampleRatio' | 'samplePerSecond'>): { sampleRatio: number; samplePerSecond?: number } {
  if (o.sampleRatio !== undefined && o.samplePerSecond !== undefined) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, '--trace-sample takes a ratio or a rate, not both');
  if (o.sampleRatio !== undefined) {
    const r = o.sampleRatio;
    if (typeof r !== 'number' || !(r > 0 && r <= 1)) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `--trace-sample must be a ratio in (0, 1], got ${String(r)}`);
    return { sampleRatio: r };
  }
  const n = o.samplePerSecond ?? DEFAULT_SAMPLE_PER_SECOND;
  if (typeof n !== 'number' || !(n > 0) || !Number.isFinite(n)) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `--trace-sample must be a positive rate such as 50/s, got ${String(n)}/s`);
  return { sampleRatio: 1, samplePerSecond: n };
}

/** Checks an `--trace-export` URL before the run starts. */
export function checkExportUrl(raw: string): URL {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new RedlineError(ErrorCodes.BAD_URL, `--trace-export: invalid URL "${raw}": expected an OTLP/HTTP traces endpoint such as http://127.0.0.1:4318/v1/traces`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RedlineError(ErrorCodes.BAD_URL, `--trace-export: unsupported protocol "${u.protocol}" in "${raw}": use http:// or https://`);
  return u;
}

/** Sends spans as OTLP/JSON in batches; returns how many were accepted. Throws with the first failure's reason. */
export async function exportSpans(url: string, spans: readonly Span[], batch = 2000): Promise<number> {
  let sent = 0;
  for (let i = 0; i < spans.length; i += batch) {
    const body = JSON.stringify(spansToOtlpJson(spans.slice(i, i + batch)));
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    await res.arrayBuffer().catch(() => undefined);
    sent += Math.min(batch, spans.length - i);
  }
  return sent;
}

/** Opens the receiver and prepares the target's environment. Throws only for bad options. */
export async function startRunTracing(o: RunTracingOptions): Promise<RunTracing> {
  const sampling = samplingOf(o);
  if (o.exportUrl !== undefined) checkExportUrl(o.exportUrl);
  const runTag = randomBytes(4).toString('hex');
  const notes: string[] = [];
  const say = (m: string): void => {
    notes.push(m);
    o.onEvent?.(m);
  };
  let receiver: TraceReceiver;
  const wanted = o.port ?? (o.mode === 'attach' ? 4318 : 0);
  try {
    receiver = await startReceiver({ runTag, port: wanted });
  } catch (err) {
    if (o.port !== undefined || wanted === 0) throw err;
    receiver = await startReceiver({ runTag, port: 0 });
    say(`port ${wanted} is in use: the trace receiver listens on ${receiver.endpoint} instead`);
  }
  const statusDir = await mkdtemp(join(tmpdir(), 'redline-trace-'));
  const statusFile = join(statusDir, 'status.json');
  const targetEnv: Record<string, string> = {};
  let preloaded = false;
  if (o.mode === 'launch') {
    const own = o.ownSdk === true ? 'asked with --trace-own-sdk' : o.ownSdk === false ? null : detectOwnSdk(o.cwd);
    if (own !== null) {
      targetEnv.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = receiver.url;
      targetEnv.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL = process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? 'http/protobuf';
      targetEnv.OTEL_BSP_SCHEDULE_DELAY = '200';
      if (process.env.OTEL_TRACES_SAMPLER === undefined) targetEnv.OTEL_TRACES_SAMPLER = 'parentbased_always_off';
      say(`the target runs its own OpenTelemetry SDK (${own}): not instrumenting it again; its exporter is pointed at ${receiver.url} through OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`);
    } else {
      preloaded = true;
      targetEnv.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require "${TRACE_REGISTER_CJS.replace(/(["\\])/g, '\\$1')}"`.trim();
      targetEnv.REDLINE_TRACE_ENDPOINT = receiver.url;
      targetEnv.REDLINE_TRACE_STATUS = statusFile;
    }
  } else if (o.mode === 'attach') {
    say(`attached target: Redline cannot instrument a running process; point its OTLP exporter at ${receiver.endpoint} (OTEL_EXPORTER_OTLP_ENDPOINT) with a parent-based sampler`);
  }
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await receiver.close();
    await rm(statusDir, { recursive: true, force: true });
  };
  return {
    targetEnv,
    notes,
    receiver,
    load: {
      // Per worker and second: up to 20 tail traces and about 5 around the median, per request name.
      trace: { runTag, ...sampling, tailPerSecond: 20, baselinePerSecond: 10 },
      onTraceRecords: (r) => receiver.addRecords(r),
    },
    async checkTarget(): Promise<void> {
      if (!preloaded) return;
      // The preload writes its status synchronously before the application's code runs.
      const text = await readFile(statusFile, 'utf8').catch(() => null);
      if (text === null) {
        say('the target did not load the tracing preload (not a Node process, or NODE_OPTIONS was overridden): the run goes on without traces');
        return;
      }
      const st = JSON.parse(text) as { ok: boolean; error?: string; failed: Array<{ name: string; error: string }>; instrumentations: string[] };
      if (!st.ok) say(`the target could not load the OpenTelemetry instrumentation (${st.error ?? 'unknown error'}): the run goes on without traces`);
      else o.onEvent?.(`tracing the target with ${st.instrumentations.join(', ')}`);
      for (const f of st.failed) if (f.name !== 'esm-hook') say(`instrumentation ${f.name} did not load: ${f.error}`);
    },
    async finish(runDir, percentiles, run = {}): Promise<TracesFile> {
      // The target's batch processor exports every 200 ms: wait until the spans stop arriving.
      const deadline = Date.now() + 3000;
      let last = receiver.stats().spansReceived;
      for (;;) {
        await new Promise((r) => setTimeout(r, 400));
        const now = receiver.stats().spansReceived;
        if (now === last || Date.now() > deadline) break;
        last = now;
      }
      const { records, spans } = receiver.kept();
      const analysis = analyzeTraces(records, spans, { percentiles });
      if (analysis.clockSkewMs !== null) {
        say(
          `clock skew: the target's span clock is ${analysis.clockSkewMs >= 0 ? 'ahead of' : 'behind'} the generator's by about ${Math.abs(analysis.clockSkewMs).toFixed(1)} ms (${(analysis.outsideWindowShare * 100).toFixed(0)} % of server spans fell outside the client's window); spans were shifted by that before the analysis${o.mode === 'attach' ? ' (attached target: likely another host or container clock)' : ''}`,
        );
      }
      const stats = receiver.stats();
      if (stats.spansReceived === 0) say('no spans arrived at the trace receiver: "Where the time goes" is empty');
      const r = stats.rejected;
      const refused = r.garbage + r.oversized + r.unsupported;
      if (refused > 0 || r.unknownTraceSpans > 0) say(`the trace receiver refused ${refused} payload(s) (${r.garbage} not OTLP, ${r.oversized} too large, ${r.unsupported} unsupported) and ${r.unknownTraceSpans} span(s) of traces this run did not send`);
      const saved = spans.length > MAX_FILE_SPANS ? spans.slice(0, MAX_FILE_SPANS) : spans;
      if (saved.length < spans.length) say(`${spans.length - saved.length} kept spans beyond ${MAX_FILE_SPANS} were not written to ${TRACES_OTLP_FILE}`);
      if (saved.length > 0) await writeFile(join(runDir, TRACES_OTLP_FILE), JSON.stringify(spansToOtlpJson(saved)));
      if (o.exportUrl !== undefined && saved.length > 0) {
        try {
          const n = await exportSpans(o.exportUrl, saved);
          o.onEvent?.(`exported ${n} spans to ${o.exportUrl}`);
        } catch (err) {
          say(`could not export the traces to ${o.exportUrl}: ${(err as Error).message}`);
        }
      }
      // Under a budget the share is what was measured: one server span per sampled request.
      const sampleRatio = sampling.samplePerSecond === undefined ? sampling.sampleRatio : run.requests ? Math.min(1, stats.serverSpans / run.requests) : 0;
      const file: TracesFile = {
        sampleRatio,
        ...(sampling.samplePerSecond !== undefined ? { samplePerSecond: sampling.samplePerSecond } : {}),
        ...(run.startMs !== undefined ? { runStartMs: run.startMs } : {}),
        analysis,
        records,
        receiver: stats,
        notes: [...notes],
        spansSaved: saved.length,
      };
      await writeJsonAtomic(join(runDir, TRACES_FILE), file);
      return file;
    },
    close,
  };
}

/** Reads a run directory's `traces.json`, or null when the run was not traced. */
export async function readTracesFile(runDir: string): Promise<TracesFile | null> {
  const text = await readFile(join(runDir, TRACES_FILE), 'utf8').catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text) as TracesFile;
  } catch (err) {
    throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `${join(runDir, TRACES_FILE)} is not valid JSON: ${(err as Error).message}`);
  }
}

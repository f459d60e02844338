import { z } from 'zod';
import { RESULT_SCHEMA_VERSION } from './result.js';

// Ids and titles for the generated JSON Schema live in a registry of this module, not zod's global
// one, so loading the module twice (source and build in one process) cannot collide.
const jsonSchemaMeta = z.registry<{ id?: string; title?: string; description?: string }>();

// The one definition of `result.json`. The TypeScript types in result.ts are inferred from these
// schemas, and schema/result.schema.json is generated from them (`npm run schema`); a test fails
// when the committed JSON Schema is stale. Objects are strict (unknown fields are refused) except
// where noted, matching the hand-written schema this replaced.

const nonNegative = z.number().nonnegative();
const count = z.number().int().nonnegative();
const counts = z.record(z.string(), count);
const strings = z.record(z.string(), z.string());
const lag = z.strictObject({ p50: nonNegative, p99: nonNegative, max: nonNegative });
const secondsWindow = z.strictObject({ startS: z.number(), endS: z.number() });

/** Latency summary of an HDR histogram, in ms. */
export const LatencySummarySchema = z
  .strictObject({
    count: nonNegative,
    min: nonNegative,
    mean: nonNegative,
    stdev: nonNegative,
    p50: nonNegative,
    p75: nonNegative,
    p90: nonNegative,
    p95: nonNegative,
    p99: nonNegative,
    p999: nonNegative,
    max: nonNegative,
  })
  .register(jsonSchemaMeta, { id: 'latency' });

/** How a run ended. */
export const RunStatusSchema = z.enum(['completed', 'interrupted', 'aborted']);

/** Machine and runtime the generator ran on. */
export const RunEnvironmentSchema = z.strictObject({
  redlineVersion: z.string(),
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpuModel: z.string(),
  cpuCount: count,
  totalMemoryBytes: nonNegative,
  hostname: z.string(),
  workers: count,
});

/** Per-second self-check of the load generator. */
export const GeneratorSecondSchema = z.strictObject({
  /** Seconds since run start (the second this sample closes). */
  t: z.number(),
  intendedRate: z.number().nullable(),
  achievedRate: z.number(),
  scheduleLagMs: lag,
  /** Event-loop utilisation of the busiest worker in that second, 0–1. */
  elu: nonNegative,
  /** Generator process CPU in that second, in cores (1 = one full core). */
  cpuCores: nonNegative,
});

/** The generator's verdict about itself. */
export const GeneratorReportSchema = z.strictObject({
  /** True when the generator could not hold the intended load for reasons of its own. */
  limited: z.boolean(),
  /** Plain-language reasons when `limited` (empty otherwise). */
  reasons: z.array(z.string()),
  scheduleLagMs: lag,
  eluMax: nonNegative,
  eluMean: nonNegative,
  cpuCoresMean: nonNegative,
  seconds: z.array(GeneratorSecondSchema),
});

/** Counts of errors by kind: `connect_refused`, `dns`, `timeout`, `reset`, `http_4xx`, `http_5xx`, ... */
export const ErrorCountsSchema = counts;

const trafficShape = {
  requests: count,
  /** Requests that failed (network error, timeout, 4xx/5xx). */
  errors: count,
  errorsByKind: ErrorCountsSchema,
  /** Completed requests per second over the measured duration. */
  throughput: nonNegative,
  /**
   * Latency from the intended send time (coordinated-omission corrected) in open models; equal to
   * serviceTime in closed models. Absent when nothing was timed (no response and no timeout):
   * a run of refused connections has no latency, not a latency of zero.
   */
  latency: LatencySummarySchema.optional(),
  /** Latency from the actual send to the end of the response. Absent exactly when `latency` is. */
  serviceTime: LatencySummarySchema.optional(),
};

/** Statistics for one slice of traffic (whole run, one request name, one status class). */
export const TrafficSummarySchema = z.strictObject(trafficShape).register(jsonSchemaMeta, { id: 'traffic' });

/** A custom metric's run total (Counter, Gauge, Rate or Trend declared by the scenario). */
export const CustomMetricSummarySchema = z
  .discriminatedUnion('type', [
    /** Counter: the sum of every `add`, and that sum per second of the run. */
    z.strictObject({ type: z.literal('counter'), count: z.number(), rate: z.number() }),
    /** Gauge: the last value set (by engine time, across workers), and the smallest and largest. */
    z.strictObject({ type: z.literal('gauge'), value: z.number(), min: z.number(), max: z.number() }),
    /** Rate: non-zero (`passes`) and zero (`fails`) values, and their share `passes / (passes + fails)`. */
    z.strictObject({ type: z.literal('rate'), passes: count, fails: count, rate: nonNegative }),
    /** Trend: the HDR summary of its values, in the metric's own unit (same fields as a latency summary). */
    z.strictObject({ type: z.literal('trend'), ...LatencySummarySchema.shape }),
  ])
  .register(jsonSchemaMeta, { id: 'customMetric' });

/** One `group(name, fn)` path (`::a::b`): the requests made inside it, and the group's own duration. */
export const GroupSummarySchema = z.strictObject({
  ...trafficShape,
  /** How long the group's function took, per call, in ms. Absent when it never finished. */
  duration: LatencySummarySchema.optional(),
});
const verdictCounts = { hit: count, miss: count, stale: count, bypass: count, unknown: count };

/**
 * Cache verdicts of the responses (from `Cache-Status`, `CF-Cache-Status`, `X-Cache`, `X-Varnish`,
 * `Age`, `Via`), in runs where any response named one or had a cache-header problem.
 */
export const CacheSummarySchema = z
  .strictObject({
    /** Responses (requests that got a status), and how many got each verdict. */
    responses: count,
    ...verdictCounts,
    /** (hit + stale) / (hit + stale + miss): the share of cache lookups served from the cache; null without lookups. */
    hitRatio: z.number().min(0).max(1).nullable(),
    /** (hit + stale) / responses: the share of all responses the origin did not have to produce. */
    offload: z.number().min(0).max(1),
    /** Service time by verdict, for verdicts that occurred. */
    latency: z.record(z.string(), LatencySummarySchema),
    /** One entry per second of the run (`t` as in `timeseries`). */
    perSecond: z.array(z.strictObject({ t: z.number(), ...verdictCounts })),
    /** Seconds with a burst of misses (a TTL running out or a purge: a stampede at the edge); `cold` when nothing had been a hit before. */
    expirySpikes: z.array(z.strictObject({ t: z.number(), misses: count, baselineMisses: nonNegative, hitRatio: z.number().min(0).max(1), cold: z.boolean() })),
    /** Verdicts and header problems per request name. */
    byName: z.record(
      z.string(),
      z.strictObject({
        ...verdictCounts,
        /** GET/HEAD 200 responses marked no-store, private, no-cache or max-age=0. */
        uncacheable: count,
        /** Responses with `Vary: *`. */
        varyStar: count,
        /** Responses a shared cache may store (or served) that set a cookie. */
        setCookieOnCacheable: count,
        /** Cacheable GET 200 responses without ETag or Last-Modified. */
        noValidators: count,
      }),
    ),
  })
  .register(jsonSchemaMeta, { id: 'cache' });

/** Whole-run summary. */
export const RunSummarySchema = z.strictObject({
  ...trafficShape,
  durationMs: nonNegative,
  iterations: count,
  iterationsDropped: count,
  /** Iterations that threw (script error) rather than failing a request. */
  iterationErrors: count,
  dataSentBytes: count,
  dataReceivedBytes: count,
  vusMax: count,
  byName: z.record(z.string(), TrafficSummarySchema),
  byStatusClass: z.record(z.string(), TrafficSummarySchema),
  byScenario: z.record(z.string(), z.strictObject({ ...trafficShape, iterations: count, iterationsDropped: count })),
  checks: z.strictObject({
    passes: count,
    fails: count,
    byName: z.record(z.string(), z.strictObject({ passes: count, fails: count })),
  }),
  /**
   * Request phases as k6 names them, over requests that got a response: `dns`, `connect` (TCP),
   * `tls` (handshake) — 0 for requests on a reused connection — `waiting` (first byte after
   * sending) and `receiving` (first to last byte). Absent in runs that predate it.
   */
  timings: z.record(z.string(), LatencySummarySchema).optional(),
  /** Per `group()` path (`::a`, `::a::b`): requests tagged with exactly that path, and the group's duration. Absent without groups. */
  byGroup: z.record(z.string(), GroupSummarySchema).optional(),
  /** Custom metrics (Counter, Gauge, Rate, Trend) by name. Absent when the scenario declared none that got a value. */
  metrics: z.record(z.string(), CustomMetricSummarySchema).optional(),
  /** HTTP/2 connection events, in runs that spoke HTTP/2. */
  http2: z
    .strictObject({
      /** HTTP/2 connections opened. */
      connections: count,
      /** GOAWAY frames received (the server closing a connection; unprocessed streams were retried). */
      goaways: count,
      /** Requests that waited because every connection was at its stream limit (the server's or --max-streams). */
      streamLimitWaits: count,
      /** Streams the server refused (REFUSED_STREAM or above GOAWAY's last stream id), retried once. */
      refusedStreams: count,
    })
    .optional(),
  /** gRPC calls that got a status (from the server, or the client's deadline), in runs that made gRPC calls. */
  grpc: z
    .strictObject({
      /** Calls with a status; calls that never reached a server are network errors in `errorsByKind` instead. */
      calls: count,
      /** Calls by status name (`OK`, `NOT_FOUND`, `DEADLINE_EXCEEDED`, ...); each non-OK status is also in `errorsByKind` as `grpc_<name>`. */
      byStatus: counts,
    })
    .optional(),
  /** WebSocket connections and messages, in runs that opened WebSockets. */
  ws: z
    .strictObject({
      /** Handshakes that succeeded (101). */
      connections: count,
      /** Handshakes refused (a non-101 status) or failed at the network level. */
      failedHandshakes: count,
      messagesSent: count,
      messagesReceived: count,
      /** Sent messages that expected a reply (by the correlation) and got none before the close. */
      unanswered: count,
      /** Closed connections by close code (`1000` normal, `1001` going away, `1006` abnormal, ...). */
      closeCodes: counts,
    })
    .optional(),
  /**
   * Scripted responses whose Content-Encoding (gzip, br, deflate) was decoded: how many, their body
   * bytes on the wire and decoded. Absent when none was.
   */
  compression: z.strictObject({ responses: count, wireBytes: count, decodedBytes: count }).optional(),
  /** Cache verdicts and header problems, in runs where a response carried cache headers ([protocols](../../docs/protocols.md)). */
  cache: CacheSummarySchema.optional(),
});

const percentiles = z.strictObject({ p50: nonNegative, p90: nonNegative, p99: nonNegative, max: nonNegative });

/** One second of the run's time series. */
export const TimeseriesPointSchema = z.strictObject({
  /** Seconds since run start at the end of this interval (1, 2, 3, ...). */
  t: z.number(),
  requests: count,
  errors: count,
  errorsByKind: ErrorCountsSchema,
  /** Latency percentiles of this second's responses; null in a second without any (a hang is no 0 ms). */
  latency: percentiles.nullable(),
  serviceTime: percentiles.nullable(),
  iterations: count,
  iterationsDropped: count,
  vus: count,
  /** Mean requests in flight over this second, sampled every 10 ms (independent of latency, for Little's law). */
  inFlight: nonNegative.optional(),
  intendedRate: z.number().nullable(),
  scheduleLagMs: lag,
});

/** Outcome of one threshold expression. */
export const ThresholdResultSchema = z.strictObject({
  /** Metric with optional tag filter, e.g. `http.latency{name:login}`. */
  metric: z.string(),
  expression: z.string(),
  ok: z.boolean(),
  /** The observed value of the aggregation (e.g. p95 in ms, or a rate 0–1). */
  actual: z.number().nullable(),
  abortOnFail: z.boolean(),
  /**
   * The unit of `actual` (`ms`, `count`, `ratio`, `per-second`, `number`) as the evaluator knew it: a
   * custom Counter's `rate` is per second, a custom Rate's a share. Absent in results from before it.
   */
  unit: z.enum(['ms', 'count', 'ratio', 'per-second', 'number']).optional(),
});

/** Encoded HDR histograms (see LatencyHistogram.encode). */
export const RunHistogramsSchema = z.strictObject({
  latency: z.string(),
  serviceTime: z.string(),
  byName: z.record(z.string(), z.strictObject({ latency: z.string(), serviceTime: z.string() })),
  /** Per-second corrected-latency histograms, index i ↔ timeseries[i]. */
  intervals: z.array(z.string()),
  /** Group durations by group path (µs, as every latency histogram). */
  groups: z.record(z.string(), z.string()).optional(),
  /** Trend metrics by name (values × 1000, so a Trend in ms decodes as µs like the latency histograms). */
  metrics: z.record(z.string(), z.string()).optional(),
  /** Per-second service-time histograms, index i ↔ timeseries[i] (runs since distributed runs; lets `merge` be exact). */
  serviceIntervals: z.array(z.string()).optional(),
  /** Whole-run histograms per scenario and per status class (`2xx`, `error`, …), keyed as in `summary.byScenario` / `byStatusClass`. */
  byScenario: z.record(z.string(), z.strictObject({ latency: z.string(), serviceTime: z.string() })).optional(),
  byStatusClass: z.record(z.string(), z.strictObject({ latency: z.string(), serviceTime: z.string() })).optional(),
  /** Whole-run schedule lag of open-model iterations (µs). */
  scheduleLag: z.string().optional(),
  /** Whole-run request phases (`dns`, `connect`, `tls`, `waiting`, `receiving`), as in `summary.timings`. */
  timings: z.record(z.string(), z.string()).optional(),
});

/** A stage of a ramping load model, as resolved. */
export const ResolvedStageSchema = z.strictObject({
  durationMs: z.number(),
  target: z.number(),
});

/** A scenario after defaults and profiles are applied; enough to re-run or compare. */
export const ResolvedScenarioConfigSchema = z.strictObject({
  name: z.string(),
  /** A load-model name of @redline/load's EXECUTOR_NAMES. */
  executor: z.enum(['constant-vus', 'ramping-vus', 'per-vu-iterations', 'shared-iterations', 'constant-arrival-rate', 'ramping-arrival-rate']),
  startMs: nonNegative,
  tags: strings,
  /** Executor-specific resolved options (rate, vus, stages, iterations, maxVUs, ...). */
  options: z.record(z.string(), z.unknown()),
  /** `static` for the fast path, `script` for scripted iterations. */
  mode: z.enum(['static', 'script']),
});

/** The resolved configuration of a run. */
export const ResolvedRunConfigSchema = z.strictObject({
  name: z.string(),
  /** Scenario file (absolute) or null for quick mode. */
  source: z.string().nullable(),
  scenarios: z.array(ResolvedScenarioConfigSchema).min(1),
  thresholds: z.record(z.string(), z.array(z.string())),
  workers: count,
  timeoutMs: nonNegative,
  gracefulStopMs: nonNegative,
  /** Free-form tags of the run (e.g. git sha). */
  tags: strings,
  /** The `redline` command line that started the run (arguments after `redline`; header and `-e` values redacted). */
  commandLine: z.array(z.string()).optional(),
});

/** One per-second sample of the probed target process, aligned on the run clock. */
export const TargetSampleSchema = z
  .strictObject({
    /** Seconds since run start at the end of this interval. */
    t: z.number(),
    /** Event-loop utilisation in this second (0–1). */
    elu: nonNegative,
    /** Event-loop delay in ms over this second. */
    loopDelayMs: z.strictObject({ mean: nonNegative, p50: nonNegative, p99: nonNegative, max: nonNegative }),
    /** Share of wall time spent in GC pauses in this second (0–1). */
    gcShare: nonNegative,
    gcPauses: z.record(z.string(), z.strictObject({ count, totalMs: nonNegative })),
    heapUsedBytes: nonNegative,
    heapTotalBytes: nonNegative,
    externalBytes: nonNegative,
    rssBytes: nonNegative,
    /** Heap used right after the last major GC in this second, if one happened. */
    heapAfterGcBytes: z.number().nullable(),
    /** CPU in this second, in cores (1 = one full core). */
    cpuUser: nonNegative,
    cpuSystem: nonNegative,
    /** Active resources by type (`TCPSocketWrap`, `Timeout`, `FSReqCallback`, ...). */
    activeResources: counts,
    /** Worker-thread utilisation by thread label, when the target has workers. */
    threads: z.record(z.string(), z.strictObject({ elu: nonNegative })).optional(),
    /**
     * libuv thread-pool queue delay in this second, ms: latency of the probe's tiny thread-pool task
     * minus its unloaded latency. Absent when the probe did not measure it (e.g. `--attach`).
     */
    threadpoolDelayMs: z.strictObject({ mean: nonNegative, max: nonNegative }).optional(),
    /**
     * The process's I/O in this second from `/proc/self/io` (Linux; absent elsewhere): bytes that
     * reached storage (`readBytes`, `writeBytes`; page-cache hits read 0), bytes through read/write
     * calls of any kind (`rchar`, `wchar`: files, sockets, pipes) and the number of those calls.
     */
    io: z
      .strictObject({ readBytes: nonNegative, writeBytes: nonNegative, syscr: nonNegative, syscw: nonNegative, rchar: nonNegative, wchar: nonNegative })
      .optional(),
    /** V8's heap size limit (`heap_size_limit`; `--max-old-space-size` sets it), bytes. Absent from older runs. */
    heapLimitBytes: nonNegative.optional(),
  })
  .register(jsonSchemaMeta, { id: 'targetSample' });

/** Per-second values of one watched object (a pool, a limiter), aligned on the run clock. */
export const StatsSeriesSchema = z
  .strictObject({
    name: z.string(),
    /** What the object is (pools: driver, host, port, database, max). */
    meta: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
    /** For pools: the database server's connection limit for ordinary clients, when the probe could read it. */
    serverMaxConnections: z.number().int().optional(),
    /** One entry per second in which the object reported; `t` as in a target sample. */
    samples: z.array(z.strictObject({ t: z.number(), values: z.record(z.string(), z.number()) })),
  })
  .register(jsonSchemaMeta, { id: 'statsSeries' });

/** A pool client held longer than `--pool-leak-ms`. */
export const PoolLeakSchema = z.strictObject({
  /** The pool's name (as in `target.pools`). */
  pool: z.string(),
  /** Seconds since run start at which the client passed the threshold. */
  t: z.number(),
  /** How long it was held: until it came back, or until the last report if it never did. */
  heldMs: nonNegative,
  returned: z.boolean(),
  /** The stack that acquired the client, source-mapped where the run could. */
  stack: z.string(),
});

/** Files a probed run wrote next to result.json (paths relative to the run directory). */
export const ProfileFilesSchema = z.strictObject({
  cpuprofile: z.string().optional(),
  speedscope: z.string().optional(),
  collapsed: z.string().optional(),
  heapprofile: z.string().optional(),
  /** Per-thread CPU profiles, keyed by thread label. */
  threads: strings.optional(),
});

/** A full garbage collection the probe forced (V8 ran too few of its own to show the heap's trend). */
export const FullGcSchema = z.strictObject({
  /** Seconds since run start at which it ended. */
  t: z.number(),
  /** Heap used right after it, bytes. */
  heapUsedBytes: nonNegative,
  /** How long it paused the target, ms. */
  pauseMs: nonNegative,
});

/** Heap snapshots taken under load to name what leaks (`--leak-snapshots`). */
export const HeapSnapshotsSchema = z.strictObject({
  /** `auto`: taken only when heap after full GC grew early in the run; `on`: always; `off`: never. */
  mode: z.enum(['auto', 'on', 'off']),
  /** Snapshots written next to result.json, in the order taken. */
  taken: z.array(
    z.strictObject({
      /** Run-directory file (`heap-1.heapsnapshot`, …); opens in Chrome DevTools' Memory tab. */
      file: z.string(),
      t: z.number(),
      heapUsedBytes: nonNegative,
      /** How long writing it paused the target, ms. */
      pauseMs: nonNegative,
      fileBytes: nonNegative,
    }),
  ),
  /** Why snapshots were not taken (auto mode saw no growth, or the memory guard refused), else null. */
  skipped: z.strictObject({ code: z.string().nullable(), message: z.string() }).nullable(),
});

/**
 * One HTTP server the target created, with the socket settings the probe read from it at the end of
 * the run (ms; `null` where its kind has no such setting). `keepAliveTimeoutMs` 0 and
 * `maxRequestsPerSocket` 0 mean no limit.
 */
export const ServerSettingsSchema = z
  .strictObject({
    /** `http`/`https` (`node:http`, `node:https`), `http2`/`http2-secure` (`node:http2`). */
    kind: z.enum(['http', 'https', 'http2', 'http2-secure']),
    /** The thread that created it (`main`, `worker-<id>`). */
    thread: z.string(),
    address: z.string().nullable(),
    port: z.number().int().nullable(),
    /** Whether it was still listening when read. */
    listening: z.boolean(),
    /** `server.keepAliveTimeout`: how long an idle keep-alive connection stays open (Node's default 5000). */
    keepAliveTimeoutMs: nonNegative.nullable(),
    /** `server.headersTimeout`: the limit for receiving a request's headers (Node's default 60000). */
    headersTimeoutMs: nonNegative.nullable(),
    /** `server.requestTimeout`: the limit for receiving a whole request (Node's default 300000; 0: none). */
    requestTimeoutMs: nonNegative.nullable(),
    /** `server.maxRequestsPerSocket`: requests per connection before it is closed (0: unlimited). */
    maxRequestsPerSocket: nonNegative.nullable(),
    /** `server.timeout`: idle socket timeout (0: none). */
    timeoutMs: nonNegative.nullable(),
  })
  .register(jsonSchemaMeta, { id: 'serverSettings' });

/** What is known of the target process of a run. */
export const TargetReportSchema = z.strictObject({
  command: z.string().nullable(),
  attach: z.string().nullable(),
  pid: z.number().int().nullable(),
  samples: z.array(TargetSampleSchema),
  /** Present when the target exited before the run ended. */
  exit: z.strictObject({ code: z.number().int().nullable(), signal: z.string().nullable(), t: z.number() }).nullable(),
  profiles: ProfileFilesSchema,
  /** Steady-state window over which the CPU profile was taken, seconds since run start. */
  profileWindow: secondsWindow.nullable(),
  /** Connection pools seen on `redline:pool:stats` (auto-watched pg/tarn pools or `watchPool`). */
  pools: z.array(StatsSeriesSchema).optional(),
  /** Limiters and queues seen on `redline:flow:stats`. */
  flows: z.array(StatsSeriesSchema).optional(),
  /** Pool clients held longer than `--pool-leak-ms`. */
  poolLeaks: z.array(PoolLeakSchema).optional(),
  /** V8/Node flags the target was started with (`--target-node-options`), when any; an A/B in `compare` quotes them. */
  nodeOptions: z.array(z.string()).optional(),
  /** Full collections the probe forced for the leak rule's evidence (launched targets; absent with `--no-full-gc`). */
  fullGcs: z.array(FullGcSchema).optional(),
  /** Heap snapshots under load (launched targets). */
  heapSnapshots: HeapSnapshotsSchema.optional(),
  /** The HTTP servers the target created and their socket settings (launched targets; absent when it created none). */
  servers: z.array(ServerSettingsSchema).optional(),
});

/** Categories the doctor can name. */
export const FindingCategorySchema = z.enum([
  'event-loop-blocked',
  'cpu-saturated',
  'gc-pressure',
  'memory-leak',
  'waiting-external',
  'pool-wait',
  'pool-leak',
  'threadpool-saturated',
  'generator-limited',
  'errors',
  'target-exited',
  'n-plus-one',
  'slow-query',
  'slow-downstream',
  'server-queueing',
  'connection-churn',
  'edge-cache',
  'cache-headers',
  'http2-stream-limit',
  'compression-cpu',
  'server-keepalive',
  'no-problem',
]);

/** Severity, from most to least urgent. */
export const SeveritySchema = z.enum(['high', 'medium', 'low', 'info']);

/** One number behind a finding, compared with the threshold that made it count. */
export const EvidenceSchema = z.strictObject({
  metric: z.string(),
  value: z.number(),
  threshold: z.number(),
  comparison: z.enum(['>', '<', '>=', '<=']),
  unit: z.string(),
});

/** Code area a stack frame belongs to. */
export const CodeAreaSchema = z.enum(['app', 'dependency', 'node', 'v8']);

/** A hot function in the CPU profile within a finding's window. */
export const HotFrameSchema = z.strictObject({
  functionName: z.string(),
  /** Source-mapped when possible (TypeScript path). */
  file: z.string(),
  line: count,
  column: count,
  area: CodeAreaSchema,
  /** Share of samples in the window where this function was on top of the stack, 0–1. */
  selfShare: nonNegative,
  /** Share of samples in the window where this function was anywhere on the stack, 0–1. */
  totalShare: nonNegative,
});

/** One step of a leak's retainer path, holder side first. */
export const RetainerStepSchema = z.strictObject({
  /** `SessionStore.sessions`, `variable store`, `closure handle`, `Array[3]`. */
  label: z.string(),
  /** Source-mapped position of a closure on the path, relative to the app root. */
  file: z.string().optional(),
  line: count.optional(),
  column: count.optional(),
  area: CodeAreaSchema.optional(),
  /** npm package of a dependency on the path. */
  package: z.string().optional(),
  /** For a variable: the closure that keeps its scope alive. */
  inFunction: z.string().optional(),
});

/** What a leak finding names from heap snapshots: an object that keeps gaining objects, and who holds it. */
export const LeakSuspectSchema = z.strictObject({
  /** The holder's type: `Map`, `Array`, `Object`, … */
  holder: z.string(),
  /** V8 object id in the last snapshot (find it in DevTools with `@id`). */
  holderId: count,
  /** Retained size of the holder in each snapshot, bytes. */
  retainedSeries: z.array(nonNegative),
  retainedFirstBytes: nonNegative,
  retainedLastBytes: nonNegative,
  /** Objects created after the first snapshot that it holds in the last: count and own bytes. */
  addedCount: count,
  addedBytes: nonNegative,
  /** The classes of those objects, most bytes first. */
  classes: z.array(z.strictObject({ name: z.string(), countFirst: count, countLast: count, added: count, addedBytes: nonNegative })),
  path: z.array(RetainerStepSchema),
  /** The path on one line: `Map in SessionStore.sessions ← variable store (kept by closure handle at src/app.ts:12) ← …`. */
  pathText: z.string(),
});

/** A diagnosis with its evidence. */
export const FindingSchema = z
  .strictObject({
    category: FindingCategorySchema,
    severity: SeveritySchema,
    /** 0–1 */
    confidence: z.number().min(0).max(1),
    title: z.string(),
    /** Window in seconds since run start. */
    window: secondsWindow,
    evidence: z.array(EvidenceSchema),
    frames: z.array(HotFrameSchema),
    recommendation: z.string(),
    /** memory-leak findings with heap snapshots: what grows and what holds it. */
    leaks: z.array(LeakSuspectSchema).optional(),
  })
  .register(jsonSchemaMeta, { id: 'finding' });

/** What a traced run kept; the analysis itself is in `traces.json`, the spans in `traces.otlp.json`. */
export const TracesSummarySchema = z.strictObject({
  /** Run-directory file of the analysis ("Where the time goes", kept requests, receiver counters). */
  file: z.string(),
  /** Run-directory file of the kept spans as OTLP/JSON, or null when none arrived. */
  otlpFile: z.string().nullable(),
  /** Share of requests the generator flagged as sampled (0–1). */
  sampleRatio: z.number().min(0).max(1),
  spansReceived: z.number().int().min(0),
  spansSaved: z.number().int().min(0),
  tracesKept: z.number().int().min(0),
});

/** One instance (or merged run directory) that a distributed or merged result is made of. */
export const DistributedSourceSchema = z.strictObject({
  /** Instance index (0-based) in a coordinated run; position of the directory in `redline merge`. */
  instance: z.number().int().min(0),
  /** Its execution segment (`from:to`). */
  segment: z.string(),
  host: z.string().nullable(),
  /** `complete`: every second arrived; `lost`: it stopped reporting (died, or Redis was lost) after `lastSecond`; `missing`: nothing arrived. */
  state: z.enum(['complete', 'lost', 'missing']),
  /** Last second (1-based) merged from it; 0 when none. */
  lastSecond: z.number().int().min(0),
  requests: z.number().int().min(0),
  /** Its own run directory, when known. */
  runDir: z.string().nullable(),
});

/** How a result was assembled from several instances (coordinated runs and `redline merge`). */
export const DistributedReportSchema = z.strictObject({
  /** `coordinated`: merged live over Redis; `offline`: `redline merge` of finished run directories. */
  mode: z.enum(['coordinated', 'offline']),
  runId: z.string().nullable(),
  instances: z.number().int().min(1),
  sources: z.array(DistributedSourceSchema),
  /** One line per share that is not fully in this result (dead or lagging instances, a lost coordinator); empty when complete. */
  missing: z.array(z.string()),
});

/** The content of `result.json`. */
export const RunResultSchema = z
  .strictObject({
    schemaVersion: z.literal(RESULT_SCHEMA_VERSION),
    kind: z.literal('run'),
    id: z.string(),
    name: z.string(),
    status: RunStatusSchema,
    /** ISO timestamps. */
    startedAt: z.iso.datetime({ offset: true }),
    endedAt: z.iso.datetime({ offset: true }),
    config: ResolvedRunConfigSchema,
    environment: RunEnvironmentSchema,
    generator: GeneratorReportSchema,
    summary: RunSummarySchema,
    thresholds: z.array(ThresholdResultSchema),
    timeseries: z.array(TimeseriesPointSchema),
    histograms: RunHistogramsSchema,
    target: TargetReportSchema.nullable(),
    findings: z.array(FindingSchema),
    /** Non-fatal problems worth a user's attention (script errors, worker failures). */
    warnings: z.array(z.string()).optional(),
    /** Set when the run was traced (`--trace`): where the analysis and the kept spans are. */
    traces: TracesSummarySchema.optional(),
    /** The execution segment (`from:to` within `sequence`) this run's instance ran (`--execution-segment`); absent: the whole load. */
    executionSegment: z.strictObject({ segment: z.string(), sequence: z.string().nullable() }).optional(),
    /** Set for a result merged from several instances (`--coordinator`, `redline merge`). */
    distributed: DistributedReportSchema.optional(),
  })
  .register(jsonSchemaMeta, {
    title: 'Redline run result (result.json)',
    description:
      'The contract between Redline stages: written by `redline run`, read by report, compare, capacity and doctor. Generated from packages/core/src/result-schema.ts by `npm run schema`; see docs/result-schema.md.',
  });

/** The JSON Schema (draft 2020-12) of `result.json`, generated from {@link RunResultSchema}. */
export function resultJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RunResultSchema, { target: 'draft-2020-12', metadata: jsonSchemaMeta });
  return { $schema: schema.$schema, $id: 'https://redline.dev/schema/result.schema.json', ...schema };
}

/** `summary.byName["GET /"].latency.p99`-style path of a validation issue. */
function issuePath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && /^[A-Za-z_$][\w$]*$/.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out === '' ? '(top level)' : out;
}

/**
 * Checks parsed `result.json` content against {@link RunResultSchema}. Returns the result, or a
 * one-line description of the first problem (field path, what was expected) and how many more
 * there are.
 */
export function checkRunResult(data: unknown): { ok: true; result: z.infer<typeof RunResultSchema> } | { ok: false; problem: string } {
  const parsed = RunResultSchema.safeParse(data);
  if (parsed.success) return { ok: true, result: parsed.data };
  const issues = parsed.error.issues;
  const first = issues[0];
  const what = first === undefined ? 'does not match the schema' : `${issuePath(first.path)}: ${first.message.replace(/^Invalid input: /, '')}`;
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return { ok: false, problem: `${what}${more}` };
}

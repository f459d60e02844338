/**
 * Preloaded into the target (`--require`) by `redline … --trace`: starts the OpenTelemetry Node SDK
 * with Redline's curated auto-instrumentations and an OTLP/protobuf exporter pointed at the run's
 * receiver. Everything it needs ships with Redline, so the target installs nothing.
 *
 * It never crashes the target: a missing or broken SDK, or one instrumentation that fails to
 * load, is written to the status file the runner reads (`REDLINE_TRACE_STATUS`), and the target
 * runs on without (that) tracing. Requests carry the generator's `traceparent`; the default
 * parent-based sampler records exactly the ones the generator flagged as sampled.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isMainThread } from 'node:worker_threads';
import { callerProcessor } from './caller.cjs';
import { createContextManager } from './context-manager.cjs';
import { installHttpHook } from './http-hook.cjs';

/** The receiver's `…/v1/traces` URL. */
export const TRACE_ENDPOINT_ENV = 'REDLINE_TRACE_ENDPOINT';
/** Where to write the JSON status: `{ ok, instrumentations, failed, error? }`. */
export const TRACE_STATUS_ENV = 'REDLINE_TRACE_STATUS';
/** Directory to load the SDK from instead of Redline's own install (a broken install is simulated this way in tests). */
export const TRACE_SDK_DIR_ENV = 'REDLINE_TRACE_SDK_DIR';

/** What the preload reports. */
export interface TraceStatus {
  ok: boolean;
  pid: number;
  instrumentations: string[];
  failed: Array<{ name: string; error: string }>;
  error?: string;
}

const STATE_KEY = Symbol.for('redline.trace.state');

/** Set to `otel` to use `@opentelemetry/instrumentation-http` instead of Redline's own HTTP hook (to compare their cost). */
export const TRACE_HTTP_ENV = 'REDLINE_TRACE_HTTP';

/**
 * Instrumentation packages and their exported class, in the order they are enabled. HTTP is
 * Redline's own hook (`http-hook.cts`) unless {@link TRACE_HTTP_ENV} is `otel`.
 */
const INSTRUMENTATIONS: ReadonlyArray<[pkg: string, cls: string, config?: Record<string, unknown>]> = [
  ['@opentelemetry/instrumentation-undici', 'UndiciInstrumentation'],
  // requireParentSpan: a pool's background connects outside any request are noise here.
  ['@opentelemetry/instrumentation-pg', 'PgInstrumentation', { requireParentSpan: true }],
  ['@opentelemetry/instrumentation-mysql2', 'MySQL2Instrumentation'],
  ['@opentelemetry/instrumentation-ioredis', 'IORedisInstrumentation', { requireParentSpan: true }],
  ['@opentelemetry/instrumentation-redis', 'RedisInstrumentation', { requireParentSpan: true }],
  ['@opentelemetry/instrumentation-mongodb', 'MongoDBInstrumentation', { requireParentSpan: true }],
  ['@opentelemetry/instrumentation-express', 'ExpressInstrumentation'],
  ['@opentelemetry/instrumentation-fastify', 'FastifyInstrumentation'],
  ['@opentelemetry/instrumentation-dns', 'DnsInstrumentation'],
];

function message(err: unknown): string {
  return (err as Error)?.message?.split('\n')[0] ?? String(err);
}

function report(status: TraceStatus): void {
  const file = process.env[TRACE_STATUS_ENV];
  if (!file) return;
  try {
    writeFileSync(file, JSON.stringify(status));
  } catch {
    // The runner then says it got no status; the target must not fail for it.
  }
}

function start(): void {
  const g = globalThis as unknown as Record<symbol, unknown>;
  // Node 20 runs preloads in the module-hooks thread too; only the main thread serves requests.
  if (g[STATE_KEY] || !isMainThread) return;
  g[STATE_KEY] = true;
  const endpoint = process.env[TRACE_ENDPOINT_ENV];
  if (!endpoint) return;
  const status: TraceStatus = { ok: false, pid: process.pid, instrumentations: [], failed: [] };
  try {
    const dir = process.env[TRACE_SDK_DIR_ENV];
    const req = createRequire(dir ? join(dir, 'noop.js') : __filename);
    if (process.env.REDLINE_TRACE_DEBUG) {
      const api = req('@opentelemetry/api') as typeof import('@opentelemetry/api');
      api.diag.setLogger(new api.DiagConsoleLogger(), api.DiagLogLevel.DEBUG);
    }
    const node = req('@opentelemetry/sdk-trace-node') as typeof import('@opentelemetry/sdk-trace-node');
    const { OTLPTraceExporter } = req('@opentelemetry/exporter-trace-otlp-proto') as typeof import('@opentelemetry/exporter-trace-otlp-proto');
    const { resourceFromAttributes } = req('@opentelemetry/resources') as typeof import('@opentelemetry/resources');
    const { registerInstrumentations } = req('@opentelemetry/instrumentation') as typeof import('@opentelemetry/instrumentation');
    // Measuring what each piece costs (bench/trace-overhead.bench.ts --env): REDLINE_TRACE_EXPORTER=none
    // drops the spans instead of exporting them, REDLINE_TRACE_CALLER=0 skips the caller's stack,
    // REDLINE_TRACE_PROCESSORS=none ends spans into nothing, REDLINE_TRACE_CONTEXT=sync propagates
    // the context only synchronously (no async hooks; spans after an await lose their parent).
    const exporter =
      process.env.REDLINE_TRACE_EXPORTER === 'none'
        ? { export: (_s: unknown, done: (r: { code: number }) => void) => done({ code: 0 }), shutdown: () => Promise.resolve(), forceFlush: () => Promise.resolve() }
        : new OTLPTraceExporter({ url: endpoint, timeoutMillis: 5000 });
    const processors: unknown[] = [];
    if (process.env.REDLINE_TRACE_PROCESSORS !== 'none') {
      if (process.env.REDLINE_TRACE_CALLER !== '0') processors.push(callerProcessor([__dirname]));
      // Short delay: spans reach the receiver within a second, and a target that dies loses little.
      processors.push(new node.BatchSpanProcessor(exporter as never, { scheduledDelayMillis: 200, maxQueueSize: 16_384, maxExportBatchSize: 2048 }));
    }
    const provider = new node.NodeTracerProvider({
      resource: resourceFromAttributes({ 'service.name': process.env.OTEL_SERVICE_NAME ?? 'redline-target', 'process.pid': process.pid }),
      sampler: new node.ParentBasedSampler({ root: new node.AlwaysOffSampler() }),
      spanProcessors: processors as never,
    });
    // Async hooks only while a sampled request is in flight (context-manager.cts says why).
    const api = req('@opentelemetry/api') as typeof import('@opentelemetry/api');
    const contextManager = createContextManager(api, { syncOnly: process.env.REDLINE_TRACE_CONTEXT === 'sync' });
    provider.register({ contextManager });
    // REDLINE_TRACE_HOOKS_LOG=FILE: one JSON line a second, how long the async hooks were on (the bench's view of bursts).
    const hooksLog = process.env.REDLINE_TRACE_HOOKS_LOG;
    if (hooksLog) {
      const { appendFileSync } = req('node:fs') as typeof import('node:fs');
      setInterval(() => {
        try {
          appendFileSync(hooksLog, `${JSON.stringify({ t: Date.now(), pid: process.pid, ...contextManager.hooksOn() })}\n`);
        } catch {
          // Debug output only.
        }
      }, 1000).unref();
    }
    const instrumentations: unknown[] = [];
    // REDLINE_TRACE_INSTRUMENTATIONS=http,pg keeps only those (measuring what each costs).
    const only = process.env.REDLINE_TRACE_INSTRUMENTATIONS?.split(',').map((x) => x.trim());
    const otelHttp = process.env[TRACE_HTTP_ENV] === 'otel';
    if (only === undefined || only.includes('http')) {
      if (otelHttp) {
        const { HttpInstrumentation } = req('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
        instrumentations.push(new HttpInstrumentation());
        status.instrumentations.push('http');
      } else {
        status.instrumentations.push(...installHttpHook({ api, tracer: provider.getTracer('@redline/trace/http'), sampled: contextManager }));
      }
    }
    for (const [pkg, cls, config] of INSTRUMENTATIONS) {
      if (only !== undefined && !only.includes(pkg.replace('@opentelemetry/instrumentation-', ''))) continue;
      try {
        const Ctor = (req(pkg) as Record<string, new (c?: object) => unknown>)[cls];
        if (typeof Ctor !== 'function') throw new Error(`${pkg} has no export ${cls}`);
        const instance = new Ctor(config ?? {}) as { _setPoolConnectEventListeners?: unknown };
        // instrumentation-pg adds pool listeners at the first recorded connect that then update
        // OpenTelemetry connection metrics on every acquire and release, sampled or not; the preload
        // registers no meter, so they only cost (Redline's pool gauges come from @redline/pool).
        if (pkg === '@opentelemetry/instrumentation-pg' && typeof instance._setPoolConnectEventListeners === 'function') instance._setPoolConnectEventListeners = () => undefined;
        instrumentations.push(instance);
        status.instrumentations.push(pkg.replace('@opentelemetry/instrumentation-', ''));
      } catch (err) {
        status.failed.push({ name: pkg, error: message(err) });
      }
    }
    registerInstrumentations({ instrumentations: instrumentations as never, tracerProvider: provider });
    // ES modules are patched through import-in-the-middle's loader hook; CommonJS needs nothing more.
    if (process.env.REDLINE_TRACE_ESM !== '0') try {
      const mod = req('node:module') as { register?: (spec: string, parent: string) => void };
      mod.register?.(pathToFileURL(req.resolve('@opentelemetry/instrumentation/hook.mjs')).href, pathToFileURL(__filename).href);
    } catch (err) {
      status.failed.push({ name: 'esm-hook', error: message(err) });
    }
    status.ok = true;
    // Flush what is buffered when the target winds down on its own.
    process.once('beforeExit', () => void provider.forceFlush().catch(() => undefined));
  } catch (err) {
    status.error = message(err);
  }
  report(status);
}

start();

/**
 * Redline's own HTTP instrumentation for the `--trace` preload, in place of
 * `@opentelemetry/instrumentation-http`: a server span per incoming request whose `traceparent`
 * carries the sampled flag, and a client span per outgoing `node:http`/`node:https` request made
 * inside a recorded span. Why not the OpenTelemetry one: it costs about half of a small pg-backed
 * service's capacity (BENCHMARKS.md, "Tracing"), and most of that on every request, sampled or
 * not (header parsing, attribute building, metrics, a context for each request). Here an unsampled
 * request costs one header read and one string comparison; only sampled ones build a span, and
 * only with the attributes Redline's analysis reads (method, path, host, status).
 *
 * Server side: `http.Server.prototype.emit` (and https's) is wrapped for the `request` event, so
 * the handler runs inside the span's context (pg, undici, express spans become its children).
 * Client side: `http.request`/`http.get` (and https's) are wrapped; only inside a recording span do
 * they start a client span and add its `traceparent` to a copy of the options (Node 20's
 * `http.client.request.start` channel comes after the headers are stored, too late for that).
 */
// The modules themselves, not an import-star copy: their functions are replaced in place.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import http = require('node:http');
// eslint-disable-next-line @typescript-eslint/no-require-imports
import https = require('node:https');
import { syncBuiltinESMExports } from 'node:module';
import type * as Api from '@opentelemetry/api';
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';

/** What {@link installHttpHook} needs: the API module the SDK registered with, and a tracer. */
export interface HttpHookOptions {
  api: typeof Api;
  tracer: Api.Tracer;
  /** Told when a sampled server request starts and when its response is done (the context manager's reference count). */
  sampled?: { retain(): void; release(): void };
}

const INSTALLED = Symbol.for('redline.trace.httpHook');

/** The 55-character W3C header `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`, sampled bit set; else undefined. */
export function sampledParent(header: unknown): { traceId: string; spanId: string } | undefined {
  if (typeof header !== 'string' || header.length !== 55 || header.charCodeAt(2) !== 45 /* - */) return undefined;
  // The sampled flag is bit 0 of the last hex digit.
  const last = header.charCodeAt(54);
  const digit = last <= 57 ? last - 48 : (last | 32) - 87;
  if ((digit & 1) === 0) return undefined;
  return { traceId: header.slice(3, 35), spanId: header.slice(36, 52) };
}

function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function wrapServer(proto: { emit: (...a: unknown[]) => boolean }, o: HttpHookOptions, scheme: string): void {
  const { api, tracer } = o;
  const original = proto.emit;
  proto.emit = function emit(this: unknown, ...args: unknown[]): boolean {
    const [event, req, res] = args;
    if (event !== 'request') return original.apply(this, args);
    const request = req as IncomingMessage;
    const parent = sampledParent(request.headers.traceparent);
    if (parent === undefined) return original.apply(this, args);
    const parentCtx = api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: parent.traceId, spanId: parent.spanId, traceFlags: api.TraceFlags.SAMPLED, isRemote: true });
    const method = request.method ?? 'GET';
    const span = tracer.startSpan(
      method,
      { kind: api.SpanKind.SERVER, attributes: { 'http.request.method': method, 'url.path': pathOf(request.url), 'url.scheme': scheme } },
      parentCtx,
    );
    const response = res as ServerResponse;
    let ended = false;
    o.sampled?.retain();
    const end = (): void => {
      if (ended) return;
      ended = true;
      o.sampled?.release();
      span.setAttribute('http.response.status_code', response.statusCode);
      if (!response.writableFinished) span.setStatus({ code: api.SpanStatusCode.ERROR, message: 'response not completed' });
      else if (response.statusCode >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
      span.end();
    };
    response.once('finish', end);
    response.once('close', end);
    return api.context.with(api.trace.setSpan(parentCtx, span), original, this, event, req, res);
  };
}

type RequestFn = (...args: unknown[]) => ClientRequest;

/** The request's arguments with a `traceparent` header added (a copy; the caller's objects are not changed), or null when the form is unknown. */
function withTraceparent(args: unknown[], value: string): unknown[] | null {
  const [a, b, c] = args;
  const add = (o: unknown): object | null => {
    const opts = (o ?? {}) as { headers?: unknown };
    if (Array.isArray(opts.headers)) return null;
    return { ...opts, headers: { ...(opts.headers as object | undefined), traceparent: value } };
  };
  if (typeof a === 'string' || a instanceof URL) {
    const opts = typeof b === 'function' || b === undefined ? add({}) : add(b);
    if (opts === null) return null;
    return typeof b === 'function' ? [a, opts, b] : [a, opts, c];
  }
  if (a !== null && typeof a === 'object') {
    const opts = add(a);
    return opts === null ? null : [opts, b];
  }
  return null;
}

function wrapRequest(o: HttpHookOptions, original: RequestFn): RequestFn {
  const { api, tracer } = o;
  return function request(this: unknown, ...args: unknown[]): ClientRequest {
    const parentSpan = api.trace.getSpan(api.context.active());
    if (parentSpan === undefined || !parentSpan.isRecording()) return original.apply(this, args);
    const span = tracer.startSpan('HTTP', { kind: api.SpanKind.CLIENT });
    const sc = span.spanContext();
    const injected = withTraceparent(args, `00-${sc.traceId}-${sc.spanId}-01`);
    let req: ClientRequest;
    try {
      req = original.apply(this, injected ?? args);
    } catch (err) {
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: (err as Error)?.message });
      span.end();
      throw err;
    }
    const method = req.method;
    const host = String(req.getHeader('host') ?? req.host);
    span.updateName(method);
    span.setAttributes({ 'http.request.method': method, 'url.full': `${req.protocol}//${host}${req.path}`, 'server.address': req.host });
    req.once('close', () => {
      // Set once the response's head arrived (not in @types/node; present since Node 0.x).
      const res = (req as ClientRequest & { res?: IncomingMessage | null }).res ?? undefined;
      const status = res?.statusCode;
      if (status !== undefined) span.setAttribute('http.response.status_code', status);
      if (status === undefined || status >= 500 || res?.complete === false) span.setStatus({ code: api.SpanStatusCode.ERROR });
      span.end();
    });
    return req;
  };
}

function wrapClient(mod: { request: RequestFn; get: RequestFn }, o: HttpHookOptions): void {
  const request = wrapRequest(o, mod.request);
  mod.request = request;
  mod.get = function get(this: unknown, ...args: unknown[]): ClientRequest {
    const req = request.apply(this, args);
    req.end();
    return req;
  };
}

/**
 * Wraps `http`/`https` servers and subscribes to outgoing requests, once per process. Returns the
 * names of what it hooked (`http`), for the preload's status.
 */
export function installHttpHook(o: HttpHookOptions): string[] {
  const g = globalThis as unknown as Record<symbol, unknown>;
  if (g[INSTALLED]) return ['http'];
  g[INSTALLED] = true;
  wrapServer(http.Server.prototype as never, o, 'http');
  wrapServer(https.Server.prototype as never, o, 'https');
  wrapClient(http as never, o);
  wrapClient(https as never, o);
  // ES modules that import { get } from 'node:http' see the wrapped functions too.
  syncBuiltinESMExports();
  return ['http'];
}

import { AsyncLocalStorage } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { parseDuration, parseSize } from '@redline/core';
import { CookieJar } from './cookie-jar.js';
import type { DataFeed } from './data-feed.js';
import { encodeBody, originOf, parseTargetUrl, serializeRequest, type OriginOptions } from './request.js';
import { VuGrpc, type GrpcApi } from './script-grpc.js';
import { VuWs, type WsApi, type WsCounters } from './script-ws.js';
import type { Connection, Exchange, ExchangeOptions, HttpVersion, Origin, Transport } from './transports/transport.js';

/** Options of one scripted request. */
export interface HttpRequestOptions {
  headers?: Record<string, string>;
  /** Metric name; defaults to `METHOD /path` (use it to group `/users/123`-style URLs). */
  name?: string;
  /** String, bytes, or a plain object sent as JSON. */
  body?: string | Buffer | Uint8Array | object | null;
  /**
   * Largest response body kept, in bytes or as `"10mb"` (default: the scenario's `maxBodySize`,
   * else 10 MiB). A larger body fails the request as `body_too_large` and closes its connection.
   */
  maxBodySize?: number | string;
  /** Read the response body off the wire but keep none of it (`text()` is `""`); no size limit applies. */
  discardBody?: boolean;
  /** HTTP version for this request (`h1` or `h2`); defaults to the scenario's `protocol`. */
  protocol?: HttpVersion;
  /**
   * Redirects to follow (default 10, as k6). 0 returns the 3xx response itself. A response that is
   * still a redirect after that many hops counts as a `redirect_loop` error.
   */
  redirects?: number;
}

/** Timings of a scripted request in milliseconds. */
export interface ResponseTimings {
  /** Connection setup, DNS and TLS included (0 when the connection was reused). */
  connectingMs: number;
  /** Name resolution of a new connection (0 when reused or for IP literals). */
  dnsMs: number;
  /** TLS handshake of a new connection (0 when reused or without TLS). */
  tlsHandshakingMs: number;
  /** From sending the request to the first response byte. */
  waitingMs: number;
  /** From the first to the last response byte. */
  receivingMs: number;
  /** The whole exchange, as recorded in `http.service_time`. */
  durationMs: number;
}

/** The response a scripted request resolves to. Network failures resolve too, with `status` 0. */
export interface HttpResponse {
  status: number;
  ok: boolean;
  /** Network error kind (`connect_refused`, `timeout`, `protocol`, `body_too_large`, ...) or null. */
  error: string | null;
  /** What went wrong, for people (e.g. `malformed chunk size "-5"`, `ECONNREFUSED`), or null. */
  errorDetail: string | null;
  /** Lower-cased header names; repeated headers joined with `, ` (except `set-cookie`). */
  headers: Record<string, string>;
  url: string;
  timings: ResponseTimings;
  /** Body bytes as received on the wire (encoded, when the server used a Content-Encoding). */
  readonly bodyBytes: number;
  /** Body bytes after decoding gzip, br or deflate (equal to `bodyBytes` without a Content-Encoding). */
  readonly decodedBytes: number;
  /** Why decoding the Content-Encoding failed (the body is then left as received), or null. */
  readonly decodeError: string | null;
  /** Body as UTF-8 text (decoded). */
  text(): string;
  /** Body parsed as JSON (throws on malformed JSON). */
  json<T = unknown>(): T;
}

/** The HTTP client of a VU. Relative URLs resolve against the scenario's `baseUrl`. */
export interface HttpClient {
  get(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  delete(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  post(url: string, body?: HttpRequestOptions['body'], options?: HttpRequestOptions): Promise<HttpResponse>;
  put(url: string, body?: HttpRequestOptions['body'], options?: HttpRequestOptions): Promise<HttpResponse>;
  patch(url: string, body?: HttpRequestOptions['body'], options?: HttpRequestOptions): Promise<HttpResponse>;
  request(method: string, url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  /** This VU's cookie jar. */
  readonly cookies: CookieJar;
}

/** What a scripted iteration receives. */
export interface IterationContext {
  http: HttpClient;
  /** gRPC calls (unary and server-streaming) with `@grpc/grpc-js`; see docs/protocols.md. */
  grpc: GrpcApi;
  /** WebSocket connections with `ws`; see docs/protocols.md. */
  ws: WsApi;
  /** Global VU id (unique across workers), starting at 1. */
  vu: number;
  /** This VU's iteration counter, starting at 0. */
  iteration: number;
  /** Scenario name. */
  scenario: string;
  /** Waits; accepts ms or a duration string (`"1s"`). */
  sleep(duration: number | string): Promise<void>;
  /** Runs named predicates against `value`, counts passes and failures; true when all pass. */
  check<T>(value: T, predicates: Record<string, (value: T) => boolean>): boolean;
  /** The next row of a data source declared under `data`. */
  feed(name: string): Record<string, unknown>;
  /** Per-VU scratch space that survives across iterations (tokens, ids). */
  vars: Record<string, unknown>;
  /** The script environment (k6's `__ENV`): the runner's environment overlaid with `-e KEY=VALUE`. Read-only. */
  env: Readonly<Record<string, string>>;
  /** What the scenario's `setup()` returned (this VU's own copy), or undefined without `setup`. */
  data: unknown;
  /**
   * Runs `fn` as the group `name` (k6's `group`): requests made inside it are tagged with the
   * group path (`::name`, nested `::outer::inner`), and the call's duration is recorded in
   * `group_duration`. Await it: a VU is in one group path at a time, so groups started
   * concurrently (Promise.all) tag requests with the one entered last.
   */
  group<T>(name: string, fn: () => T): Promise<Awaited<T>>;
}

/** What the engine provides to a scripted VU's HTTP client. */
export interface ScriptHost {
  /** The transport that speaks to `origin` (by its HTTP version). */
  transportFor(origin: Origin): Transport;
  baseUrl: string | undefined;
  defaultHeaders: Record<string, string>;
  insecure: boolean;
  /** TLS material and default HTTP version of the run's origins. */
  originOptions?: OriginOptions;
  /** Registers a connection for timeout sweeps. */
  track(conn: Connection): void;
  untrack(conn: Connection): void;
  /** Called when an exchange starts (for the in-flight count). */
  onExchangeStart(): void;
  /** Called for every finished exchange with the request name, exchange start time and group path (`''` outside a group). */
  onExchange(name: string, exchange: Exchange, startedAt: number, traceSeq?: number, group?: string): void;
  /** Called when a group call ends, with its path and duration in ms. */
  onGroup?(path: string, durationMs: number): void;
  /** Set in traced runs: a fresh `traceparent` value per request and its sequence number. */
  traceparent?: () => { value: string; seq: number };
  onCheck(name: string, ok: boolean): void;
  feeds: Map<string, DataFeed>;
  /** Resolves after `ms`, or early when the run is being torn down. */
  sleep(ms: number): Promise<void>;
  /** The scenario's response-body limit in bytes (undefined: the transport default, 10 MiB). */
  maxBodyBytes?: number;
  /** The scenario's `discardResponseBodies`. */
  discardResponseBodies?: boolean;
  /** Directory `ctx.grpc` resolves `.proto` paths against (the scenario file's; default the working directory). */
  baseDir?: string;
  /** Counts a gRPC status by name (for `summary.grpc`). */
  onGrpcStatus?(status: string): void;
  /** This thread's WebSocket counters (for `summary.ws`). */
  wsCounters?: WsCounters;
  /** A finished WebSocket handshake or answered message, sent `lagMs` after its scheduled time. */
  onLaggedExchange?(name: string, exchange: Exchange, startedAt: number, lagMs: number): void;
  /** Called for each response whose Content-Encoding was decoded: body bytes on the wire and decoded. */
  onDecoded?(wireBytes: number, decodedBytes: number): void;
}

const EMPTY_BODY = Buffer.alloc(0);
const SET_COOKIE = /\r\nset-cookie:/i;
const MAX_IDLE_PER_ORIGIN = 8;
const LOCATION = /\r\nlocation:/i;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Redirects followed by default, as in k6. */
const DEFAULT_REDIRECTS = 10;
const CONTENT_ENCODING = /\r\ncontent-encoding:/i;
/** Sent by scripted requests that set no Accept-Encoding of their own. */
export const DEFAULT_ACCEPT_ENCODING = 'gzip, br, deflate';

/**
 * Decodes a body by its Content-Encoding list (applied in order, so decoded last-first); null
 * for identity or an unknown coding. Throws zlib's error for a corrupt body.
 */
function decodeBody(body: Buffer, encoding: string): Buffer | null {
  const codings = encoding.toLowerCase().split(',').map((c) => c.trim()).filter((c) => c && c !== 'identity');
  if (codings.length === 0) return null;
  let out = body;
  for (const coding of codings.reverse()) {
    if (coding === 'gzip' || coding === 'x-gzip') out = gunzipSync(out);
    else if (coding === 'br') out = brotliDecompressSync(out);
    else if (coding === 'deflate') out = inflateSync(out);
    else return null;
  }
  return out;
}

function parseHeaders(raw: string | null): { headers: Record<string, string>; setCookie: string[] } {
  const headers: Record<string, string> = {};
  const setCookie: string[] = [];
  if (!raw) return { headers, setCookie };
  const lines = raw.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'set-cookie') setCookie.push(value);
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  return { headers, setCookie };
}

/** A request without per-call headers or body, serialised once per thread and reused by every VU. */
interface PreparedScriptRequest {
  method: string;
  baseUrl: string | undefined;
  defaultHeaders: Record<string, string>;
  insecure: boolean;
  url: URL;
  origin: Origin;
  /** Connection-pool key of the origin. */
  key: string;
  payload: Buffer;
  name: string;
}

/** Inserts one header line after the request line's headers (before the blank line). */
function withHeader(payload: Buffer, name: string, value: string): Buffer {
  const end = payload.indexOf('\r\n\r\n', 0, 'latin1');
  if (end < 0) return payload;
  return Buffer.concat([payload.subarray(0, end + 2), Buffer.from(`${name}: ${value}\r\n`, 'latin1'), payload.subarray(end + 2)]);
}

/** Prepared requests by raw URL; bounded, cleared when full (scripts with unbounded URL sets just miss). */
const preparedRequests = new Map<string, PreparedScriptRequest>();
const PREPARED_MAX = 1024;

function originKey(origin: Origin): string {
  return `${origin.protocol}//${origin.authority}|${origin.version ?? 'h1'}`;
}

/** A scripted response; headers are parsed on first access (most scripts never read them). */
class ScriptResponse implements HttpResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly error: string | null;
  readonly errorDetail: string | null;
  readonly url: string;
  readonly timings: ResponseTimings;
  readonly #rawHeaders: string | null;
  #parsed: ReturnType<typeof parseHeaders> | null;
  #body: Buffer;
  /** Body bytes as received (before any Content-Encoding was decoded). */
  readonly bodyBytes: number;
  /** Why decoding the Content-Encoding failed (the body is then left as received), or null. */
  decodeError: string | null = null;
  /** True when a Content-Encoding was decoded. */
  decoded = false;

  constructor(ex: Exchange, url: string, startedAt: number, parsed: ReturnType<typeof parseHeaders> | null) {
    this.status = ex.status;
    this.ok = ex.error === null && ex.status >= 200 && ex.status < 400;
    this.error = ex.error;
    this.errorDetail = ex.errorDetail;
    this.url = url;
    this.timings = {
      connectingMs: ex.connectMs,
      dnsMs: ex.phases?.dnsMs ?? 0,
      tlsHandshakingMs: ex.phases?.tlsMs ?? 0,
      waitingMs: ex.firstByteAt ? ex.firstByteAt - ex.sentAt : 0,
      receivingMs: ex.firstByteAt ? ex.endedAt - ex.firstByteAt : 0,
      durationMs: ex.endedAt - startedAt,
    };
    this.#rawHeaders = ex.rawHeaders;
    this.#parsed = parsed;
    this.#body = ex.body ?? EMPTY_BODY;
    this.bodyBytes = this.#body.length;
    // Content-Encoding is decoded at once (as k6 does), so the decoded size is counted.
    const raw = ex.rawHeaders;
    if (raw !== null && this.#body.length > 0 && CONTENT_ENCODING.test(raw)) {
      this.#parsed ??= parseHeaders(raw);
      try {
        const decoded = decodeBody(this.#body, this.#parsed.headers['content-encoding'] ?? '');
        if (decoded) {
          this.#body = decoded;
          this.decoded = true;
        }
      } catch (err) {
        // A corrupt encoded body stays as received; the script sees it (and decodedBytes === bodyBytes).
        this.decodeError = (err as Error).message;
      }
    }
  }

  get headers(): Record<string, string> {
    return (this.#parsed ??= parseHeaders(this.#rawHeaders)).headers;
  }

  /** Body bytes after Content-Encoding (gzip, br, deflate) was decoded. */
  get decodedBytes(): number {
    return this.#body.length;
  }

  text(): string {
    return this.#body.toString('utf8');
  }

  json<T = unknown>(): T {
    return JSON.parse(this.#body.toString('utf8')) as T;
  }
}

/**
 * The group path of the code running now (`''` outside any group), carried along the async context,
 * so that concurrent groups of one VU (`Promise.all([group('a', …), group('b', …)])`) each tag their
 * own requests. Made on the first `group()` call: on Node 20 an AsyncLocalStorage in use makes every
 * promise of the thread carry the context, a cost scripts without groups never pay.
 */
let groupStore: AsyncLocalStorage<string> | null = null;

/** The group path requests made now are tagged with. */
export function currentGroupPath(): string {
  return groupStore?.getStore() ?? '';
}

/**
 * A VU's HTTP client: keep-alive connections per origin (one per concurrent request), a cookie
 * jar, and responses with headers, body and timings.
 */
export class VuHttpClient implements HttpClient {
  #cookies: CookieJar | null = null;
  readonly #host: ScriptHost;
  readonly #idle = new Map<string, Connection[]>();
  readonly #all = new Set<Connection>();
  /** Set by close(): the run is over, so requests made afterwards open nothing. */
  #closed = false;

  constructor(host: ScriptHost) {
    this.#host = host;
  }

  /** This VU's cookie jar, made on first use (a VU that only holds a WebSocket never needs one). */
  get cookies(): CookieJar {
    return (this.#cookies ??= new CookieJar());
  }

  get(url: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('GET', url, options);
  }
  delete(url: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('DELETE', url, options);
  }
  post(url: string, body?: HttpRequestOptions['body'], options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('POST', url, { ...options, body });
  }
  put(url: string, body?: HttpRequestOptions['body'], options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('PUT', url, { ...options, body });
  }
  patch(url: string, body?: HttpRequestOptions['body'], options?: HttpRequestOptions): Promise<HttpResponse> {
    return this.request('PATCH', url, { ...options, body });
  }

  request(method: string, rawUrl: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    const redirects = options.redirects ?? DEFAULT_REDIRECTS;
    if (!(Number.isInteger(redirects) && redirects >= 0)) return Promise.reject(new RangeError(`redirects must be a non-negative integer, got ${String(options.redirects)}`));
    return this.#trySend(method.toUpperCase(), rawUrl, options, redirects, redirects > 0);
  }

  /** #send, with a URL or header that cannot be sent failing this request (and so the iteration) with its own message. */
  #trySend(m: string, rawUrl: string, options: HttpRequestOptions, redirectsLeft: number, follow: boolean): Promise<HttpResponse> {
    try {
      return this.#send(m, rawUrl, options, redirectsLeft, follow);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** One hop: sends, records, and follows a redirect while `redirectsLeft` allows. */
  #send(m: string, rawUrl: string, options: HttpRequestOptions, redirectsLeft: number, follow: boolean): Promise<HttpResponse> {
    const host = this.#host;
    // Requests without per-call headers or body are parsed and serialised once per thread.
    let entry = options.headers === undefined && (options.body === undefined || options.body === null) ? preparedRequests.get(rawUrl) : undefined;
    const version = options.protocol ?? host.originOptions?.version ?? 'h1';
    const tls = host.originOptions?.tls ?? null;
    if (
      entry &&
      (entry.method !== m || entry.baseUrl !== host.baseUrl || entry.defaultHeaders !== host.defaultHeaders || entry.insecure !== host.insecure || entry.origin.version !== version || entry.origin.tls !== tls)
    )
      entry = undefined;
    const url = entry ? entry.url : parseTargetUrl(rawUrl, host.baseUrl);
    const cookie = this.#cookies ? this.#cookies.header(url) : null;
    let payload: Buffer;
    let origin: Origin;
    let key: string;
    let defaultName: string;
    if (entry && cookie === null) {
      payload = entry.payload;
      origin = entry.origin;
      key = entry.key;
      defaultName = entry.name;
    } else {
      const headers: Record<string, string> = { ...host.defaultHeaders, ...(options.headers ?? {}) };
      if (cookie && !Object.keys(headers).some((h) => h.toLowerCase() === 'cookie')) headers.cookie = cookie;
      // As browsers and k6 do: ask for compression by default (the response is decoded below).
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'accept-encoding')) headers['accept-encoding'] = DEFAULT_ACCEPT_ENCODING;
      const body = encodeBody(options.body, headers);
      payload = serializeRequest(m, url, headers, body);
      origin = originOf(url, { insecure: host.insecure, tls, version, proxy: host.originOptions?.proxy ?? null });
      key = originKey(origin);
      defaultName = `${m} ${url.pathname}`;
      if (!entry && cookie === null && options.headers === undefined && body === null) {
        if (preparedRequests.size >= PREPARED_MAX) preparedRequests.clear();
        preparedRequests.set(rawUrl, { method: m, baseUrl: host.baseUrl, defaultHeaders: host.defaultHeaders, insecure: host.insecure, url, origin, key, payload, name: defaultName });
      }
    }
    const name = options.name ?? defaultName;
    const exchangeOptions = this.#exchangeOptions(options);
    // After the run ended (an iteration that outlived the graceful stop): nothing is sent or counted.
    if (this.#closed) return new Promise(() => undefined);
    const trace = host.traceparent?.();
    if (trace) payload = withHeader(payload, 'traceparent', trace.value);
    const conn = this.#acquire(origin, key);
    const group = currentGroupPath();
    host.onExchangeStart();
    return new Promise((resolve) => {
      conn.exchange(payload, m, (ex) => {
        const startedAt = conn.startedAt;
        this.#release(key, conn, ex);
        // Set-Cookie and Location are rare: test for them before parsing every header.
        const rawHeaders = ex.rawHeaders;
        let parsed: ReturnType<typeof parseHeaders> | null = null;
        if (rawHeaders !== null && SET_COOKIE.test(rawHeaders)) {
          parsed = parseHeaders(rawHeaders);
          if (parsed.setCookie.length) this.cookies.store(url, parsed.setCookie);
        }
        let next: string | null = null;
        if (follow && REDIRECT_STATUSES.has(ex.status) && rawHeaders !== null && LOCATION.test(rawHeaders)) {
          parsed ??= parseHeaders(rawHeaders);
          const location = parsed.headers.location;
          if (location) {
            if (redirectsLeft > 0) next = new URL(location, url).href;
            else {
              ex.error = 'redirect_loop';
              ex.errorDetail = `still redirected after ${options.redirects ?? DEFAULT_REDIRECTS} redirects (to ${location})`;
            }
          }
        }
        host.onExchange(name, ex, startedAt, trace?.seq, group);
        if (next === null) {
          const response = new ScriptResponse(ex, url.href, startedAt, parsed);
          if (response.decoded) host.onDecoded?.(response.bodyBytes, response.decodedBytes);
          resolve(response);
          return;
        }
        // 303, and 301/302 after a POST, turn into a GET without a body (what browsers and k6 do).
        const toGet = ex.status === 303 || ((ex.status === 301 || ex.status === 302) && m === 'POST');
        const { name: _name, body: _body, ...rest } = options;
        resolve(this.#trySend(toGet ? 'GET' : m, next, toGet ? rest : { ...rest, body: options.body ?? null }, redirectsLeft - 1, true));
      }, exchangeOptions);
    });
  }

  #exchangeOptions(options: HttpRequestOptions): ExchangeOptions | undefined {
    const host = this.#host;
    const discardBody = options.discardBody ?? host.discardResponseBodies ?? false;
    const maxBodyBytes = options.maxBodySize !== undefined ? parseSize(options.maxBodySize, 'maxBodySize') : host.maxBodyBytes;
    if (!discardBody && maxBodyBytes === undefined) return undefined;
    return { discardBody, ...(maxBodyBytes !== undefined ? { maxBodyBytes } : {}) };
  }

  #acquire(origin: Origin, key: string): Connection {
    const conn = this.#idle.get(key)?.pop();
    if (conn) return conn;
    const fresh = this.#host.transportFor(origin).connect(origin, { keepResponse: true });
    this.#all.add(fresh);
    this.#host.track(fresh);
    return fresh;
  }

  #release(key: string, conn: Connection, ex: Exchange): void {
    let idle = this.#idle.get(key);
    if (!idle) {
      idle = [];
      this.#idle.set(key, idle);
    }
    if (ex.error === null && idle.length < MAX_IDLE_PER_ORIGIN) idle.push(conn);
    else this.#drop(conn);
  }

  #drop(conn: Connection): void {
    conn.close();
    this.#all.delete(conn);
    this.#host.untrack(conn);
  }

  /** Closes every connection of this VU. */
  close(): void {
    this.#closed = true;
    for (const conn of this.#all) this.#drop(conn);
    this.#idle.clear();
  }
}

/** Builds the per-VU iteration context. `iteration` is advanced by the engine. */
export function createIterationContext(
  host: ScriptHost,
  vu: number,
  scenario: string,
  env: Readonly<Record<string, string>> = {},
  data: unknown = undefined,
): { ctx: IterationContext; http: VuHttpClient; close(): void } {
  const http = new VuHttpClient(host);
  let vuClosed = false;
  const tls = host.originOptions?.tls ?? null;
  const grpc = new VuGrpc(() => ({
    baseDir: host.baseDir ?? process.cwd(),
    insecure: host.insecure,
    tls,
    track: (c) => host.track(c),
    untrack: (c) => host.untrack(c),
    onExchangeStart: () => host.onExchangeStart(),
    onExchange: (name, ex, startedAt) => host.onExchange(name, ex, startedAt),
    onGrpcStatus: (s) => host.onGrpcStatus?.(s),
    closed: () => vuClosed,
  }));
  const ws = new VuWs({
    baseUrl: host.baseUrl,
    defaultHeaders: host.defaultHeaders,
    insecure: host.insecure,
    tls,
    onExchangeStart: () => host.onExchangeStart(),
    onExchange: (name, ex, startedAt, lagMs) => (host.onLaggedExchange ? host.onLaggedExchange(name, ex, startedAt, lagMs) : host.onExchange(name, ex, startedAt)),
    counters: host.wsCounters ?? { connections: 0, failedHandshakes: 0, messagesSent: 0, messagesReceived: 0, unanswered: 0, closeCodes: {} },
    sleep: (ms) => host.sleep(ms),
  });
  const ctx: IterationContext = {
    http,
    grpc,
    ws,
    vu,
    iteration: 0,
    scenario,
    sleep: (d) => host.sleep(typeof d === 'number' ? d : parseDuration(d)),
    check: (value, predicates) => {
      let all = true;
      for (const name in predicates) {
        if (!Object.hasOwn(predicates, name)) continue;
        const pred = predicates[name]!;
        let ok = false;
        try {
          ok = Boolean(pred(value));
        } catch {
          ok = false;
        }
        host.onCheck(name, ok);
        if (!ok) all = false;
      }
      return all;
    },
    feed: (name) => {
      const feed = host.feeds.get(name);
      if (!feed) throw new Error(`no data source named "${name}" (declare it under "data" in the scenario)`);
      return feed.next();
    },
    vars: {},
    env,
    data,
    group: async <T,>(name: string, fn: () => T): Promise<Awaited<T>> => {
      if (typeof name !== 'string' || name === '' || name.includes('::')) throw new TypeError(`group(): the name must be a non-empty string without "::", got ${JSON.stringify(name)}`);
      const store = (groupStore ??= new AsyncLocalStorage<string>());
      const path = `${store.getStore() ?? ''}::${name}`;
      const t0 = performance.now();
      try {
        // The path holds for fn and everything it awaits, and only there: a group started meanwhile
        // by the same VU (Promise.all) has its own.
        return await store.run(path, fn);
      } finally {
        host.onGroup?.(path, performance.now() - t0);
      }
    },
  };
  const close = (): void => {
    vuClosed = true;
    http.close();
    ws.close();
  };
  return { ctx, http, close };
}

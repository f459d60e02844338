/**
 * The OTLP/HTTP trace receiver the runner opens on loopback for one run. It accepts
 * `POST /v1/traces` with protobuf (`application/x-protobuf`) or JSON (`application/json`) bodies,
 * optionally gzip-compressed, and keeps memory bounded: spans wait (at most `maxPendingSpans`,
 * at most `pendingTtlMs`) for the generator's verdict on their request; only the kept requests'
 * spans stay, and the kept set itself is capped per request name (the slowest tail wins a place,
 * the baseline is a reservoir sample). Garbage, oversized and foreign payloads are refused and
 * counted; nothing a sender does stops the run.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzip } from 'node:zlib';
import { ErrorCodes, RedlineError } from '@redline/core';
import type { ClientRecord } from './breakdown.js';
import { spansFromOtlpProto } from './otlp-proto.js';
import { OtlpDecodeError, spansFromOtlpJson, type Span } from './span.js';

/** A kept request as the generator reported it. */
export interface KeptRecord extends ClientRecord {
  reason: 'tail' | 'baseline';
}

/** Options of {@link startReceiver}. */
export interface ReceiverOptions {
  /** 8 hex digits that start this run's trace ids; spans of other traces are refused. Null accepts any trace. */
  runTag: string | null;
  /** Loopback address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 0: any free port; 4318 is OTLP/HTTP's usual one). */
  port?: number;
  /** Largest accepted body, compressed or not, in bytes (default 8 MiB). */
  maxBodyBytes?: number;
  /** Spans kept while their request's verdict is pending (default 50,000). */
  maxPendingSpans?: number;
  /** How long pending spans wait for a verdict, ms (default 10,000). */
  pendingTtlMs?: number;
  /** Tail requests kept per request name (default 300). */
  maxTailPerName?: number;
  /** Baseline requests kept per request name (default 100). */
  maxBaselinePerName?: number;
  /** Spans kept per trace (default 2,000); more are counted as dropped. */
  maxSpansPerTrace?: number;
  /** Clock in ms (injectable for tests). */
  now?: () => number;
}

/** What the receiver saw, for the run's notes and result. */
export interface ReceiverStats {
  payloads: number;
  spansReceived: number;
  /** Of them, SERVER spans of this run's traces (about one per sampled request the target served). */
  serverSpans: number;
  /** Spans of kept requests, now. */
  spansKept: number;
  tracesKept: number;
  rejected: {
    /** Bodies that were not OTLP (bad JSON, bad protobuf, bad gzip). */
    garbage: number;
    /** Bodies over `maxBodyBytes`. */
    oversized: number;
    /** Spans whose trace id is not this run's. */
    unknownTraceSpans: number;
    /** Requests with a method, path or content type the receiver does not serve. */
    unsupported: number;
  };
  /** Spans dropped: their request was not kept, or pending waited too long, or a trace was too large. */
  spansDropped: number;
  /** Epoch ms of the last accepted payload (null before the first). */
  lastPayloadAt: number | null;
}

const DEFAULTS = { maxBodyBytes: 8 << 20, maxPendingSpans: 50_000, pendingTtlMs: 10_000, maxTailPerName: 300, maxBaselinePerName: 100, maxSpansPerTrace: 2000 };

function positiveInt(v: unknown, name: string, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `startReceiver: ${name} must be an integer from 1 to ${max}, got ${String(v)}`);
  return v;
}

interface Pending {
  spans: Span[];
  at: number;
}

interface NameStore {
  tail: KeptRecord[];
  baseline: KeptRecord[];
  baselineSeen: number;
}

/** A running receiver. */
export class TraceReceiver {
  readonly #server: Server;
  readonly #o: Required<Omit<ReceiverOptions, 'runTag' | 'host' | 'port' | 'now'>>;
  readonly #runTag: string | null;
  readonly #now: () => number;
  readonly #pending = new Map<string, Pending>();
  #pendingSpans = 0;
  readonly #kept = new Map<string, { record: KeptRecord; spans: Span[] }>();
  readonly #names = new Map<string, NameStore>();
  /** Traces evicted from the kept set or refused a place: their late spans are dropped at once. */
  readonly #refused = new Set<string>();
  readonly #stats: ReceiverStats = {
    payloads: 0,
    spansReceived: 0,
    serverSpans: 0,
    spansKept: 0,
    tracesKept: 0,
    rejected: { garbage: 0, oversized: 0, unknownTraceSpans: 0, unsupported: 0 },
    spansDropped: 0,
    lastPayloadAt: null,
  };
  readonly #sweep: NodeJS.Timeout;
  /** `http://host:port/v1/traces`. */
  url = '';

  constructor(opts: ReceiverOptions) {
    this.#runTag = opts.runTag;
    this.#now = opts.now ?? Date.now;
    this.#o = {
      maxBodyBytes: positiveInt(opts.maxBodyBytes ?? DEFAULTS.maxBodyBytes, 'maxBodyBytes', 1 << 30),
      maxPendingSpans: positiveInt(opts.maxPendingSpans ?? DEFAULTS.maxPendingSpans, 'maxPendingSpans', 10_000_000),
      pendingTtlMs: positiveInt(opts.pendingTtlMs ?? DEFAULTS.pendingTtlMs, 'pendingTtlMs', 3_600_000),
      maxTailPerName: positiveInt(opts.maxTailPerName ?? DEFAULTS.maxTailPerName, 'maxTailPerName', 1_000_000),
      maxBaselinePerName: positiveInt(opts.maxBaselinePerName ?? DEFAULTS.maxBaselinePerName, 'maxBaselinePerName', 1_000_000),
      maxSpansPerTrace: positiveInt(opts.maxSpansPerTrace ?? DEFAULTS.maxSpansPerTrace, 'maxSpansPerTrace', 1_000_000),
    };
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.keepAliveTimeout = 5000;
    this.#sweep = setInterval(() => this.#expire(), 1000);
    this.#sweep.unref();
  }

  /** @internal */
  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => reject(new RedlineError(ErrorCodes.INVALID_ARGUMENT, `cannot open the trace receiver on ${host}:${port}: ${err.code ?? err.message}`, { cause: err }));
      this.#server.once('error', onError);
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError);
        const a = this.#server.address() as AddressInfo;
        const h = a.family === 'IPv6' ? `[${a.address}]` : a.address;
        this.url = `http://${h}:${a.port}/v1/traces`;
        resolve();
      });
    });
  }

  /** The OTLP base endpoint (for OTEL_EXPORTER_OTLP_ENDPOINT, without `/v1/traces`). */
  get endpoint(): string {
    return this.url.replace(/\/v1\/traces$/, '');
  }

  /** A copy of the counters. */
  stats(): ReceiverStats {
    return { ...this.#stats, rejected: { ...this.#stats.rejected }, spansKept: this.#keptSpanCount(), tracesKept: this.#kept.size };
  }

  #keptSpanCount(): number {
    let n = 0;
    for (const k of this.#kept.values()) n += k.spans.length;
    return n;
  }

  /** Takes the generator's verdicts: these requests' traces are kept (within the per-name caps). */
  addRecords(records: Iterable<KeptRecord>): void {
    for (const r of records) {
      if (this.#kept.has(r.traceId)) continue;
      if (!this.#admit(r)) {
        this.#refused.add(r.traceId);
        this.#drop(r.traceId);
        continue;
      }
      const p = this.#pending.get(r.traceId);
      const spans = p ? p.spans : [];
      if (p) {
        this.#pending.delete(r.traceId);
        this.#pendingSpans -= p.spans.length;
      }
      this.#kept.set(r.traceId, { record: r, spans });
    }
    if (this.#refused.size > 100_000) this.#refused.clear();
  }

  /** Finds the request a place among its name's kept ones, evicting a less useful one if needed. */
  #admit(r: KeptRecord): boolean {
    let st = this.#names.get(r.name);
    if (!st) this.#names.set(r.name, (st = { tail: [], baseline: [], baselineSeen: 0 }));
    if (r.reason === 'tail') {
      if (st.tail.length < this.#o.maxTailPerName) {
        st.tail.push(r);
        return true;
      }
      let min = 0;
      for (let i = 1; i < st.tail.length; i++) if (st.tail[i]!.latencyMs < st.tail[min]!.latencyMs) min = i;
      if (st.tail[min]!.latencyMs >= r.latencyMs) return false;
      this.#evict(st.tail[min]!.traceId);
      st.tail[min] = r;
      return true;
    }
    st.baselineSeen++;
    if (st.baseline.length < this.#o.maxBaselinePerName) {
      st.baseline.push(r);
      return true;
    }
    // Reservoir sampling keeps the baseline a uniform sample of the whole run.
    const j = Math.floor(Math.random() * st.baselineSeen);
    if (j >= st.baseline.length) return false;
    this.#evict(st.baseline[j]!.traceId);
    st.baseline[j] = r;
    return true;
  }

  #evict(traceId: string): void {
    const k = this.#kept.get(traceId);
    if (k) this.#stats.spansDropped += k.spans.length;
    this.#kept.delete(traceId);
    this.#refused.add(traceId);
  }

  #drop(traceId: string): void {
    const p = this.#pending.get(traceId);
    if (!p) return;
    this.#pending.delete(traceId);
    this.#pendingSpans -= p.spans.length;
    this.#stats.spansDropped += p.spans.length;
  }

  /** Adds decoded spans (what a POST does after decoding); returns how many were refused as foreign. */
  ingest(spans: readonly Span[]): number {
    let foreign = 0;
    const now = this.#now();
    for (const s of spans) {
      this.#stats.spansReceived++;
      if (this.#runTag !== null && !s.traceId.startsWith(this.#runTag)) {
        foreign++;
        continue;
      }
      if (s.kind === 2) this.#stats.serverSpans++;
      const k = this.#kept.get(s.traceId);
      if (k) {
        if (k.spans.length < this.#o.maxSpansPerTrace) k.spans.push(s);
        else this.#stats.spansDropped++;
        continue;
      }
      if (this.#refused.has(s.traceId)) {
        this.#stats.spansDropped++;
        continue;
      }
      let p = this.#pending.get(s.traceId);
      if (!p) this.#pending.set(s.traceId, (p = { spans: [], at: now }));
      if (p.spans.length >= this.#o.maxSpansPerTrace) {
        this.#stats.spansDropped++;
        continue;
      }
      p.spans.push(s);
      this.#pendingSpans++;
    }
    this.#stats.rejected.unknownTraceSpans += foreign;
    this.#expire();
    return foreign;
  }

  /** Drops pending spans past their TTL, then the oldest while over the cap (Map order is arrival order). */
  #expire(): void {
    const cutoff = this.#now() - this.#o.pendingTtlMs;
    for (const [id, p] of this.#pending) {
      if (p.at >= cutoff && this.#pendingSpans <= this.#o.maxPendingSpans) break;
      this.#pending.delete(id);
      this.#pendingSpans -= p.spans.length;
      this.#stats.spansDropped += p.spans.length;
    }
  }

  /** The kept requests and their spans (records without spans included: they count as untraced). */
  kept(): { records: KeptRecord[]; spans: Span[] } {
    const records: KeptRecord[] = [];
    const spans: Span[] = [];
    for (const k of this.#kept.values()) {
      records.push(k.record);
      for (const s of k.spans) spans.push(s);
    }
    return { records, spans };
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const proto = type === 'application/x-protobuf' || type === 'application/protobuf';
    if (req.method !== 'POST' || path !== '/v1/traces' || (!proto && type !== 'application/json')) {
      this.#stats.rejected.unsupported++;
      req.resume();
      const status = req.method !== 'POST' ? 405 : path !== '/v1/traces' ? 404 : 415;
      this.#reply(res, status, false, { error: 'this receiver accepts POST /v1/traces with application/x-protobuf or application/json' });
      return;
    }
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > this.#o.maxBodyBytes) return this.#oversized(req, res, proto);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      size += c.length;
      if (size > this.#o.maxBodyBytes) {
        over = true;
        this.#oversized(req, res, proto);
        return;
      }
      chunks.push(c);
    });
    req.on('error', () => undefined);
    req.on('end', () => {
      if (over) return;
      const body = Buffer.concat(chunks);
      const gz = (req.headers['content-encoding'] ?? '').toLowerCase() === 'gzip';
      if (!gz) return this.#accept(body, proto, res);
      gunzip(body, { maxOutputLength: this.#o.maxBodyBytes }, (err, out) => {
        if (err) {
          if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') return this.#oversized(null, res, proto);
          this.#stats.rejected.garbage++;
          return this.#reply(res, 400, proto, { error: `bad gzip body: ${err.message}` });
        }
        this.#accept(out, proto, res);
      });
    });
  }

  #oversized(req: IncomingMessage | null, res: ServerResponse, proto: boolean): void {
    this.#stats.rejected.oversized++;
    this.#reply(res, 413, proto, { error: `body larger than ${this.#o.maxBodyBytes} bytes` }, true);
    req?.resume();
  }

  #accept(body: Buffer, proto: boolean, res: ServerResponse): void {
    let spans: Span[];
    try {
      spans = proto ? spansFromOtlpProto(body) : spansFromOtlpJson(JSON.parse(body.toString('utf8')));
    } catch (err) {
      this.#stats.rejected.garbage++;
      const message = err instanceof OtlpDecodeError || err instanceof SyntaxError ? err.message : String(err);
      return this.#reply(res, 400, proto, { error: `not an OTLP trace export: ${message}` });
    }
    this.#stats.payloads++;
    this.#stats.lastPayloadAt = this.#now();
    const foreign = this.ingest(spans);
    if (foreign > 0) {
      return this.#reply(res, 200, proto, { partialSuccess: { rejectedSpans: String(foreign), errorMessage: `${foreign} span(s) of traces this run did not send` } });
    }
    this.#reply(res, 200, proto, {});
  }

  #reply(res: ServerResponse, status: number, proto: boolean, json: object, close = false): void {
    if (res.headersSent) return;
    // A protobuf sender gets an empty (valid) ExportTraceServiceResponse or a plain-text error.
    const ok = status === 200;
    const body = proto ? (ok ? Buffer.alloc(0) : Buffer.from(JSON.stringify(json))) : Buffer.from(JSON.stringify(json));
    res.writeHead(status, { 'content-type': proto && ok ? 'application/x-protobuf' : 'application/json', 'content-length': body.length, ...(close ? { connection: 'close' } : {}) });
    res.end(body);
  }

  /** Stops listening and forgets pending spans; kept data stays readable. */
  close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#stats.spansDropped += this.#pendingSpans;
    this.#pending.clear();
    this.#pendingSpans = 0;
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

/** Opens a receiver on loopback. Throws REDLINE_ERR_INVALID_ARGUMENT for bad options or a port in use. */
export async function startReceiver(opts: ReceiverOptions): Promise<TraceReceiver> {
  if (opts.runTag !== null && !/^[0-9a-f]{8}$/.test(opts.runTag)) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `startReceiver: runTag must be 8 lower-case hex digits or null, got ${JSON.stringify(opts.runTag)}`);
  const host = opts.host ?? '127.0.0.1';
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `startReceiver: host must be a loopback address, got "${host}"`);
  const r = new TraceReceiver(opts);
  await r.listen(host, opts.port ?? 0);
  return r;
}

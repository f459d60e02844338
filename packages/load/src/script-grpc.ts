import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import type * as Grpc from '@grpc/grpc-js';
import { ErrorCodes, RedlineError, parseDuration } from '@redline/core';
import { engineNow } from './engine-clock.js';
import { findMethod, loadProto, type GrpcMethod, type LoadedProto } from './transports/grpc-proto.js';
import { grpcStatusName } from './transports/grpc-status.js';
import type { TlsMaterial } from './transports/tls.js';
import type { Connection, Exchange, NetworkErrorKind } from './transports/transport.js';

/** Where and what a scripted gRPC client calls. */
export interface GrpcClientOptions {
  /**
   * `host:port` (plaintext HTTP/2) or `https://host:port` / `grpcs://host:port` (TLS, with the
   * run's `--ca`, `--cert`/`--key` and `--insecure`).
   */
  target: string;
  /** The `.proto` file, relative to the scenario file. */
  proto: string;
  /** More directories for the file's imports (relative to the scenario file). */
  includeDirs?: string[];
}

/** Options of one gRPC call. */
export interface GrpcCallOptions {
  /** Request metadata (gRPC's headers); `-bin` keys take Buffers. */
  metadata?: Record<string, string | Buffer | Array<string | Buffer>>;
  /** Deadline from the start of the call: ms or `"500ms"`. Without one, the run's request timeout applies. */
  deadline?: number | string;
  /** Metric name; default `pkg.Service/Method`. */
  name?: string;
}

/** Options of a server-streaming call. */
export interface GrpcStreamOptions<T> extends GrpcCallOptions {
  /** Called for each response message as it arrives (the messages are also kept unless `keepMessages` is false). */
  onMessage?: (message: T) => void;
  /** Keep every message in `messages` (default true). */
  keepMessages?: boolean;
}

/** The outcome of a gRPC call. Failures resolve too: check `ok`, `code` and `error`. */
export interface GrpcResponse<T = unknown> {
  /** gRPC status code (0 OK); -1 when no status arrived (see `error`). */
  code: number;
  /** Status name: `OK`, `NOT_FOUND`, `DEADLINE_EXCEEDED`, ... (`NONE` when no status arrived). */
  status: string;
  ok: boolean;
  /** The status message the server (or the client library) gave. */
  details: string;
  /** The response of a unary call (null on failure or for a stream). */
  message: T | null;
  /** The messages of a server stream, in order. */
  messages: T[];
  /** Response metadata and trailers (lower-cased keys, repeated values joined with `, `). */
  headers: Record<string, string>;
  trailers: Record<string, string>;
  /** Network error kind when the call never reached the server (`connect_refused`, `tls`, `dns`, `timeout`, ...), else null. */
  error: string | null;
  durationMs: number;
}

/** A client of one target and `.proto` file. */
export interface GrpcClient {
  /** A unary call: `method` is `pkg.Service/Method`. */
  invoke<T = unknown>(method: string, message: object, options?: GrpcCallOptions): Promise<GrpcResponse<T>>;
  /** A server-streaming call; resolves when the stream ends, with every message and the final status. */
  serverStream<T = unknown>(method: string, message: object, options?: GrpcStreamOptions<T>): Promise<GrpcResponse<T>>;
}

/** `ctx.grpc`. */
export interface GrpcApi {
  /** The client of `options.target` and `options.proto` (made once per thread and shared by its VUs). */
  client(options: GrpcClientOptions): GrpcClient;
}

/** What the gRPC API needs from the engine. */
export interface GrpcHost {
  /** Directory the scenario's `.proto` paths are relative to. */
  baseDir: string;
  insecure: boolean;
  tls: TlsMaterial | null;
  track(conn: Connection): void;
  untrack(conn: Connection): void;
  onExchangeStart(): void;
  onExchange(name: string, exchange: Exchange, startedAt: number): void;
  /** Counts a gRPC status by name for `summary.grpc`. */
  onGrpcStatus(status: string): void;
  /** True once the VU was closed (the run ended): nothing more is sent. */
  closed(): boolean;
}

const require = createRequire(import.meta.url);
let grpcModule: typeof Grpc | null = null;
function grpc(): typeof Grpc {
  return (grpcModule ??= require('@grpc/grpc-js') as typeof Grpc);
}

interface SharedClient {
  client: Grpc.Client;
  proto: LoadedProto;
}
/** Clients of this thread by target, file and TLS choice; closed when the engine finishes. */
const clients = new Map<string, SharedClient>();

/** Closes every gRPC client of this thread (end of the run). */
export function closeGrpcClients(): void {
  for (const c of clients.values()) c.client.close();
  clients.clear();
}

/** Splits a target into the address grpc-js dials and whether it speaks TLS. */
export function parseGrpcTarget(target: string): { address: string; tls: boolean } {
  const m = /^(?:(grpcs?|https?):\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})\/?$/.exec(target.trim());
  if (!m || Number(m[3]) > 65535) {
    throw new RedlineError(ErrorCodes.BAD_URL, `invalid gRPC target "${target}": expected host:port (plaintext) or https://host:port (TLS)`);
  }
  return { address: `${m[2]}:${m[3]}`, tls: m[1] === 'grpcs' || m[1] === 'https' };
}

function credentialsFor(useTls: boolean, insecure: boolean, material: TlsMaterial | null): Grpc.ChannelCredentials {
  const g = grpc();
  if (!useTls) return g.credentials.createInsecure();
  const buf = (s: string | null | undefined): Buffer | null => (s ? Buffer.from(s) : null);
  return g.credentials.createSsl(buf(material?.ca), buf(material?.key), buf(material?.cert), insecure ? { rejectUnauthorized: false } : {});
}

function sharedClient(host: GrpcHost, options: GrpcClientOptions): SharedClient {
  const { address, tls } = parseGrpcTarget(options.target);
  const protoFile = resolve(host.baseDir, options.proto);
  const includeDirs = (options.includeDirs ?? []).map((d) => resolve(host.baseDir, d));
  const key = `${address}|${tls}|${protoFile}|${includeDirs.join(',')}|${host.insecure}`;
  let c = clients.get(key);
  if (!c) {
    const proto = loadProto(protoFile, includeDirs);
    const client = new (grpc().Client)(address, credentialsFor(tls, host.insecure, host.tls), {
      // Fail calls at once while the server is unreachable instead of waiting for the deadline.
      'grpc.enable_retries': 0,
    });
    clients.set(key, (c = { client, proto }));
  }
  return c;
}

function metadataOf(values: GrpcCallOptions['metadata']): Grpc.Metadata {
  const md = new (grpc().Metadata)();
  for (const [k, v] of Object.entries(values ?? {})) {
    for (const item of Array.isArray(v) ? v : [v]) md.add(k, item as string);
  }
  return md;
}

function plainMetadata(md: Grpc.Metadata | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!md) return out;
  for (const [k, v] of Object.entries(md.getMap())) out[k] = Buffer.isBuffer(v) ? v.toString('base64') : String(v);
  return out;
}

/**
 * The network error hidden in a status that grpc-js made up because no connection was ever
 * established (UNAVAILABLE, "No connection established. Last error: ..."), or null for a real
 * status from the server.
 */
export function networkKindOf(code: number, details: string): NetworkErrorKind | null {
  if (code !== 14 || !/No connection established|failed to connect|Failed to connect/i.test(details)) return null;
  if (/ECONNREFUSED/.test(details)) return 'connect_refused';
  if (/certificate|SSL|TLS|self[- ]signed|unable to verify|handshake|ERR_TLS|CERT_/i.test(details)) return 'tls';
  if (/ENOTFOUND|EAI_AGAIN|Name resolution|DNS/i.test(details)) return 'dns';
  if (/ECONNRESET|EPIPE/.test(details)) return 'reset';
  if (/ETIMEDOUT/.test(details)) return 'timeout';
  return 'network';
}

/** One call in flight, registered with the engine so its timeout sweep and end of run reach it. */
class CallHandle implements Connection {
  readonly startedAt: number;
  #cancel: (() => void) | null;
  #onAbort: ((kind: NetworkErrorKind, detail: string) => void) | null;

  constructor(cancel: () => void, onAbort: (kind: NetworkErrorKind, detail: string) => void) {
    this.startedAt = engineNow();
    this.#cancel = cancel;
    this.#onAbort = onAbort;
  }
  get busy(): boolean {
    return this.#cancel !== null;
  }
  exchange(): void {
    throw new Error('a gRPC call handle carries one call');
  }
  /** The call ended: nothing more to cancel. */
  done(): void {
    this.#cancel = null;
    this.#onAbort = null;
  }
  abort(kind: NetworkErrorKind, detail: string): void {
    const cancel = this.#cancel;
    const onAbort = this.#onAbort;
    this.done();
    onAbort?.(kind, detail);
    cancel?.();
  }
  close(): void {
    const cancel = this.#cancel;
    this.done();
    cancel?.();
  }
}

/** The gRPC API of one VU. */
export class VuGrpc implements GrpcApi {
  #hostOf: (() => GrpcHost) | null;
  #made: GrpcHost | null = null;

  /** `host` may be a function that makes it on first use (most VUs of most runs make no gRPC call). */
  constructor(host: GrpcHost | (() => GrpcHost)) {
    this.#hostOf = typeof host === 'function' ? host : null;
    if (typeof host !== 'function') this.#made = host;
  }

  get #host(): GrpcHost {
    if (!this.#made) {
      this.#made = this.#hostOf!();
      this.#hostOf = null;
    }
    return this.#made;
  }

  client(options: GrpcClientOptions): GrpcClient {
    if (typeof options !== 'object' || options === null || typeof options.target !== 'string' || typeof options.proto !== 'string') {
      throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'ctx.grpc.client: expected { target: "host:port", proto: "file.proto" }');
    }
    const shared = sharedClient(this.#host, options);
    return {
      invoke: <T>(method: string, message: object, o?: GrpcCallOptions) => this.#call<T>(shared, findMethod(shared.proto, method), message, o ?? {}, false),
      serverStream: <T>(method: string, message: object, o?: GrpcStreamOptions<T>) => this.#call<T>(shared, findMethod(shared.proto, method), message, o ?? {}, true),
    };
  }

  #call<T>(shared: SharedClient, method: GrpcMethod, message: object, options: GrpcStreamOptions<T>, streaming: boolean): Promise<GrpcResponse<T>> {
    if (method.requestStream) {
      return Promise.reject(new RedlineError(ErrorCodes.INVALID_ARGUMENT, `${method.name} takes a client stream; ctx.grpc supports unary and server-streaming calls`));
    }
    if (streaming !== method.responseStream) {
      const use = method.responseStream ? 'serverStream' : 'invoke';
      return Promise.reject(new RedlineError(ErrorCodes.INVALID_ARGUMENT, `${method.name} is ${method.responseStream ? 'server-streaming' : 'unary'}: call it with ${use}()`));
    }
    const host = this.#host;
    // After the run ended (an iteration that outlived the graceful stop): nothing is sent or counted.
    if (host.closed()) return new Promise(() => undefined);
    const def = method.definition;
    let sent = 0;
    let received = 0;
    const serialize = (value: object): Buffer => {
      const b = def.requestSerialize(value);
      sent += b.length + 5;
      return b;
    };
    const deserialize = (b: Buffer): T => {
      received += b.length + 5;
      return def.responseDeserialize(b) as T;
    };
    const callOptions: Grpc.CallOptions = {};
    if (options.deadline !== undefined) {
      const ms = typeof options.deadline === 'number' ? options.deadline : parseDuration(options.deadline, 'deadline');
      if (!(ms > 0)) return Promise.reject(new RangeError(`deadline must be greater than zero, got ${String(options.deadline)}`));
      callOptions.deadline = new Date(Date.now() + ms);
    }
    const metadata = metadataOf(options.metadata);
    const name = options.name ?? method.name;
    const startedAt = engineNow();
    let firstByteAt = 0;
    const messages: T[] = [];
    let unary: T | null = null;
    let headers: Record<string, string> = {};
    const keep = options.keepMessages ?? true;
    host.onExchangeStart();
    return new Promise((resolvePromise) => {
      let finished = false;
      const finish = (code: number, details: string, trailers: Grpc.Metadata | undefined, abortKind: NetworkErrorKind | null): void => {
        if (finished) return;
        finished = true;
        handle.done();
        host.untrack(handle);
        const endedAt = engineNow();
        const kind = abortKind ?? networkKindOf(code, details);
        const ex: Exchange = {
          status: kind ? 0 : 200,
          error: kind,
          errorDetail: kind ? details : null,
          sentAt: startedAt,
          firstByteAt,
          endedAt,
          connectMs: 0,
          bytesSent: sent,
          bytesReceived: received,
          rawHeaders: null,
          body: null,
          ...(kind ? {} : { grpcStatus: code }),
        };
        host.onExchange(name, ex, startedAt);
        if (!kind) host.onGrpcStatus(grpcStatusName(code));
        resolvePromise({
          code: kind ? -1 : code,
          status: kind ? 'NONE' : grpcStatusName(code),
          ok: !kind && code === 0,
          details,
          message: unary,
          messages,
          headers,
          trailers: plainMetadata(trailers),
          error: kind,
          durationMs: endedAt - startedAt,
        });
      };
      let call: Grpc.ClientUnaryCall | Grpc.ClientReadableStream<T>;
      try {
        if (streaming) {
          const stream = shared.client.makeServerStreamRequest<object, T>(method.path, serialize, deserialize, message, metadata, callOptions);
          stream.on('data', (m: T) => {
            if (!firstByteAt) firstByteAt = engineNow();
            if (keep) messages.push(m);
            options.onMessage?.(m);
          });
          stream.on('status', (s: Grpc.StatusObject) => finish(s.code, s.details, s.metadata, null));
          // 'error' repeats a non-OK status; 'status' carries it with the trailers.
          stream.on('error', () => undefined);
          call = stream;
        } else {
          call = shared.client.makeUnaryRequest<object, T>(method.path, serialize, deserialize, message, metadata, callOptions, (err, value) => {
            if (!err && value !== undefined) unary = value;
          });
          call.on('status', (s: Grpc.StatusObject) => finish(s.code, s.details, s.metadata, null));
        }
      } catch (err) {
        finished = true;
        host.onExchange(name, { status: 0, error: 'protocol', errorDetail: (err as Error).message, sentAt: startedAt, firstByteAt: 0, endedAt: engineNow(), connectMs: 0, bytesSent: 0, bytesReceived: 0, rawHeaders: null, body: null }, startedAt);
        throw err;
      }
      call.on('metadata', (md: Grpc.Metadata) => {
        firstByteAt ||= engineNow();
        headers = plainMetadata(md);
      });
      const handle: CallHandle = new CallHandle(
        () => call.cancel(),
        (kind, detail) => finish(-1, detail, undefined, kind),
      );
      host.track(handle);
    });
  }
}

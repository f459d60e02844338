/**
 * The transport interface: everything executors and metrics need from a protocol.
 * HTTP/1.1 is the only implementation today; HTTP/2, gRPC and WebSocket plug in here without
 * touching executors or metrics, because those only see `Exchange` results.
 */
import type { ConnectPhases } from './phases.js';
import type { ProxyTarget } from './proxy.js';
import type { TlsMaterial } from './tls.js';

/**
 * Why an exchange failed, as counted in `errorsByKind` (see docs/protocol-errors.md):
 * - `protocol`: the response broke HTTP framing (status line, Content-Length, chunking, limits);
 * - `interrupted`: still in flight when the run's graceful stop ended, so it never completed;
 * - `body_too_large`: a scripted response body exceeded the request's body limit;
 * - `generator`: the generator itself could not make the request (out of file descriptors,
 *   EMFILE/ENFILE). Not the target's error: it marks the run generator-limited;
 * - `proxy`: the HTTP proxy refused the CONNECT tunnel (or answered it with something else);
 * - `redirect_loop`: a scripted request was still redirected after its redirect limit.
 */
export type NetworkErrorKind =
  | 'connect_refused'
  | 'dns'
  | 'timeout'
  | 'reset'
  | 'tls'
  | 'network'
  | 'protocol'
  | 'interrupted'
  | 'body_too_large'
  | 'generator'
  | 'redirect_loop'
  | 'proxy';

/** Per-exchange options of connections that keep full responses (scripted requests). */
export interface ExchangeOptions {
  /** Fail the exchange with `body_too_large` (and close the connection) past this many body bytes. */
  maxBodyBytes?: number;
  /** Read the body off the socket but keep none of it (`body` is an empty Buffer). */
  discardBody?: boolean;
}

/** The outcome of one request/response exchange, with timings in milliseconds on the engine clock. */
export interface Exchange {
  /** HTTP status, or 0 when the exchange failed before a status arrived. */
  status: number;
  /** Set when the exchange failed at the network level. */
  error: NetworkErrorKind | null;
  /** Human-readable detail for `error` (e.g. the OS error code). */
  errorDetail: string | null;
  /** Engine-clock ms when the request was handed to the socket (after any connect). */
  sentAt: number;
  /** Engine-clock ms when the first response byte arrived (0 if none). */
  firstByteAt: number;
  /** Engine-clock ms when the exchange finished. */
  endedAt: number;
  /** Milliseconds spent establishing the connection for this exchange (0 when reused). */
  connectMs: number;
  /** DNS, TCP and TLS split of `connectMs` when this exchange opened the connection (absent or null when reused). */
  phases?: ConnectPhases | null;
  bytesSent: number;
  bytesReceived: number;
  /** Raw header block (latin1), only when the caller asked for full responses. */
  rawHeaders: string | null;
  /** Body, only when the caller asked for full responses. */
  body: Buffer | null;
  /**
   * gRPC status code of a gRPC call (0 OK; -1 or absent when no status arrived). A non-zero
   * status counts as an error of kind `grpc_<name>` (e.g. `grpc_not_found`) with its latency.
   */
  grpcStatus?: number;
  /**
   * Cache verdict and header-problem bits of the response (`cache-verdict.ts`): 0 when it named
   * no cache verdict and had no cache-header problem; absent from transports that do not read them.
   */
  cache?: number;
}

/** A request already turned into bytes once, so the hot path never re-serialises it. */
export interface PreparedRequest {
  /** Request name for metrics (defaults to `METHOD path`). */
  name: string;
  method: string;
  origin: Origin;
  payload: Buffer;
}

/** Where to connect. */
export interface Origin {
  protocol: 'http:' | 'https:';
  host: string;
  port: number;
  /** `host:port` as sent in the Host header. */
  authority: string;
  /** Skip TLS certificate verification (self-signed test targets). */
  insecure: boolean;
  /** CA, client certificate and key for TLS (null: Node's defaults). */
  tls?: TlsMaterial | null;
  /**
   * Which HTTP version to speak (default `h1`); `h2` is h2 over TLS (ALPN) or h2c with prior
   * knowledge; `grpc` sends each request as a gRPC call over HTTP/2 (quick mode's `--grpc`); `ws`
   * sends each request's body as a WebSocket message (transports/ws-fast.ts).
   */
  version?: WireProtocol;
  /** Tunnel through this HTTP proxy with CONNECT (HTTP/1.1 only), or connect directly (null/absent). */
  proxy?: ProxyTarget | null;
}

/** HTTP versions a transport can speak. */
export type HttpVersion = 'h1' | 'h2';

/**
 * What a static request is sent as: an HTTP version, a gRPC unary call over HTTP/2, or (`ws`) a
 * message on the VU's WebSocket, answered by the next message the server sends.
 */
export type WireProtocol = HttpVersion | 'grpc' | 'ws';

/** A single connection that runs one exchange at a time. */
export interface Connection {
  /**
   * Sends the bytes and calls back exactly once with the exchange outcome. Connections made with
   * `keepResponse: false` (the static fast path) reuse one `Exchange` object per connection: it is
   * valid only during the callback, so copy what must outlive it.
   */
  exchange(payload: Buffer, method: string, callback: (result: Exchange) => void, options?: ExchangeOptions): void;
  /** True while an exchange is in flight. */
  readonly busy: boolean;
  /** Engine-clock ms when the in-flight exchange started, for timeout sweeps. */
  readonly startedAt: number;
  /** Fails the in-flight exchange (if any) with `kind` and closes the socket. */
  abort(kind: NetworkErrorKind, detail: string): void;
  /** Closes the connection; no callback fires afterwards except for an in-flight abort. */
  close(): void;
}

/** Creates connections for an origin. One per protocol. */
export interface Transport {
  readonly name: string;
  connect(origin: Origin, options: { keepResponse: boolean }): Connection;
}

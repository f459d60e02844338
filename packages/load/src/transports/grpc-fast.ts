import type * as Http2 from 'node:http2';
import { engineNow } from '../engine-clock.js';
import { h2RequestFromHttp1 } from './h2-request.js';
import { classifySocketError } from './http1.js';
import type { Http2Counters, Http2Options } from './http2.js';
import { NodeHttp2Pool } from './http2-node.js';
import type { Connection, Exchange, NetworkErrorKind, Origin, Transport } from './transport.js';

/**
 * gRPC unary calls from prepared requests (origin version `grpc`): the request message is
 * serialised once, and each call is one HTTP/2 stream — no channel, no interceptors, no per-call
 * (de)serialisation. Only `grpc-status` is read from the response (headers of a trailers-only
 * response, else trailers); the response message is counted, never decoded. The quick-mode fast
 * path (`keepResponse: false`) runs on Redline's own HTTP/2 framing (`http2.ts`); requests that keep
 * their response use `GrpcCall` below, on `node:http2` sessions. The payload handed to `exchange`
 * is the HTTP/1.1 form of the request (what every static request is prepared as): its path is the
 * method, its headers the metadata, its body the length-prefixed message.
 */

let http2Module: typeof Http2 | null = null;
function http2(): typeof Http2 {
  return (http2Module ??= process.getBuiltinModule('node:http2'));
}

interface PreparedCall {
  headers: Http2.OutgoingHttpHeaders;
  body: Buffer;
}
const preparedByPayload = new WeakMap<Buffer, PreparedCall>();

function prepare(payload: Buffer, origin: Origin): PreparedCall {
  let p = preparedByPayload.get(payload);
  if (!p) {
    const req = h2RequestFromHttp1(payload, origin.authority);
    const headers: Http2.OutgoingHttpHeaders = {
      ':method': 'POST',
      ':path': req.path,
      ':authority': req.authority,
      ':scheme': origin.protocol === 'https:' ? 'https' : 'http',
      'content-type': 'application/grpc',
      te: 'trailers',
    };
    for (const [name, value] of req.headers) {
      // Framing headers of the HTTP/1.1 form are not metadata.
      if (name === 'content-length' || name === 'content-type' || name === 'te') continue;
      headers[name] = value;
    }
    p = { headers, body: req.body ?? Buffer.alloc(5) };
    preparedByPayload.set(payload, p);
  }
  return p;
}

/** The gRPC fast-path transport of one thread: shares HTTP/2 sessions per origin, so it must be closed. */
export interface GrpcFastTransport extends Transport {
  counters(): Http2Counters;
  close(): void;
}

/**
 * Creates the gRPC transport of one thread. Static requests (`keepResponse: false`, the quick-mode
 * fast path) go over Redline's own HTTP/2 framing (`framed`, which reads `grpc-status` from the
 * trailers for origins of version `grpc`); requests that keep their response go over `node:http2`.
 */
export function createGrpcFastTransport(options: Http2Options, framed: () => Transport): GrpcFastTransport {
  const pools = new Map<string, NodeHttp2Pool>();
  const counters: Http2Counters = { goaways: 0, streamLimitWaits: 0, refusedStreams: 0, sessions: 0 };
  return {
    name: 'grpc',
    connect(origin: Origin, o: { keepResponse: boolean }): Connection {
      if (!o.keepResponse) return framed().connect(origin, o);
      const key = `${origin.protocol}//${origin.authority}|${origin.insecure ? 'i' : ''}`;
      let pool = pools.get(key);
      if (!pool) pools.set(key, (pool = new NodeHttp2Pool(origin, options, counters)));
      return new GrpcCall(pool, origin);
    },
    counters: () => ({ ...counters }),
    close() {
      for (const p of pools.values()) p.close();
      pools.clear();
    },
  };
}

const NO_STATUS = -1;

/**
 * The error kind of a failed stream. A session that failed (refused, TLS) cancels its pending
 * streams with ERR_HTTP2_STREAM_CANCEL and the session's error as `cause`: that cause decides.
 */
export function classifyStreamError(err: NodeJS.ErrnoException): [NetworkErrorKind, string] {
  const cause = err.cause as NodeJS.ErrnoException | undefined;
  if (err.code === 'ERR_HTTP2_STREAM_CANCEL' && cause && typeof cause === 'object') {
    return [cause.code?.startsWith('ERR_HTTP2') ? 'protocol' : classifySocketError(cause), cause.code ?? cause.message];
  }
  const code = err.code ?? err.message;
  if (code === 'ERR_HTTP2_STREAM_ERROR' || code === 'ERR_HTTP2_GOAWAY_SESSION') return ['reset', code];
  return [code.startsWith('ERR_HTTP2') ? 'protocol' : classifySocketError(err), code];
}

/** A VU's gRPC "connection": one unary call at a time on a shared HTTP/2 session. */
class GrpcCall implements Connection {
  readonly #pool: NodeHttp2Pool;
  readonly #origin: Origin;
  #callback: ((result: Exchange) => void) | null = null;
  #stream: Http2.ClientHttp2Stream | null = null;
  startedAt = 0;
  readonly #result: Exchange = { status: 0, error: null, errorDetail: null, sentAt: 0, firstByteAt: 0, endedAt: 0, connectMs: 0, bytesSent: 0, bytesReceived: 0, rawHeaders: null, body: null, grpcStatus: NO_STATUS };

  constructor(pool: NodeHttp2Pool, origin: Origin) {
    this.#pool = pool;
    this.#origin = origin;
  }

  get busy(): boolean {
    return this.#callback !== null;
  }

  exchange(payload: Buffer, _method: string, callback: (result: Exchange) => void): void {
    if (this.#callback) throw new Error('GrpcCall: exchange while busy');
    this.#callback = callback;
    const startedAt = (this.startedAt = engineNow());
    const call = prepare(payload, this.#origin);
    const entry = this.#pool.session();
    entry.active++;
    const wasConnecting = entry.connecting;
    const r = this.#result;
    r.status = 0;
    r.error = null;
    r.errorDetail = null;
    r.sentAt = startedAt;
    r.firstByteAt = 0;
    r.connectMs = 0;
    r.phases = null;
    r.bytesSent = call.body.length;
    r.bytesReceived = 0;
    r.grpcStatus = NO_STATUS;
    let stream: Http2.ClientHttp2Stream;
    try {
      stream = entry.session.request(call.headers);
    } catch (err) {
      entry.active--;
      this.#finish('protocol', (err as Error).message);
      return;
    }
    this.#stream = stream;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      entry.active--;
      if (this.#stream === stream) this.#stream = null;
      if (wasConnecting) {
        r.connectMs = entry.connectMs;
        r.phases = entry.phases;
      }
      return true;
    };
    stream.on('response', (h) => {
      r.firstByteAt = engineNow();
      r.status = Number(h[':status']) || 0;
      // Trailers-only response (errors such as UNIMPLEMENTED): the status is in the headers.
      const s = h['grpc-status'];
      if (s !== undefined) r.grpcStatus = Number(s);
    });
    stream.on('trailers', (t) => {
      const s = t['grpc-status'];
      if (s !== undefined) r.grpcStatus = Number(s);
    });
    stream.on('data', (chunk: Buffer) => {
      r.bytesReceived += chunk.length;
    });
    stream.on('end', () => {
      if (!settle()) return;
      if (r.status !== 200) this.#finish('protocol', `gRPC response with HTTP status ${r.status}`);
      else if (r.grpcStatus === NO_STATUS) this.#finish('protocol', 'gRPC response without grpc-status');
      else this.#finish(null, null);
    });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (!settle()) return;
      const [kind, detail] = classifyStreamError(err);
      this.#finish(kind, detail);
    });
    stream.on('close', () => {
      if (!settle()) return;
      this.#finish('reset', `HTTP/2 stream closed (code ${stream.rstCode ?? 0}) before the gRPC response completed`);
    });
    stream.end(call.body);
  }

  #finish(kind: NetworkErrorKind | null, detail: string | null): void {
    const cb = this.#callback;
    this.#callback = null;
    if (!cb) return;
    const r = this.#result;
    r.error = kind;
    r.errorDetail = detail;
    if (kind !== null) r.grpcStatus = NO_STATUS;
    r.endedAt = engineNow();
    cb(r);
  }

  abort(kind: NetworkErrorKind, detail: string): void {
    const s = this.#stream;
    this.#stream = null;
    if (s && !s.destroyed) s.close(http2().constants.NGHTTP2_CANCEL);
    this.#finish(kind, detail);
  }

  close(): void {
    const s = this.#stream;
    this.#callback = null;
    this.#stream = null;
    if (s && !s.destroyed) s.close(http2().constants.NGHTTP2_CANCEL);
  }
}

import * as net from 'node:net';
import { engineNow } from '../engine-clock.js';
import { h2RequestFromHttp1, type H2Request } from './h2-request.js';
import { decodeStatus, encodeRequestHeaderBlock, readGrpcStatus } from './hpack.js';
import { classifySocketError } from './http1.js';
import { NodeHttp2Pool } from './http2-node.js';
import { watchConnectPhases, type ConnectPhases } from './phases.js';
import { connectTls } from './tls.js';
import type { Connection, Exchange, NetworkErrorKind, Origin, Transport } from './transport.js';

/**
 * HTTP/2 with its own framing for the static fast path (RFC 9113): h2 over TLS (ALPN) or h2c with
 * prior knowledge, many streams per connection, flow control both ways, GOAWAY and the server's
 * stream limit handled. Scripted requests (which need every response header) go through
 * `node:http2` sessions instead (`http2-node.ts`); both sit behind the same `Connection`.
 */

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const enum FrameType {
  Data = 0,
  Headers = 1,
  Priority = 2,
  RstStream = 3,
  Settings = 4,
  PushPromise = 5,
  Ping = 6,
  Goaway = 7,
  WindowUpdate = 8,
  Continuation = 9,
}
const FLAG_END_STREAM = 0x1;
const FLAG_ACK = 0x1;
const FLAG_END_HEADERS = 0x4;
const FLAG_PADDED = 0x8;
const FLAG_PRIORITY = 0x20;
const SETTINGS_HEADER_TABLE_SIZE = 0x1;
const SETTINGS_ENABLE_PUSH = 0x2;
const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const SETTINGS_MAX_FRAME_SIZE = 0x5;
const ERR_PROTOCOL = 0x1;
const ERR_REFUSED_STREAM = 0x7;
const ERR_CANCEL = 0x8;
/** Our receive window per stream; replenished once half is used. */
const STREAM_WINDOW = 1 << 20;
/** Our receive window for the whole connection (raised from 65,535 right after the preface). */
const CONNECTION_WINDOW = 1 << 24;
const MAX_STREAM_ID = 2 ** 31 - 1;
/** Largest frame we accept (our SETTINGS_MAX_FRAME_SIZE is the default, 16,384). */
const OUR_MAX_FRAME = 16_384;
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);
/**
 * Loop turns a write started while handling a read may wait for more of the server's frames (see
 * `#queue`); bounded so a connection that keeps receiving still writes.
 */
const MAX_FLUSH_TURNS = 4;
/** True while a read of any framed session of this thread is handled (requests a read starts may go to another session). */
let handlingRead = false;

/** HTTP/2 events counted per thread, reported in the run's `http2` block. */
export interface Http2Counters {
  /** GOAWAY frames received. */
  goaways: number;
  /** Exchanges that waited because every connection was at its stream limit. */
  streamLimitWaits: number;
  /** Streams the server refused (RST_STREAM REFUSED_STREAM, or above GOAWAY's last stream) and that were retried. */
  refusedStreams: number;
  /** HTTP/2 connections opened. */
  sessions: number;
}

/** The HTTP/2 transport of one thread: holds its sessions, so it must be closed. */
export interface Http2Transport extends Transport {
  counters(): Http2Counters;
  close(): void;
}

/** Options of the HTTP/2 transport. */
export interface Http2Options {
  /** Connections per origin. */
  connections: number;
  /** Most concurrent streams per connection (lower when the server's SETTINGS say so). */
  maxStreams: number;
}

/** Per-payload translation, cached by identity: fast-path payloads are made once per request. */
interface PreparedH2 {
  request: H2Request;
  block: Buffer;
}
const preparedByPayload = new WeakMap<Buffer, PreparedH2>();

function prepare(payload: Buffer, origin: Origin): PreparedH2 {
  let p = preparedByPayload.get(payload);
  if (!p) {
    const request = h2RequestFromHttp1(payload, origin.authority);
    p = { request, block: encodeRequestHeaderBlock(request, origin.protocol === 'https:' ? 'https' : 'http') };
    preparedByPayload.set(payload, p);
  }
  return p;
}

function frameHeader(buf: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  buf[at] = (length >>> 16) & 0xff;
  buf[at + 1] = (length >>> 8) & 0xff;
  buf[at + 2] = length & 0xff;
  buf[at + 3] = type;
  buf[at + 4] = flags;
  buf.writeUInt32BE(streamId, at + 5);
}

function frame(type: number, flags: number, streamId: number, payload: Buffer | null): Buffer {
  const len = payload ? payload.length : 0;
  const buf = Buffer.allocUnsafe(9 + len);
  frameHeader(buf, 0, len, type, flags, streamId);
  if (payload) payload.copy(buf, 9);
  return buf;
}

const enum HandleState {
  Idle,
  /** Waiting in the pool for a stream slot. */
  Waiting,
  /** Holds a stream on a session. */
  Active,
}

/**
 * A VU's view of the shared HTTP/2 connections: one exchange at a time, each on a stream of the
 * least-loaded session of its origin. The handle is also the stream's state (no allocation per
 * request on the fast path).
 */
class H2Handle implements Connection {
  readonly pool: FramedPool;
  readonly origin: Origin;
  state = HandleState.Idle;
  callback: ((result: Exchange) => void) | null = null;
  prepared: PreparedH2 | null = null;
  /** Request frame (HEADERS [+ CONTINUATION]) rewritten in place per stream; see `buildRequestFrame`. */
  requestFrame: Buffer | null = null;
  requestFrameFor: PreparedH2 | null = null;
  session: FramedSession | null = null;
  streamId = 0;
  startedAt = 0;
  sentAt = 0;
  firstByteAt = 0;
  connectMs = 0;
  phases: ConnectPhases | null = null;
  status = 0;
  bytesSent = 0;
  bytesReceived = 0;
  /** Bytes of our receive window this stream used since the last WINDOW_UPDATE. */
  recvUnacked = 0;
  /** Send window for the request body, and what is left to send. */
  sendWindow = 0;
  bodyLeft: Buffer | null = null;
  /** Header block fragments while CONTINUATION frames are still due. */
  headerParts: Buffer[] | null = null;
  headersEndStream = false;
  retried = false;
  /** gRPC calls (origin version `grpc`): the status read from the trailers, -1 until one arrives. */
  grpcStatus = -1;
  /** The payload `prepared` was made from. */
  #payload: Buffer | null = null;
  readonly #reused: Exchange = { status: 0, error: null, errorDetail: null, sentAt: 0, firstByteAt: 0, endedAt: 0, connectMs: 0, bytesSent: 0, bytesReceived: 0, rawHeaders: null, body: null };

  constructor(pool: FramedPool, origin: Origin) {
    this.pool = pool;
    this.origin = origin;
  }

  get busy(): boolean {
    return this.callback !== null;
  }

  exchange(payload: Buffer, _method: string, callback: (result: Exchange) => void): void {
    if (this.callback) throw new Error('H2Handle: exchange while busy');
    this.callback = callback;
    // A VU sends the same payload again and again: skip the WeakMap lookup then.
    if (payload !== this.#payload || !this.prepared) {
      this.prepared = prepare(payload, this.origin);
      this.#payload = payload;
    }
    this.startedAt = engineNow();
    this.sentAt = 0;
    this.firstByteAt = 0;
    this.connectMs = 0;
    this.phases = null;
    this.status = 0;
    this.bytesSent = 0;
    this.bytesReceived = 0;
    this.retried = false;
    this.grpcStatus = -1;
    this.pool.acquire(this);
  }

  /** Resets per-stream state before the exchange (re)starts on a session. */
  resetStream(): void {
    this.status = 0;
    this.sentAt = 0;
    this.recvUnacked = 0;
    this.headerParts = null;
    this.headersEndStream = false;
    this.bodyLeft = null;
  }

  finish(endedAt: number): void {
    const cb = this.callback;
    if (!cb) return;
    if (this.origin.version === 'grpc' && this.grpcStatus < 0) {
      this.fail('protocol', this.status === 200 ? 'gRPC response without grpc-status' : `gRPC response with HTTP status ${this.status}`);
      return;
    }
    this.callback = null;
    this.state = HandleState.Idle;
    this.session = null;
    const r = this.#reused;
    r.status = this.status;
    r.error = null;
    r.errorDetail = null;
    r.sentAt = this.sentAt || this.startedAt;
    r.firstByteAt = this.firstByteAt;
    r.endedAt = endedAt;
    r.connectMs = this.connectMs;
    r.phases = this.phases;
    r.bytesSent = this.bytesSent;
    r.bytesReceived = this.bytesReceived;
    if (this.origin.version === 'grpc') r.grpcStatus = this.grpcStatus;
    cb(r);
  }

  fail(kind: NetworkErrorKind, detail: string): void {
    const cb = this.callback;
    if (!cb) return;
    this.callback = null;
    this.state = HandleState.Idle;
    this.session = null;
    cb({
      status: 0,
      error: kind,
      errorDetail: detail,
      sentAt: this.sentAt || this.startedAt,
      firstByteAt: this.firstByteAt,
      endedAt: engineNow(),
      connectMs: this.connectMs,
      phases: this.phases,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      rawHeaders: null,
      body: null,
    });
  }

  abort(kind: NetworkErrorKind, detail: string): void {
    this.#detach();
    this.fail(kind, detail);
  }

  close(): void {
    this.#detach();
    this.callback = null;
    this.state = HandleState.Idle;
  }

  #detach(): void {
    if (this.state === HandleState.Waiting) this.pool.forget(this);
    else if (this.state === HandleState.Active && this.session) this.session.cancel(this);
  }
}

/** The sessions of one origin, and the exchanges waiting for a stream. */
class FramedPool {
  readonly origin: Origin;
  readonly options: Http2Options;
  readonly counters: Http2Counters;
  readonly sessions: FramedSession[] = [];
  readonly waiting: H2Handle[] = [];
  #waitHead = 0;

  constructor(origin: Origin, options: Http2Options, counters: Http2Counters) {
    this.origin = origin;
    this.options = options;
    this.counters = counters;
  }

  acquire(h: H2Handle): void {
    // First come, first served: while others wait, a new exchange queues behind them.
    const s = this.#waitHead === this.waiting.length ? this.#pick() : null;
    if (s) {
      s.start(h);
      return;
    }
    h.state = HandleState.Waiting;
    // Waiting for a connection that is still coming up is not waiting for the stream limit.
    if (this.sessions.length >= this.options.connections && this.sessions.every((x) => x.ready)) this.counters.streamLimitWaits++;
    this.waiting.push(h);
    if (this.sessions.length < this.options.connections) this.#open();
  }

  /** Puts a refused exchange back at the front of the queue, once. */
  retry(h: H2Handle): void {
    this.counters.refusedStreams++;
    h.state = HandleState.Waiting;
    h.session = null;
    this.waiting.splice(this.#waitHead, 0, h);
    this.dispatch();
  }

  forget(h: H2Handle): void {
    const i = this.waiting.indexOf(h, this.#waitHead);
    if (i >= 0) this.waiting.splice(i, 1);
    h.state = HandleState.Idle;
  }

  /** Starts waiting exchanges on sessions with free streams; opens sessions up to the limit. */
  dispatch(): void {
    while (this.#waitHead < this.waiting.length) {
      const s = this.#pick();
      if (!s) break;
      const h = this.waiting[this.#waitHead]!;
      this.waiting[this.#waitHead++] = undefined as unknown as H2Handle;
      s.start(h);
    }
    if (this.#waitHead > 1024 || this.#waitHead === this.waiting.length) {
      this.waiting.splice(0, this.#waitHead);
      this.#waitHead = 0;
    }
    if (this.#waitHead < this.waiting.length && this.sessions.length < this.options.connections) this.#open();
  }

  removeSession(s: FramedSession): void {
    const i = this.sessions.indexOf(s);
    if (i >= 0) this.sessions.splice(i, 1);
    this.dispatch();
  }

  /** A ready session with a free stream, the least loaded first. */
  #pick(): FramedSession | null {
    let best: FramedSession | null = null;
    for (const s of this.sessions) {
      if (s.ready && !s.draining && s.active < s.streamLimit && (!best || s.active < best.active)) best = s;
    }
    return best;
  }

  #open(): void {
    this.counters.sessions++;
    this.sessions.push(new FramedSession(this));
  }

  /** Fails every waiting exchange (the pool could not connect). */
  failWaiting(kind: NetworkErrorKind, detail: string, connectMs: number): void {
    const list = this.waiting.splice(this.#waitHead);
    this.waiting.length = 0;
    this.#waitHead = 0;
    for (const h of list) {
      h.connectMs = connectMs;
      h.fail(kind, detail);
    }
  }

  close(): void {
    for (const s of [...this.sessions]) s.destroy();
    this.sessions.length = 0;
    this.waiting.length = 0;
    this.#waitHead = 0;
  }
}

/** One HTTP/2 connection with our framing. */
class FramedSession {
  readonly #pool: FramedPool;
  readonly #socket: net.Socket;
  readonly #streams = new Map<number, H2Handle>();
  readonly #connectStartedAt: number;
  #connected = false;
  #connectMs = 0;
  ready = false;
  draining = false;
  #closed = false;
  active = 0;
  streamLimit: number;
  #nextStreamId = 1;
  #peerMaxFrame = 16_384;
  #peerInitialWindow = 65_535;
  #sendWindow = 65_535;
  #recvUnacked = 0;
  #carry: Buffer | null = null;
  /** Setup phases of this connection, given to the exchanges that waited for it. */
  phases: ConnectPhases | null = null;
  /** Engine time of the read being parsed. */
  #readAt = 0;
  #out: Buffer[] = [];
  #flushScheduled = false;
  /** Reads handled so far, and the count the deferred flush last saw. */
  #reads = 0;
  #readsAtCheck = 0;
  #flushTurns = 0;
  /** Streams whose request body waits for send window. */
  #blocked: H2Handle[] = [];
  /** Handles whose HEADERS are in `#out`: their `sentAt` is the time of the write that sends them. */
  #unsent: H2Handle[] = [];

  constructor(pool: FramedPool) {
    this.#pool = pool;
    this.streamLimit = pool.options.maxStreams;
    const o = pool.origin;
    this.#connectStartedAt = engineNow();
    let socket: net.Socket;
    if (o.protocol === 'https:') {
      const t = connectTls(o, ['h2']);
      t.on('data', (chunk: Buffer) => this.#onData(chunk, false));
      socket = t;
    } else {
      socket = net.connect({
        host: o.host,
        port: o.port,
        onread: {
          buffer: sharedReadBuffer,
          callback: (bytes: number, buf: Uint8Array): boolean => {
            this.#onData((buf as Buffer).subarray(0, bytes), true);
            return true;
          },
        },
      });
    }
    socket.setNoDelay(true);
    this.#socket = socket;
    this.phases = watchConnectPhases(socket, this.#connectStartedAt, engineNow, o.protocol === 'https:');
    socket.once(o.protocol === 'https:' ? 'secureConnect' : 'connect', () => this.#onConnect());
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A TLS server without h2 in ALPN answers with a no_application_protocol alert.
      if (err.code?.includes('NO_APPLICATION_PROTOCOL')) this.#terminate('protocol', 'the server does not offer HTTP/2 over TLS (ALPN: no h2)');
      else this.#terminate(classifySocketError(err), err.code ?? err.message);
    });
    socket.on('close', () => this.#terminate('reset', 'HTTP/2 connection closed before the response completed'));
  }

  #onConnect(): void {
    this.#connected = true;
    this.#connectMs = engineNow() - this.#connectStartedAt;
    const s = this.#socket as net.Socket & { alpnProtocol?: string | false };
    if (this.#pool.origin.protocol === 'https:' && s.alpnProtocol !== 'h2') {
      this.#terminate('protocol', `the server did not negotiate HTTP/2 over TLS (ALPN: ${s.alpnProtocol || 'none'})`);
      return;
    }
    const settings = Buffer.alloc(18);
    settings.writeUInt16BE(SETTINGS_HEADER_TABLE_SIZE, 0);
    settings.writeUInt32BE(0, 2);
    settings.writeUInt16BE(SETTINGS_ENABLE_PUSH, 6);
    settings.writeUInt32BE(0, 8);
    settings.writeUInt16BE(SETTINGS_INITIAL_WINDOW_SIZE, 12);
    settings.writeUInt32BE(STREAM_WINDOW, 14);
    const inc = Buffer.allocUnsafe(4);
    inc.writeUInt32BE(CONNECTION_WINDOW - 65_535, 0);
    this.#socket.write(Buffer.concat([PREFACE, frame(FrameType.Settings, 0, 0, settings), frame(FrameType.WindowUpdate, 0, 0, inc)]));
    if (this.#out.length) this.#flush();
  }

  /** Opens a stream for `h` and queues its request; `h.sentAt` is set when the write leaves (`#flush`). */
  start(h: H2Handle): void {
    const id = this.#nextStreamId;
    this.#nextStreamId += 2;
    if (this.#nextStreamId >= MAX_STREAM_ID) this.#drain();
    h.state = HandleState.Active;
    h.session = this;
    h.streamId = id;
    h.resetStream();
    if (h.connectMs === 0 && this.#connectMs > 0 && h.startedAt <= this.#connectStartedAt + this.#connectMs) {
      h.connectMs = this.#connectMs;
      h.phases = this.phases;
    }
    this.#streams.set(id, h);
    this.active++;
    const p = h.prepared!;
    const body = p.request.body;
    const buf = this.#requestFrame(h, p, id, body === null);
    h.bytesSent += buf.length;
    this.#unsent.push(h);
    this.#queue(buf);
    if (body) {
      h.sendWindow = this.#peerInitialWindow;
      h.bodyLeft = body;
      this.#sendBody(h);
    }
  }

  /**
   * The HEADERS (+ CONTINUATION) frames of `h`'s request with stream id `id`. The buffer is kept
   * on the handle and rewritten in place for its next stream: a handle starts a stream only after
   * the previous one ended, and the server has read those bytes by then. A retry after GOAWAY
   * gets a fresh copy, since the old session may still hold the bytes in its write queue.
   */
  #requestFrame(h: H2Handle, p: PreparedH2, id: number, endStream: boolean): Buffer {
    const block = p.block;
    const max = this.#peerMaxFrame;
    const frames = Math.max(1, Math.ceil(block.length / max));
    const size = block.length + 9 * frames;
    let buf = h.requestFrame;
    if (!buf || h.requestFrameFor !== p || buf.length !== size || h.retried) {
      buf = Buffer.allocUnsafe(size);
      let at = 0;
      for (let f = 0; f < frames; f++) {
        const chunk = Math.min(max, block.length - f * max);
        const last = f === frames - 1;
        frameHeader(buf, at, chunk, f === 0 ? FrameType.Headers : FrameType.Continuation, (last ? FLAG_END_HEADERS : 0) | (f === 0 && endStream ? FLAG_END_STREAM : 0), id);
        block.copy(buf, at + 9, f * max, f * max + chunk);
        at += 9 + chunk;
      }
      h.requestFrame = buf;
      h.requestFrameFor = p;
      return buf;
    }
    let at = 0;
    for (let f = 0; f < frames; f++) {
      buf.writeUInt32BE(id, at + 5);
      at += 9 + Math.min(max, block.length - f * max);
    }
    return buf;
  }

  #sendBody(h: H2Handle): void {
    let left = h.bodyLeft;
    while (left && left.length > 0) {
      const n = Math.min(left.length, this.#peerMaxFrame, this.#sendWindow, h.sendWindow);
      if (n <= 0) {
        if (!this.#blocked.includes(h)) this.#blocked.push(h);
        h.bodyLeft = left;
        return;
      }
      const last = n === left.length;
      const f = frame(FrameType.Data, last ? FLAG_END_STREAM : 0, h.streamId, left.subarray(0, n));
      this.#sendWindow -= n;
      h.sendWindow -= n;
      h.bytesSent += f.length;
      this.#queue(f);
      left = last ? null : left.subarray(n);
    }
    h.bodyLeft = null;
  }

  #queue(buf: Buffer): void {
    this.#out.push(buf);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    if (handlingRead) {
      // Frames queued while a read is handled (requests of VUs whose responses just ended) wait
      // until the server's frames stop arriving: one loop turn at least, more while reads keep
      // coming. A server answers a batch of requests in several writes; answering each of them at
      // once splits our next batch the same way, until every response costs a read and a write of
      // its own. Reading until the input is drained, then writing once, is what h2load does.
      this.#readsAtCheck = -1;
      this.#flushTurns = 0;
      setImmediate(this.#flushWhenDrained);
    } else queueMicrotask(this.#flush);
  }

  readonly #flushWhenDrained = (): void => {
    if (this.#reads !== this.#readsAtCheck && this.#flushTurns < MAX_FLUSH_TURNS && !this.#closed) {
      this.#readsAtCheck = this.#reads;
      this.#flushTurns++;
      setImmediate(this.#flushWhenDrained);
      return;
    }
    this.#flush();
  };

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    const out = this.#out;
    if (out.length === 0 || this.#closed) {
      out.length = 0;
      this.#unsent.length = 0;
      return;
    }
    // Before the connection is up, frames wait; #onConnect wrote the preface and flushes after.
    if (!this.#connected) return;
    this.#out = [];
    this.#socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
    this.#stampSent();
  };

  /**
   * Sets the send time of the requests that just left. Waiting (time to first byte) counts from
   * the write, not from the queueing: the frames of a batch wait up to `MAX_FLUSH_TURNS` loop turns
   * (or the rest of a busy turn) for each other, and that delay is the generator's, not the
   * server's. The iteration's latency still counts from the exchange's start, so it is not lost.
   */
  #stampSent(): void {
    const unsent = this.#unsent;
    if (unsent.length === 0) return;
    const now = engineNow();
    for (let i = 0; i < unsent.length; i++) {
      const h = unsent[i]!;
      // A handle retried on another session, or ended (timeout), is no longer this write's.
      if (h.session === this && h.sentAt === 0) h.sentAt = now;
    }
    unsent.length = 0;
  }

  /** Cancels `h`'s stream (timeout or VU closed). */
  cancel(h: H2Handle): void {
    if (!this.#streams.delete(h.streamId)) return;
    this.active--;
    const code = Buffer.allocUnsafe(4);
    code.writeUInt32BE(ERR_CANCEL, 0);
    this.#queue(frame(FrameType.RstStream, 0, h.streamId, code));
    h.session = null;
    this.#afterStreamEnd();
  }

  #onData(chunk: Buffer, shared: boolean): void {
    if (this.#closed) return;
    // One clock read per read: every frame in it arrived at the same moment.
    this.#readAt = engineNow();
    this.#reads++;
    handlingRead = true;
    this.#parse(chunk, shared);
    handlingRead = false;
  }

  #parse(chunk: Buffer, shared: boolean): void {
    let buf = chunk;
    if (this.#carry) {
      buf = Buffer.concat([this.#carry, chunk]);
      this.#carry = null;
      shared = false;
    }
    let at = 0;
    const end = buf.length;
    while (end - at >= 9) {
      const len = (buf[at]! << 16) | (buf[at + 1]! << 8) | buf[at + 2]!;
      if (len > OUR_MAX_FRAME) {
        this.#connectionError(`frame of ${len} bytes exceeds our SETTINGS_MAX_FRAME_SIZE`);
        return;
      }
      if (end - at < 9 + len) break;
      const type = buf[at + 3]!;
      const flags = buf[at + 4]!;
      const streamId = buf.readUInt32BE(at + 5) & 0x7fffffff;
      this.#onFrame(buf, at + 9, len, type, flags, streamId);
      if (this.#closed) return;
      at += 9 + len;
    }
    if (at < end) this.#carry = shared ? Buffer.from(buf.subarray(at)) : buf.subarray(at);
  }

  #onFrame(buf: Buffer, p: number, len: number, type: number, flags: number, streamId: number): void {
    switch (type) {
      case FrameType.Data:
        this.#onDataFrame(buf, p, len, flags, streamId);
        return;
      case FrameType.Headers:
        this.#onHeaders(buf, p, len, flags, streamId);
        return;
      case FrameType.Continuation: {
        const h = this.#streams.get(streamId);
        if (!h || !h.headerParts) return;
        h.bytesReceived += 9 + len;
        h.headerParts.push(Buffer.from(buf.subarray(p, p + len)));
        if (flags & FLAG_END_HEADERS) {
          const block = Buffer.concat(h.headerParts);
          h.headerParts = null;
          this.#onHeaderBlock(h, block, 0, block.length, h.headersEndStream);
        }
        return;
      }
      case FrameType.RstStream:
        this.#onRstStream(buf.readUInt32BE(p), streamId);
        return;
      case FrameType.Settings:
        if (!(flags & FLAG_ACK)) this.#onSettings(buf, p, len);
        return;
      case FrameType.Ping:
        if (!(flags & FLAG_ACK)) this.#queue(frame(FrameType.Ping, FLAG_ACK, 0, Buffer.from(buf.subarray(p, p + 8))));
        return;
      case FrameType.Goaway:
        this.#onGoaway(buf.readUInt32BE(p) & 0x7fffffff, buf.readUInt32BE(p + 4));
        return;
      case FrameType.WindowUpdate:
        this.#onWindowUpdate(buf.readUInt32BE(p) & 0x7fffffff, streamId);
        return;
      case FrameType.PushPromise:
        this.#connectionError('PUSH_PROMISE received although SETTINGS_ENABLE_PUSH is 0');
        return;
      default:
        // PRIORITY and unknown frame types are ignored (RFC 9113 §4.1).
        return;
    }
  }

  #onDataFrame(buf: Buffer, p: number, len: number, flags: number, streamId: number): void {
    // Flow control counts the whole payload, padding included.
    this.#recvUnacked += len;
    if (this.#recvUnacked >= CONNECTION_WINDOW / 2) {
      this.#windowUpdate(0, this.#recvUnacked);
      this.#recvUnacked = 0;
    }
    const h = this.#streams.get(streamId);
    if (!h) return;
    h.bytesReceived += 9 + len;
    if (flags & FLAG_END_STREAM) {
      this.#endStream(h);
      return;
    }
    h.recvUnacked += len;
    if (h.recvUnacked >= STREAM_WINDOW / 2) {
      this.#windowUpdate(streamId, h.recvUnacked);
      h.recvUnacked = 0;
    }
    void buf;
  }

  #onHeaders(buf: Buffer, p: number, len: number, flags: number, streamId: number): void {
    const h = this.#streams.get(streamId);
    if (!h) return;
    if (h.firstByteAt === 0) h.firstByteAt = this.#readAt;
    h.bytesReceived += 9 + len;
    let from = p;
    let to = p + len;
    if (flags & FLAG_PADDED) {
      to -= buf[from]!;
      from += 1;
    }
    if (flags & FLAG_PRIORITY) from += 5;
    const endStream = (flags & FLAG_END_STREAM) !== 0;
    if (!(flags & FLAG_END_HEADERS)) {
      h.headerParts = [Buffer.from(buf.subarray(from, to))];
      h.headersEndStream = endStream;
      return;
    }
    this.#onHeaderBlock(h, buf, from, to, endStream);
  }

  #onHeaderBlock(h: H2Handle, buf: Buffer, from: number, to: number, endStream: boolean): void {
    if (h.status === 0 || h.status < 200) {
      const status = decodeStatus(buf, from, to);
      if (status < 0) {
        this.#connectionError('response header block does not start with a :status the fast path can read');
        return;
      }
      // Informational (1xx) responses come before the final one.
      h.status = status;
    }
    // gRPC: the status is in the trailers (or in the headers of a trailers-only response).
    if (h.origin.version === 'grpc') {
      const g = readGrpcStatus(buf, from, to);
      if (g >= 0) h.grpcStatus = g;
    }
    // A header block after the final status is the trailer section.
    if (endStream) this.#endStream(h);
  }

  #endStream(h: H2Handle): void {
    if (!this.#streams.delete(h.streamId)) return;
    this.active--;
    h.finish(this.#readAt);
    this.#afterStreamEnd();
  }

  #onRstStream(code: number, streamId: number): void {
    const h = this.#streams.get(streamId);
    if (!h) return;
    this.#streams.delete(streamId);
    this.active--;
    if (code === ERR_REFUSED_STREAM && !h.retried) {
      // Not processed by the server: safe to retry (RFC 9113 §8.7).
      h.retried = true;
      this.#pool.retry(h);
    } else h.fail('reset', `HTTP/2 stream reset by the server (error code ${code})`);
    this.#afterStreamEnd();
  }

  #onSettings(buf: Buffer, p: number, len: number): void {
    for (let i = p; i + 6 <= p + len; i += 6) {
      const id = buf.readUInt16BE(i);
      const value = buf.readUInt32BE(i + 2);
      if (id === SETTINGS_MAX_CONCURRENT_STREAMS) this.streamLimit = Math.min(this.#pool.options.maxStreams, value);
      else if (id === SETTINGS_INITIAL_WINDOW_SIZE) {
        const delta = value - this.#peerInitialWindow;
        this.#peerInitialWindow = value;
        for (const h of this.#streams.values()) h.sendWindow += delta;
      } else if (id === SETTINGS_MAX_FRAME_SIZE) this.#peerMaxFrame = value;
    }
    this.#queue(frame(FrameType.Settings, FLAG_ACK, 0, null));
    this.#unblock();
    if (!this.ready) {
      this.ready = true;
      this.#pool.dispatch();
    } else if (this.active < this.streamLimit) this.#pool.dispatch();
  }

  #onGoaway(lastStreamId: number, code: number): void {
    this.#pool.counters.goaways++;
    this.#drain();
    // Streams above the last one the server will process were not processed: retry elsewhere.
    for (const [id, h] of [...this.#streams]) {
      if (id <= lastStreamId) continue;
      this.#streams.delete(id);
      this.active--;
      if (!h.retried) {
        h.retried = true;
        this.#pool.retry(h);
      } else h.fail('reset', `HTTP/2 GOAWAY (error code ${code}) before the stream was processed`);
    }
    this.#afterStreamEnd();
  }

  #onWindowUpdate(inc: number, streamId: number): void {
    if (streamId === 0) this.#sendWindow += inc;
    else {
      const h = this.#streams.get(streamId);
      if (h) h.sendWindow += inc;
    }
    this.#unblock();
  }

  #unblock(): void {
    if (this.#blocked.length === 0) return;
    const list = this.#blocked;
    this.#blocked = [];
    for (const h of list) if (h.session === this && h.bodyLeft) this.#sendBody(h);
  }

  #windowUpdate(streamId: number, inc: number): void {
    const b = Buffer.allocUnsafe(4);
    b.writeUInt32BE(inc, 0);
    this.#queue(frame(FrameType.WindowUpdate, 0, streamId, b));
  }

  /** No new streams on this session; it closes once its last stream ends. */
  #drain(): void {
    if (this.draining) return;
    this.draining = true;
    this.#pool.removeSession(this);
  }

  #afterStreamEnd(): void {
    if (this.draining) {
      if (this.active === 0) this.destroy();
      return;
    }
    if (this.active < this.streamLimit) this.#pool.dispatch();
  }

  #connectionError(detail: string): void {
    const code = Buffer.alloc(8);
    code.writeUInt32BE(Math.max(0, this.#nextStreamId - 2), 0);
    code.writeUInt32BE(ERR_PROTOCOL, 4);
    if (this.#connected) this.#socket.write(frame(FrameType.Goaway, 0, 0, code));
    this.#terminate('protocol', detail);
  }

  /** Fails every stream of the session (and the pool's waiters if it never came up). */
  #terminate(kind: NetworkErrorKind, detail: string): void {
    if (this.#closed) return;
    this.#closed = true;
    const wasReady = this.ready;
    this.ready = false;
    if (!this.#socket.destroyed) this.#socket.destroy();
    const streams = [...this.#streams.values()];
    this.#streams.clear();
    this.active = 0;
    for (const h of streams) h.fail(kind, detail);
    const i = this.#pool.sessions.indexOf(this);
    if (i >= 0) this.#pool.sessions.splice(i, 1);
    // A connection that never became usable fails what waits (as a connect error) instead of
    // reconnecting in a loop; the VUs' next iterations try again.
    if (!wasReady && !this.draining) this.#pool.failWaiting(kind, detail, this.#connected ? this.#connectMs : engineNow() - this.#connectStartedAt);
    else this.#pool.dispatch();
  }

  /** Closes the socket without failing anything (run over, or drained). */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#streams.clear();
    this.active = 0;
    if (!this.#socket.destroyed) this.#socket.destroy();
    const i = this.#pool.sessions.indexOf(this);
    if (i >= 0) this.#pool.sessions.splice(i, 1);
  }
}

function poolKey(o: Origin): string {
  return `${o.protocol}//${o.authority}|${o.host}:${o.port}`;
}

/** Creates the HTTP/2 transport of a thread. */
export function createHttp2Transport(options: Http2Options): Http2Transport {
  const counters: Http2Counters = { goaways: 0, streamLimitWaits: 0, refusedStreams: 0, sessions: 0 };
  const framed = new Map<string, FramedPool>();
  const nodePools = new Map<string, NodeHttp2Pool>();
  return {
    name: 'http2',
    connect(origin: Origin, opts: { keepResponse: boolean }): Connection {
      const key = poolKey(origin);
      if (opts.keepResponse) {
        let pool = nodePools.get(key);
        if (!pool) {
          pool = new NodeHttp2Pool(origin, options, counters);
          nodePools.set(key, pool);
        }
        return pool.handle();
      }
      let pool = framed.get(key);
      if (!pool) {
        pool = new FramedPool(origin, options, counters);
        framed.set(key, pool);
      }
      return new H2Handle(pool, origin);
    },
    counters: () => ({ ...counters }),
    close(): void {
      for (const p of framed.values()) p.close();
      for (const p of nodePools.values()) p.close();
      framed.clear();
      nodePools.clear();
    },
  };
}

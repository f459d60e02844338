import * as net from 'node:net';
import { engineNow } from '../engine-clock.js';
import { connectTls, isTlsErrorCode } from './tls.js';
import type { Connection, Exchange, NetworkErrorKind, Origin, Transport } from './transport.js';

const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);
/** Bytes decoded to find the end of the header block; longer blocks fall back to Buffer.indexOf. */
const HEAD_PEEK_BYTES = 2048;
/** Read buffer of the fast path, shared by all its connections on this thread (see #open). */
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

const enum BodyMode {
  None,
  Length,
  Chunked,
  UntilClose,
}

const enum ChunkState {
  Size,
  Data,
  DataCrlf,
  Trailers,
}

/** Maps a socket error to the kind we count. */
export function classifySocketError(err: NodeJS.ErrnoException): NetworkErrorKind {
  switch (err.code) {
    case 'ECONNREFUSED':
      return 'connect_refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
      return 'dns';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'reset';
    case 'ETIMEDOUT':
      return 'timeout';
    default:
      if (isTlsErrorCode(err.code)) return 'tls';
      return 'network';
  }
}

/**
 * An HTTP/1.1 keep-alive connection over a raw socket with a minimal response parser.
 * It parses only what framing needs (status, Content-Length, Transfer-Encoding, Connection) and
 * keeps headers and body only when asked, which is what makes the static fast path cheap.
 */
class Http1Connection implements Connection {
  readonly #origin: Origin;
  readonly #keepResponse: boolean;
  #socket: net.Socket | null = null;
  #connected = false;
  #connectStartedAt = 0;
  #connectMs = 0;
  #pendingPayload: Buffer | null = null;

  #callback: ((result: Exchange) => void) | null = null;
  #isHead = false;
  startedAt = 0;
  #sentAt = 0;
  #firstByteAt = 0;
  /** Engine time the latest chunk arrived: the end of the exchange when it completes the response. */
  #chunkAt = 0;
  #bytesSent = 0;
  #bytesReceived = 0;

  // parser state
  #headerBuf: Buffer = EMPTY;
  #headersDone = false;
  #status = 0;
  #rawHeaders: string | null = null;
  #bodyMode = BodyMode.None;
  #remaining = 0;
  #chunkState = ChunkState.Size;
  #chunkLine = '';
  #bodyParts: Buffer[] | null = null;
  #closeAfter = false;
  /**
   * Without full responses, one Exchange object is reused for every exchange of the connection
   * (saves an allocation per request on the fast path); callers must not keep it past the callback.
   */
  readonly #reused: Exchange | null;

  constructor(origin: Origin, keepResponse: boolean) {
    this.#origin = origin;
    this.#keepResponse = keepResponse;
    this.#reused = keepResponse
      ? null
      : { status: 0, error: null, errorDetail: null, sentAt: 0, firstByteAt: 0, endedAt: 0, connectMs: 0, bytesSent: 0, bytesReceived: 0, rawHeaders: null, body: null };
  }

  get busy(): boolean {
    return this.#callback !== null;
  }

  exchange(payload: Buffer, method: string, callback: (result: Exchange) => void): void {
    if (this.#callback) throw new Error('Http1Connection: exchange while busy');
    this.#callback = callback;
    this.#isHead = method === 'HEAD';
    this.startedAt = engineNow();
    this.#resetParser();
    this.#bytesSent = payload.length;
    this.#bytesReceived = 0;
    this.#firstByteAt = 0;
    this.#sentAt = 0;
    if (this.#socket && this.#connected) {
      this.#connectMs = 0;
      this.#sentAt = this.startedAt;
      this.#socket.write(payload);
      return;
    }
    this.#pendingPayload = payload;
    if (!this.#socket) this.#open();
  }

  #open(): void {
    const o = this.#origin;
    this.#connectStartedAt = engineNow();
    const socket =
      o.protocol === 'https:'
        ? connectTls(o, ['http/1.1'])
        : // Read into one buffer shared by every connection of the thread instead of through the
          // Readable stream (no Buffer allocation and stream bookkeeping per read). Safe because
          // #onData consumes each read synchronously and copies what it keeps (#keep).
          net.connect({
            host: o.host,
            port: o.port,
            onread: {
              buffer: sharedReadBuffer,
              callback: (bytes: number, buf: Uint8Array): boolean => {
                if (this.#socket === socket) this.#onData((buf as Buffer).subarray(0, bytes));
                return true;
              },
            },
          });
    socket.setNoDelay(true);
    this.#socket = socket;
    this.#connected = false;
    socket.once(o.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
      if (this.#socket !== socket) return;
      this.#connected = true;
      const now = engineNow();
      this.#connectMs = now - this.#connectStartedAt;
      const payload = this.#pendingPayload;
      this.#pendingPayload = null;
      if (payload) {
        this.#sentAt = now;
        socket.write(payload);
      }
    });
    if (o.protocol === 'https:') {
      socket.on('data', (chunk: Buffer) => {
        if (this.#socket === socket) this.#onData(chunk);
      });
    }
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (this.#socket !== socket) return;
      this.#teardown();
      this.#fail(classifySocketError(err), err.code ?? err.message);
    });
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#teardown();
      if (this.#callback) {
        if (this.#headersDone && this.#bodyMode === BodyMode.UntilClose) {
          this.#chunkAt = engineNow();
          this.#finish();
        } else this.#fail('reset', 'connection closed before the response completed');
      }
    });
  }

  #teardown(): void {
    const s = this.#socket;
    this.#socket = null;
    this.#connected = false;
    this.#pendingPayload = null;
    if (s && !s.destroyed) s.destroy();
  }

  #resetParser(): void {
    this.#headerBuf = EMPTY;
    this.#headersDone = false;
    this.#status = 0;
    this.#rawHeaders = null;
    this.#bodyMode = BodyMode.None;
    this.#remaining = 0;
    this.#chunkState = ChunkState.Size;
    this.#chunkLine = '';
    this.#bodyParts = null;
    this.#closeAfter = false;
  }

  #onData(chunk: Buffer): void {
    if (!this.#callback) {
      // Unsolicited bytes on an idle keep-alive connection: the server is misbehaving; drop the socket.
      this.#teardown();
      return;
    }
    const now = engineNow();
    this.#chunkAt = now;
    if (this.#firstByteAt === 0) this.#firstByteAt = now;
    this.#bytesReceived += chunk.length;
    let data = chunk;
    let from = 0;
    if (!this.#headersDone) {
      const buf = this.#headerBuf.length ? Buffer.concat([this.#headerBuf, chunk]) : chunk;
      // One latin1 decode of the start of the chunk serves both the header-end search and the
      // header parse (a native Buffer.indexOf plus a second decode cost more per response).
      let head = buf.toString('latin1', 0, buf.length < HEAD_PEEK_BYTES ? buf.length : HEAD_PEEK_BYTES);
      let end = head.indexOf('\r\n\r\n');
      if (end === -1 && buf.length > HEAD_PEEK_BYTES) {
        end = buf.indexOf(CRLFCRLF);
        if (end !== -1) head = buf.toString('latin1', 0, end);
      }
      if (end === -1) {
        if (buf.length > 64 * 1024) {
          this.#teardown();
          this.#fail('protocol', 'response header block larger than 64 KiB');
          return;
        }
        this.#headerBuf = buf === chunk ? Buffer.from(chunk) : buf;
        return;
      }
      this.#headerBuf = EMPTY;
      if (!this.#parseHead(head.length === end ? head : head.slice(0, end))) return;
      data = buf;
      from = end + 4;
      if (this.#status >= 100 && this.#status < 200 && this.#status !== 101) {
        // Interim response (100 Continue): start over for the final one.
        this.#resetParser();
        if (data.length > from) this.#onDataAfterFirstByte(data.subarray(from));
        return;
      }
    }
    // The body is consumed from an offset: no subarray (a Buffer object) per response.
    this.#consumeBody(data, from);
  }

  #onDataAfterFirstByte(data: Buffer): void {
    this.#bytesReceived -= data.length;
    this.#onData(data);
  }

  /** Parses status line and the framing headers. Returns false when it failed the exchange. */
  #parseHead(head: string): boolean {
    // "HTTP/1.1 200 OK"
    const status = head.charCodeAt(9) * 100 + head.charCodeAt(10) * 10 + head.charCodeAt(11) - 5328;
    if (!head.startsWith('HTTP/1.') || !(status >= 100 && status <= 999)) {
      this.#teardown();
      this.#fail('protocol', `malformed status line: ${JSON.stringify(head.slice(0, 40))}`);
      return false;
    }
    this.#status = status;
    this.#headersDone = true;
    if (this.#keepResponse) this.#rawHeaders = head;
    let contentLength = -1;
    let chunked = false;
    let close = head.charCodeAt(7) === 48; // HTTP/1.0 defaults to close
    let lineStart = head.indexOf('\r\n') + 2;
    while (lineStart > 1 && lineStart < head.length) {
      let lineEnd = head.indexOf('\r\n', lineStart);
      if (lineEnd === -1) lineEnd = head.length;
      const c = head.charCodeAt(lineStart) | 0x20;
      if (c === 0x63 /* c */ || c === 0x74 /* t */) {
        // Match the framing header names by length and case-insensitive compare, with no
        // substring or lower-case allocations for the headers we skip.
        const colon = head.indexOf(':', lineStart);
        if (colon > 0 && colon < lineEnd) {
          const nameLength = colon - lineStart;
          if (nameLength === 14 && equalsLower(head, lineStart, 'content-length')) contentLength = parseDecimal(head, colon + 1, lineEnd);
          else if (nameLength === 17 && equalsLower(head, lineStart, 'transfer-encoding')) chunked = head.slice(colon + 1, lineEnd).toLowerCase().includes('chunked');
          else if (nameLength === 10 && equalsLower(head, lineStart, 'connection')) {
            const v = head.slice(colon + 1, lineEnd).trim().toLowerCase();
            if (v === 'close') close = true;
            else if (v === 'keep-alive') close = false;
          }
        }
      }
      lineStart = lineEnd + 2;
    }
    this.#closeAfter = close;
    if (this.#isHead || status === 204 || status === 304) this.#bodyMode = BodyMode.None;
    else if (chunked) this.#bodyMode = BodyMode.Chunked;
    else if (contentLength >= 0) {
      this.#bodyMode = contentLength > 0 ? BodyMode.Length : BodyMode.None;
      this.#remaining = contentLength;
    } else this.#bodyMode = BodyMode.UntilClose;
    if (this.#keepResponse && this.#bodyMode !== BodyMode.None) this.#bodyParts = [];
    return true;
  }

  #consumeBody(data: Buffer, from: number): void {
    switch (this.#bodyMode) {
      case BodyMode.None:
        this.#finish();
        return;
      case BodyMode.Length: {
        const available = data.length - from;
        const take = this.#remaining < available ? this.#remaining : available;
        if (this.#bodyParts && take > 0) this.#bodyParts.push(this.#keep(data, from, from + take));
        this.#remaining -= take;
        if (this.#remaining === 0) this.#finish();
        return;
      }
      case BodyMode.UntilClose:
        if (this.#bodyParts && data.length > from) this.#bodyParts.push(this.#keep(data, from, data.length));
        return;
      case BodyMode.Chunked:
        this.#consumeChunked(data, from);
        return;
    }
  }

  /** Bytes `start..end` of a read, as a Buffer the caller may keep (a copy when reads share a buffer). */
  #keep(data: Buffer, start: number, end: number): Buffer {
    if (this.#origin.protocol === 'http:') return Buffer.from(data.subarray(start, end));
    return start === 0 && end === data.length ? data : data.subarray(start, end);
  }

  #consumeChunked(data: Buffer, from: number): void {
    let i = from;
    while (i < data.length) {
      switch (this.#chunkState) {
        case ChunkState.Size: {
          const nl = data.indexOf(10, i);
          if (nl === -1) {
            this.#chunkLine += data.toString('latin1', i, data.length);
            return;
          }
          this.#chunkLine += data.toString('latin1', i, nl);
          i = nl + 1;
          const size = parseInt(this.#chunkLine, 16);
          this.#chunkLine = '';
          if (Number.isNaN(size)) {
            this.#teardown();
            this.#fail('protocol', 'malformed chunk size');
            return;
          }
          if (size === 0) this.#chunkState = ChunkState.Trailers;
          else {
            this.#remaining = size;
            this.#chunkState = ChunkState.Data;
          }
          break;
        }
        case ChunkState.Data: {
          const take = Math.min(this.#remaining, data.length - i);
          if (this.#bodyParts) this.#bodyParts.push(this.#keep(data, i, i + take));
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#chunkState = ChunkState.DataCrlf;
          break;
        }
        case ChunkState.DataCrlf: {
          const nl = data.indexOf(10, i);
          if (nl === -1) return;
          i = nl + 1;
          this.#chunkState = ChunkState.Size;
          break;
        }
        case ChunkState.Trailers: {
          // Trailer section ends with an empty line; we ignore trailer fields.
          const nl = data.indexOf(10, i);
          if (nl === -1) {
            this.#chunkLine += data.toString('latin1', i, data.length);
            return;
          }
          const line = this.#chunkLine + data.toString('latin1', i, nl);
          this.#chunkLine = '';
          i = nl + 1;
          if (line === '' || line === '\r') {
            this.#finish();
            return;
          }
          break;
        }
      }
    }
  }

  #finish(): void {
    const cb = this.#callback;
    if (!cb) return;
    this.#callback = null;
    const parts = this.#bodyParts;
    const reused = this.#reused;
    let result: Exchange;
    if (reused) {
      reused.status = this.#status;
      reused.error = null;
      reused.errorDetail = null;
      reused.sentAt = this.#sentAt || this.startedAt;
      reused.firstByteAt = this.#firstByteAt;
      reused.endedAt = this.#chunkAt;
      reused.connectMs = this.#connectMs;
      reused.bytesSent = this.#bytesSent;
      reused.bytesReceived = this.#bytesReceived;
      result = reused;
    } else {
      result = {
        status: this.#status,
        error: null,
        errorDetail: null,
        sentAt: this.#sentAt || this.startedAt,
        firstByteAt: this.#firstByteAt,
        endedAt: this.#chunkAt,
        connectMs: this.#connectMs,
        bytesSent: this.#bytesSent,
        bytesReceived: this.#bytesReceived,
        rawHeaders: this.#rawHeaders,
        body: parts ? (parts.length === 1 ? parts[0]! : Buffer.concat(parts)) : null,
      };
    }
    if (this.#closeAfter) this.#teardown();
    cb(result);
  }

  #fail(kind: NetworkErrorKind, detail: string): void {
    const cb = this.#callback;
    if (!cb) return;
    this.#callback = null;
    const now = engineNow();
    cb({
      status: 0,
      error: kind,
      errorDetail: detail,
      sentAt: this.#sentAt || this.startedAt,
      firstByteAt: this.#firstByteAt,
      endedAt: now,
      connectMs: this.#connectMs,
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
      rawHeaders: null,
      body: null,
    });
  }

  abort(kind: NetworkErrorKind, detail: string): void {
    this.#teardown();
    this.#fail(kind, detail);
  }

  close(): void {
    this.#callback = null;
    this.#teardown();
  }
}

/** True when `s` at `at` holds `lower` case-insensitively (ASCII; `lower` is lower-case). */
function equalsLower(s: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((s.charCodeAt(at + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Parses a non-negative decimal between `from` and `to`, skipping spaces and tabs; -1 when malformed. */
function parseDecimal(s: string, from: number, to: number): number {
  let i = from;
  while (i < to && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  let end = to;
  while (end > i && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  if (i === end) return -1;
  let n = 0;
  for (; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** HTTP/1.1 over TCP or TLS with keep-alive. */
export const http1Transport: Transport = {
  name: 'http1',
  connect(origin: Origin, options: { keepResponse: boolean }): Connection {
    return new Http1Connection(origin, options.keepResponse);
  },
};

import * as net from 'node:net';
import { engineNow } from '../engine-clock.js';
import {
  MAX_CHUNK_LINE_BYTES,
  MAX_HEADER_BLOCK_BYTES,
  MAX_INTERIM_RESPONSES,
  parseChunkSize,
  parseContentLength,
  parseStatusCode,
  transferFraming,
} from './http1-framing.js';
import { CacheScan, cacheHeaderId } from '../cache-verdict.js';
import { watchConnectPhases, type ConnectPhases } from './phases.js';
import { awaitTunnel, connectRequest, refusedMessage, type ProxyTarget } from './proxy.js';
import { connectTls, isTlsErrorCode } from './tls.js';
import type { Connection, Exchange, ExchangeOptions, NetworkErrorKind, Origin, Transport } from './transport.js';

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
  /** Expecting the CR (or a bare LF) that ends a chunk's data. */
  DataCr,
  /** Expecting the LF after that CR. */
  DataLf,
  Trailers,
}

/** Default body limit of connections that keep full responses (scripted requests): 10 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

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
    case 'EMFILE':
    case 'ENFILE':
      // The generator is out of file descriptors: its own limit, not the target's failure.
      return 'generator';
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
  #phases: ConnectPhases | null = null;

  #callback: ((result: Exchange) => void) | null = null;
  #isHead = false;
  /** GET or HEAD: what the cache-problem rules count as a cacheable-looking request. */
  #isGet = false;
  /** Cache headers of the response being parsed (see cache-verdict.ts). */
  readonly #cacheScan = new CacheScan();
  #cache = 0;
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
  /** A kept body of known length is copied into one buffer of that length (no second copy to join parts). */
  #bodyBuf: Buffer | null = null;
  #closeAfter = false;
  /** Interim (1xx) responses seen in this exchange. */
  #interim = 0;
  /** Body bytes kept so far, against #maxBodyBytes. */
  #bodyBytes = 0;
  #maxBodyBytes = DEFAULT_MAX_BODY_BYTES;
  #discardBody = false;
  /** Bytes of the trailer section so far, against MAX_HEADER_BLOCK_BYTES. */
  #trailerBytes = 0;
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
      : { status: 0, error: null, errorDetail: null, sentAt: 0, firstByteAt: 0, endedAt: 0, connectMs: 0, bytesSent: 0, bytesReceived: 0, rawHeaders: null, body: null, cache: 0 };
  }

  get busy(): boolean {
    return this.#callback !== null;
  }

  exchange(payload: Buffer, method: string, callback: (result: Exchange) => void, options?: ExchangeOptions): void {
    if (this.#callback) throw new Error('Http1Connection: exchange while busy');
    this.#callback = callback;
    this.#isHead = method === 'HEAD';
    this.#isGet = this.#isHead || method === 'GET';
    this.startedAt = engineNow();
    this.#resetParser();
    this.#interim = 0;
    this.#maxBodyBytes = options?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#discardBody = options?.discardBody ?? false;
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
    if (o.proxy) {
      this.#openViaProxy(o.proxy);
      return;
    }
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
    this.#phases = watchConnectPhases(socket, this.#connectStartedAt, engineNow, o.protocol === 'https:');
    socket.once(o.protocol === 'https:' ? 'secureConnect' : 'connect', () => this.#onConnected(socket));
    if (o.protocol === 'https:') this.#readByEvents(socket);
    this.#watch(socket);
  }

  /** The connection is up (TCP, TLS, or a tunnel): send what waited for it. */
  #onConnected(socket: net.Socket): void {
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
  }

  #readByEvents(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket === socket) this.#onData(chunk);
    });
  }

  /**
   * Opens a CONNECT tunnel through the proxy, then speaks HTTP/1.1 (over TLS for https) inside
   * it. The connect phases time the proxy's TCP connection; `connectMs` runs until the tunnel (and
   * its TLS handshake) is up. A refused CONNECT fails the exchange as `proxy`.
   */
  #openViaProxy(proxy: ProxyTarget): void {
    const o = this.#origin;
    this.#connectStartedAt = engineNow();
    const raw = net.connect({ host: proxy.host, port: proxy.port });
    raw.setNoDelay(true);
    this.#socket = raw;
    this.#connected = false;
    this.#phases = watchConnectPhases(raw, this.#connectStartedAt, engineNow, false);
    raw.once('connect', () => raw.write(connectRequest(proxy, o)));
    this.#watch(raw);
    awaitTunnel(
      raw,
      () => {
        if (this.#socket !== raw) return;
        if (o.protocol === 'https:') {
          const secure = connectTls(o, ['http/1.1'], raw);
          this.#socket = secure;
          secure.once('secureConnect', () => this.#onConnected(secure));
          this.#readByEvents(secure);
          this.#watch(secure);
        } else {
          this.#readByEvents(raw);
          this.#onConnected(raw);
        }
      },
      (status, line) => {
        if (this.#socket !== raw) return;
        this.#teardown();
        this.#fail('proxy', refusedMessage(proxy, o, status, line));
      },
    );
  }

  /** Error and close handling of the connection's current socket. */
  #watch(socket: net.Socket): void {
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
    this.#bodyBuf = null;
    this.#closeAfter = false;
    this.#bodyBytes = 0;
    this.#trailerBytes = 0;
    this.#cache = 0;
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
        if (buf.length > MAX_HEADER_BLOCK_BYTES) {
          this.#protocolError(`response header block larger than ${MAX_HEADER_BLOCK_BYTES / 1024} KiB`);
          return;
        }
        this.#headerBuf = buf === chunk ? Buffer.from(chunk) : buf;
        return;
      }
      this.#headerBuf = EMPTY;
      if (end > MAX_HEADER_BLOCK_BYTES) {
        this.#protocolError(`response header block larger than ${MAX_HEADER_BLOCK_BYTES / 1024} KiB`);
        return;
      }
      if (!this.#parseHead(head.length === end ? head : head.slice(0, end))) return;
      data = buf;
      from = end + 4;
      if (this.#status >= 100 && this.#status < 200 && this.#status !== 101) {
        // Interim response (100 Continue): start over for the final one. Bounded, so a server
        // that sends nothing but 1xx cannot recurse without end.
        if (++this.#interim > MAX_INTERIM_RESPONSES) {
          this.#protocolError(`more than ${MAX_INTERIM_RESPONSES} interim (1xx) responses`);
          return;
        }
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
    const status = parseStatusCode(head);
    if (status < 0) {
      const lineEnd = head.indexOf('\r\n');
      return this.#protocolError(`malformed status line: ${JSON.stringify(head.slice(0, Math.min(lineEnd === -1 ? head.length : lineEnd, 60)))}`);
    }
    this.#status = status;
    this.#headersDone = true;
    if (this.#keepResponse) this.#rawHeaders = head;
    let contentLength = -1;
    let transferEncoding: string | null = null;
    let close = head.charCodeAt(7) === 48; // HTTP/1.0 defaults to close
    let cacheSeen = false;
    let lineStart = head.indexOf('\r\n') + 2;
    while (lineStart > 1 && lineStart < head.length) {
      let lineEnd = head.indexOf('\r\n', lineStart);
      if (lineEnd === -1) lineEnd = head.length;
      const first = head.charCodeAt(lineStart);
      // Obsolete line folding (RFC 9112 §5.2) could hide a framing header from us.
      if (first === 32 || first === 9) return this.#protocolError('obsolete line folding in a response header');
      const c = first | 0x20;
      if (c === 0x63 /* c */ || c === 0x74 /* t */ || CACHE_FIRST_LETTERS[c] === 1) {
        // Match the framing (and cache) header names by length and case-insensitive compare,
        // with no substring or lower-case allocations for the headers we skip.
        const colon = head.indexOf(':', lineStart);
        if (colon > 0 && colon < lineEnd) {
          const nameLength = colon - lineStart;
          const cacheId = c === 0x74 ? -1 : cacheHeaderId(head, lineStart, nameLength);
          if (cacheId >= 0) {
            if (!cacheSeen) {
              cacheSeen = true;
              this.#cacheScan.reset();
            }
            this.#cacheScan.add(cacheId, head.slice(colon + 1, lineEnd));
          } else if (nameLength === 14 && equalsLower(head, lineStart, 'content-length')) {
            const n = parseContentLength(head, colon + 1, lineEnd);
            if (n < 0) return this.#protocolError(`invalid Content-Length ${JSON.stringify(head.slice(colon + 1, Math.min(lineEnd, colon + 41)).trim())}`);
            if (contentLength >= 0 && n !== contentLength) return this.#protocolError(`conflicting Content-Length headers (${contentLength} and ${n})`);
            contentLength = n;
          } else if (nameLength === 17 && equalsLower(head, lineStart, 'transfer-encoding')) {
            const v = head.slice(colon + 1, lineEnd);
            transferEncoding = transferEncoding === null ? v : `${transferEncoding},${v}`;
          } else if (nameLength === 10 && equalsLower(head, lineStart, 'connection')) {
            const v = head.slice(colon + 1, lineEnd).trim().toLowerCase();
            if (v === 'close') close = true;
            else if (v === 'keep-alive') close = false;
          }
        }
      }
      lineStart = lineEnd + 2;
    }
    if (cacheSeen) this.#cache = this.#cacheScan.result(this.#isGet, status);
    let chunked = false;
    let untilClose = false;
    if (transferEncoding !== null) {
      const framing = transferFraming(transferEncoding);
      if (framing === 'invalid') return this.#protocolError(`invalid Transfer-Encoding ${JSON.stringify(transferEncoding.trim().slice(0, 40))}`);
      // Both framings at once is how responses are smuggled (RFC 9112 §6.3): trust neither.
      if (contentLength >= 0) return this.#protocolError('both Transfer-Encoding and Content-Length in one response');
      chunked = framing === 'chunked';
      untilClose = !chunked;
    }
    this.#closeAfter = close;
    if (this.#isHead || status === 204 || status === 304 || status < 200) this.#bodyMode = BodyMode.None;
    else if (chunked) this.#bodyMode = BodyMode.Chunked;
    else if (contentLength >= 0 && !untilClose) {
      this.#bodyMode = contentLength > 0 ? BodyMode.Length : BodyMode.None;
      this.#remaining = contentLength;
    } else this.#bodyMode = BodyMode.UntilClose;
    if (this.#bodyMode === BodyMode.UntilClose) this.#closeAfter = true;
    if (this.#keepResponse && this.#bodyMode !== BodyMode.None && !this.#discardBody) {
      if (this.#bodyMode === BodyMode.Length) {
        if (contentLength > this.#maxBodyBytes) {
          this.#teardown();
          this.#fail('body_too_large', `response body larger than the limit of ${this.#maxBodyBytes} bytes (Content-Length ${contentLength})`);
          return false;
        }
        this.#bodyBuf = Buffer.allocUnsafe(contentLength);
      }
      this.#bodyParts = [];
    }
    return true;
  }

  /** Fails the exchange as a `protocol` error and closes the connection. Returns false. */
  #protocolError(detail: string): false {
    this.#teardown();
    this.#fail('protocol', detail);
    return false;
  }

  /** Keeps body bytes `start..end` when the caller wants the body; false when that broke the body limit. */
  #keepBody(data: Buffer, start: number, end: number): boolean {
    const parts = this.#bodyParts;
    if (!parts || end <= start) return true;
    const buf = this.#bodyBuf;
    if (buf) {
      // Content-Length framing never delivers more than the length, which is within the limit.
      data.copy(buf, this.#bodyBytes, start, end);
      this.#bodyBytes += end - start;
      return true;
    }
    this.#bodyBytes += end - start;
    if (this.#bodyBytes > this.#maxBodyBytes) {
      this.#teardown();
      this.#fail('body_too_large', `response body larger than the limit of ${this.#maxBodyBytes} bytes`);
      return false;
    }
    parts.push(this.#keep(data, start, end));
    return true;
  }

  #consumeBody(data: Buffer, from: number): void {
    switch (this.#bodyMode) {
      case BodyMode.None:
        this.#finishWithLeftover(from < data.length);
        return;
      case BodyMode.Length: {
        const available = data.length - from;
        const take = this.#remaining < available ? this.#remaining : available;
        if (!this.#keepBody(data, from, from + take)) return;
        this.#remaining -= take;
        if (this.#remaining === 0) this.#finishWithLeftover(take < available);
        return;
      }
      case BodyMode.UntilClose:
        this.#keepBody(data, from, data.length);
        return;
      case BodyMode.Chunked:
        this.#consumeChunked(data, from);
        return;
    }
  }

  /**
   * Finishes the exchange. Bytes after the end of a response were never asked for (we do not
   * pipeline): the connection is out of step with the server, so it is closed instead of reused.
   */
  #finishWithLeftover(leftover: boolean): void {
    if (leftover) this.#closeAfter = true;
    this.#finish();
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
          const lineBytes = this.#chunkLine.length + (nl === -1 ? data.length : nl) - i;
          if (lineBytes > MAX_CHUNK_LINE_BYTES) {
            this.#protocolError(`chunk-size line longer than ${MAX_CHUNK_LINE_BYTES} bytes`);
            return;
          }
          if (nl === -1) {
            this.#chunkLine += data.toString('latin1', i, data.length);
            return;
          }
          let line = this.#chunkLine + data.toString('latin1', i, nl);
          i = nl + 1;
          this.#chunkLine = '';
          if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
          const size = parseChunkSize(line);
          if (size < 0) {
            this.#protocolError(`malformed chunk size ${JSON.stringify(line.slice(0, 40))}`);
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
          if (!this.#keepBody(data, i, i + take)) return;
          this.#remaining -= take;
          i += take;
          if (this.#remaining === 0) this.#chunkState = ChunkState.DataCr;
          break;
        }
        case ChunkState.DataCr:
        case ChunkState.DataLf: {
          const b = data[i]!;
          if (b === 13 && this.#chunkState === ChunkState.DataCr) this.#chunkState = ChunkState.DataLf;
          else if (b === 10) this.#chunkState = ChunkState.Size;
          else {
            this.#protocolError('chunk data not followed by CRLF (chunk longer than its size)');
            return;
          }
          i++;
          break;
        }
        case ChunkState.Trailers: {
          // The trailer section ends with an empty line; trailer fields are ignored, but bounded.
          const nl = data.indexOf(10, i);
          this.#trailerBytes += (nl === -1 ? data.length : nl + 1) - i;
          if (this.#trailerBytes > MAX_HEADER_BLOCK_BYTES) {
            this.#protocolError(`trailer section larger than ${MAX_HEADER_BLOCK_BYTES / 1024} KiB`);
            return;
          }
          if (nl === -1) {
            // Only whether the line is empty matters: keep at most its first two bytes.
            if (this.#chunkLine.length < 2) this.#chunkLine += data.toString('latin1', i, Math.min(data.length, i + 2));
            return;
          }
          const line = this.#chunkLine + data.toString('latin1', i, Math.min(nl, i + 2));
          this.#chunkLine = '';
          i = nl + 1;
          if (line === '' || line === '\r') {
            this.#finishWithLeftover(i < data.length);
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
      reused.phases = this.#connectMs > 0 ? this.#phases : null;
      reused.bytesSent = this.#bytesSent;
      reused.bytesReceived = this.#bytesReceived;
      reused.cache = this.#cache;
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
        phases: this.#connectMs > 0 ? this.#phases : null,
        bytesSent: this.#bytesSent,
        bytesReceived: this.#bytesReceived,
        rawHeaders: this.#rawHeaders,
        body: this.#bodyBuf ?? (parts ? (parts.length === 1 ? parts[0]! : Buffer.concat(parts)) : null),
        cache: this.#cache,
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
      phases: this.#connectMs > 0 ? this.#phases : null,
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

/** Lower-cased first letters of the cache headers other than c (a, e, l, p, s, v, x): 1 where a name may be one. */
const CACHE_FIRST_LETTERS = new Uint8Array(128);
for (const ch of 'aelpsvx') CACHE_FIRST_LETTERS[ch.charCodeAt(0)] = 1;

/** True when `s` at `at` holds `lower` case-insensitively (ASCII; `lower` is lower-case). */
function equalsLower(s: string, at: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    if ((s.charCodeAt(at + i) | 0x20) !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** HTTP/1.1 over TCP or TLS with keep-alive. */
export const http1Transport: Transport = {
  name: 'http1',
  connect(origin: Origin, options: { keepResponse: boolean }): Connection {
    return new Http1Connection(origin, options.keepResponse);
  },
};

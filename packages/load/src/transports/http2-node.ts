import { cacheBitsOfHeaders } from '../cache-verdict.js';
import type * as Http2 from 'node:http2';
import * as net from 'node:net';
import { engineNow } from '../engine-clock.js';
import { h2RequestFromHttp1 } from './h2-request.js';
import { DEFAULT_MAX_BODY_BYTES, classifySocketError } from './http1.js';
import type { Http2Counters, Http2Options } from './http2.js';
import { watchConnectPhases, type ConnectPhases } from './phases.js';
import { connectTls } from './tls.js';
import type { Connection, Exchange, ExchangeOptions, NetworkErrorKind, Origin } from './transport.js';

/**
 * `node:http2`, loaded on first use: every worker thread imports this module, and most runs never
 * speak HTTP/2 from a script.
 */
let http2Module: typeof Http2 | null = null;
function http2(): typeof Http2 {
  return (http2Module ??= process.getBuiltinModule('node:http2'));
}

/** One shared session and how many streams it carries now. */
interface SessionEntry {
  session: Http2.ClientHttp2Session;
  active: number;
  connectMs: number;
  connecting: boolean;
  phases: ConnectPhases;
}

/**
 * HTTP/2 for scripted requests, on `node:http2` client sessions: full response headers (HPACK
 * with its dynamic table and Huffman coding) and bodies, which the fast path's framing skips.
 * Sessions are shared by the VUs of a thread, up to `connections` per origin; nghttp2 queues
 * streams above the server's limit itself.
 */
export class NodeHttp2Pool {
  readonly #origin: Origin;
  readonly #options: Http2Options;
  readonly #counters: Http2Counters;
  readonly #sessions: SessionEntry[] = [];
  readonly #authorityUrl: string;

  constructor(origin: Origin, options: Http2Options, counters: Http2Counters) {
    this.#origin = origin;
    this.#options = options;
    this.#counters = counters;
    const host = origin.host.includes(':') ? `[${origin.host}]` : origin.host;
    this.#authorityUrl = `${origin.protocol}//${host}:${origin.port}`;
  }

  handle(): Connection {
    return new NodeH2Handle(this, this.#origin);
  }

  /** The least-loaded live session, opening one while below `connections`. */
  session(): SessionEntry {
    let best = null as SessionEntry | null;
    for (const s of this.#sessions) if (!s.session.closed && !s.session.destroyed && (!best || s.active < best.active)) best = s;
    if (best && (best.active < this.#options.maxStreams || this.#sessions.length >= this.#options.connections)) {
      if (best.active >= this.#options.maxStreams) this.#counters.streamLimitWaits++;
      return best;
    }
    return this.#open();
  }

  #open(): SessionEntry {
    const o = this.#origin;
    const startedAt = engineNow();
    const phases: ConnectPhases = { dnsMs: 0, tcpMs: 0, tlsMs: 0 };
    const session = http2().connect(this.#authorityUrl, {
      // Our own sockets: TLS material and session resumption, and no Nagle delay (without
      // noDelay, small frames wait for delayed ACKs: tens of ms per round trip).
      createConnection: () => {
        const socket = o.protocol === 'https:' ? connectTls(o, ['h2']) : net.connect({ host: o.host, port: o.port });
        socket.setNoDelay(true);
        const watched = watchConnectPhases(socket, startedAt, engineNow, o.protocol === 'https:');
        // Copied on connect: the session entry keeps one object.
        socket.once(o.protocol === 'https:' ? 'secureConnect' : 'connect', () => Object.assign(phases, watched));
        return socket;
      },
      settings: { enablePush: false },
      peerMaxConcurrentStreams: this.#options.maxStreams,
    });
    this.#counters.sessions++;
    const entry: SessionEntry = { session, active: 0, connectMs: 0, connecting: true, phases };
    session.once('connect', () => {
      entry.connecting = false;
      entry.connectMs = engineNow() - startedAt;
    });
    session.on('goaway', () => {
      this.#counters.goaways++;
      this.#remove(entry);
    });
    session.on('error', () => this.#remove(entry));
    session.on('close', () => this.#remove(entry));
    this.#sessions.push(entry);
    return entry;
  }

  #remove(entry: SessionEntry): void {
    const i = this.#sessions.indexOf(entry);
    if (i >= 0) this.#sessions.splice(i, 1);
  }

  close(): void {
    for (const s of this.#sessions.splice(0)) s.session.destroy();
  }
}

/** A VU's scripted HTTP/2 "connection": one stream at a time on a shared session. */
class NodeH2Handle implements Connection {
  readonly #pool: NodeHttp2Pool;
  readonly #origin: Origin;
  #callback: ((result: Exchange) => void) | null = null;
  #stream: Http2.ClientHttp2Stream | null = null;
  startedAt = 0;

  constructor(pool: NodeHttp2Pool, origin: Origin) {
    this.#pool = pool;
    this.#origin = origin;
  }

  get busy(): boolean {
    return this.#callback !== null;
  }

  exchange(payload: Buffer, _method: string, callback: (result: Exchange) => void, options?: ExchangeOptions): void {
    if (this.#callback) throw new Error('NodeH2Handle: exchange while busy');
    const discardBody = options?.discardBody ?? false;
    const maxBodyBytes = options?.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.#callback = callback;
    const startedAt = (this.startedAt = engineNow());
    const req = h2RequestFromHttp1(payload, this.#origin.authority);
    const entry = this.#pool.session();
    entry.active++;
    const wasConnecting = entry.connecting;
    const headers: Http2.OutgoingHttpHeaders = {
      ':method': req.method,
      ':path': req.path,
      ':authority': req.authority,
      ':scheme': this.#origin.protocol === 'https:' ? 'https' : 'http',
    };
    for (const [name, value] of req.headers) {
      const prev = headers[name];
      headers[name] = prev === undefined ? value : `${String(prev)}, ${value}`;
    }
    let stream: Http2.ClientHttp2Stream;
    try {
      stream = entry.session.request(headers, { endStream: req.body === null });
    } catch (err) {
      entry.active--;
      this.#fail(startedAt, 0, 0, 'protocol', (err as Error).message, payload.length, 0);
      return;
    }
    this.#stream = stream;
    const sentAt = engineNow();
    let firstByteAt = 0;
    let status = 0;
    let rawHeaders = '';
    let cache = 0;
    const parts: Buffer[] = [];
    let bodyBytes = 0;
    let settled = false;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      entry.active--;
      if (this.#stream === stream) this.#stream = null;
      return true;
    };
    const connectMs = (): number => (wasConnecting ? entry.connectMs : 0);
    const phases = (): ConnectPhases | null => (wasConnecting ? entry.phases : null);
    stream.on('response', (h) => {
      firstByteAt = engineNow();
      status = Number(h[':status']) || 0;
      const lines = [`HTTP/2 ${status}`];
      for (const [name, value] of Object.entries(h)) {
        if (name.startsWith(':') || value === undefined) continue;
        if (Array.isArray(value)) for (const v of value) lines.push(`${name}: ${v}`);
        else lines.push(`${name}: ${String(value)}`);
      }
      rawHeaders = lines.join('\r\n');
      cache = cacheBitsOfHeaders(h, req.method === 'GET' || req.method === 'HEAD', status);
    });
    stream.on('data', (chunk: Buffer) => {
      bodyBytes += chunk.length;
      if (discardBody) return;
      if (bodyBytes > maxBodyBytes) {
        // Same limit as HTTP/1.1 scripts: cancel just this stream, the session lives on.
        if (!settle()) return;
        stream.close(http2().constants.NGHTTP2_CANCEL);
        this.#fail(sentAt, firstByteAt, connectMs(), 'body_too_large', `response body larger than the limit of ${maxBodyBytes} bytes`, payload.length, bodyBytes);
        return;
      }
      parts.push(chunk);
    });
    stream.on('end', () => {
      if (!settle()) return;
      const cb = this.#callback;
      this.#callback = null;
      if (!cb) return;
      cb({
        status,
        error: null,
        errorDetail: null,
        sentAt,
        firstByteAt,
        endedAt: engineNow(),
        connectMs: connectMs(),
        phases: phases(),
        // Frame-level byte counts are not exposed by node:http2: headers and bodies as sent and received.
        bytesSent: payload.length,
        bytesReceived: rawHeaders.length + bodyBytes,
        rawHeaders,
        body: discardBody ? null : parts.length === 1 ? parts[0]! : Buffer.concat(parts),
        cache,
      });
    });
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (!settle()) return;
      const code = err.code ?? err.message;
      const kind: NetworkErrorKind = code === 'ERR_HTTP2_STREAM_ERROR' || code === 'ERR_HTTP2_GOAWAY_SESSION' ? 'reset' : code.startsWith('ERR_HTTP2') ? 'protocol' : classifySocketError(err);
      this.#fail(sentAt, firstByteAt, connectMs(), kind, code, payload.length, bodyBytes);
    });
    stream.on('close', () => {
      if (!settle()) return;
      this.#fail(sentAt, firstByteAt, connectMs(), 'reset', `HTTP/2 stream closed (code ${stream.rstCode ?? 0}) before the response completed`, payload.length, bodyBytes);
    });
    if (req.body) stream.end(req.body);
  }

  #fail(sentAt: number, firstByteAt: number, connectMs: number, kind: NetworkErrorKind, detail: string, sent: number, received: number): void {
    const cb = this.#callback;
    this.#callback = null;
    if (!cb) return;
    cb({ status: 0, error: kind, errorDetail: detail, sentAt, firstByteAt, endedAt: engineNow(), connectMs, bytesSent: sent, bytesReceived: received, rawHeaders: null, body: null });
  }

  abort(kind: NetworkErrorKind, detail: string): void {
    const s = this.#stream;
    const cb = this.#callback;
    this.#callback = null;
    this.#stream = null;
    if (s && !s.destroyed) s.close(http2().constants.NGHTTP2_CANCEL);
    if (cb) {
      this.#callback = cb;
      this.#fail(this.startedAt, 0, 0, kind, detail, 0, 0);
    }
  }

  close(): void {
    const s = this.#stream;
    this.#callback = null;
    this.#stream = null;
    if (s && !s.destroyed) s.close(http2().constants.NGHTTP2_CANCEL);
  }
}

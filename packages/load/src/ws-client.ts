/**
 * A lean WebSocket client connection (RFC 6455) over a raw socket: the opening handshake written
 * and checked here, frames by `ws-frames.ts`. Plain `ws://` sockets read through `onread` into one
 * buffer shared by every connection of the thread (as the HTTP/1.1 fast path does), so an open,
 * idle connection holds a socket and this object, and a message costs one read, one decode and
 * one write. Used by `ctx.ws` (script-ws.ts) and the `protocol: 'ws'` fast path (transports/ws-fast.ts).
 */
import { createHash, randomBytes } from 'node:crypto';
import * as net from 'node:net';
import { engineNow } from './engine-clock.js';
import { parseStatusCode } from './transports/http1-framing.js';
import { classifySocketError } from './transports/http1.js';
import { connectTls } from './transports/tls.js';
import type { NetworkErrorKind, Origin } from './transports/transport.js';
import { DEFAULT_MAX_MESSAGE_BYTES, FrameReader, Opcode, closePayload, encodeFrame, type FrameSink } from './ws-frames.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** Largest handshake response head accepted (status line + headers). */
const MAX_HANDSHAKE_BYTES = 16 * 1024;
/** How long a closing connection waits for the server to end the TCP connection before dropping it. */
const CLOSE_WAIT_MS = 5000;
const EMPTY = Buffer.alloc(0);
/** Read buffer of every plain-TCP WebSocket of this thread (consumed synchronously by each read). */
const sharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

/** readyState values, as the WHATWG WebSocket and `ws` number them. */
export const enum WsState {
  Connecting = 0,
  Open = 1,
  Closing = 2,
  Closed = 3,
}

/**
 * What a connection reports (methods, so one object per connection can take them without closures).
 * Each connection ends with exactly one of onWsHandshakeFailed or onWsClose.
 */
export interface WsClientEvents {
  /** The handshake succeeded; messages may be sent. */
  onWsOpen(): void;
  /** A message; `data` is valid only during the call (copy what must outlive it). */
  onWsMessage(data: Buffer, binary: boolean, frameBytes: number): void;
  /**
   * The connection never opened: `status` is the server's answer to the upgrade (0 when none came),
   * `kind` the network error kind (null when the server refused the upgrade with an HTTP status).
   */
  onWsHandshakeFailed(status: number, kind: NetworkErrorKind | null, detail: string): void;
  /** An open connection ended: the peer's close code (1005: none given; 1006: no close frame at all). */
  onWsClose(code: number, reason: string): void;
}

/** Where and how to open a WebSocket. */
export interface WsTarget {
  /** The TCP/TLS endpoint (`https:` for wss://), with its TLS material and verification choice. */
  origin: Origin;
  /** The handshake request without `Sec-WebSocket-Key` and the final blank line (see handshakeHead). */
  head: string;
  /** Subprotocols offered (the server must pick one of them, or none). */
  protocols: readonly string[];
  handshakeTimeoutMs: number;
  maxMessageBytes?: number;
}

/**
 * The handshake request of `path` (with its query) on `authority`: request line, Host, the upgrade
 * headers and `headers` (validated by the caller), each line ending in CRLF. Built once per target.
 */
export function handshakeHead(path: string, authority: string, headers: Readonly<Record<string, string>>, protocols: readonly string[]): string {
  let host = authority;
  let extra = '';
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'host') host = value;
    // The upgrade headers are ours to set; a body-framing header has no place in a handshake.
    else if (lower === 'upgrade' || lower === 'connection' || lower === 'content-length' || lower.startsWith('sec-websocket-')) continue;
    else extra += `${name}: ${value}\r\n`;
  }
  const offer = protocols.length ? `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n` : '';
  return `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n${offer}${extra}`;
}

/** The client of a socket, so one listener function serves every socket (no closures per connection). */
const kClient = Symbol('redline.wsClient');
type ClientSocket = net.Socket & { [kClient]?: WsClient };

/** One client WebSocket. Callbacks go to `events`; nothing is emitted after the final one. */
export class WsClient implements FrameSink {
  // Socket callbacks shared by every connection: `this` is the socket, which knows its client.
  static readonly #read = function (this: ClientSocket, bytes: number, buf: Uint8Array): boolean {
    this[kClient]!.#onData((buf as Buffer).subarray(0, bytes));
    return true;
  };
  static readonly #data = function (this: ClientSocket, chunk: Buffer): void {
    this[kClient]!.#onData(chunk);
  };
  static readonly #connected = function (this: ClientSocket): void {
    this[kClient]!.#onConnected();
  };
  static readonly #error = function (this: ClientSocket, err: NodeJS.ErrnoException): void {
    this[kClient]!.#onError(err);
  };
  static readonly #closed = function (this: ClientSocket): void {
    this[kClient]!.#onSocketClose();
  };

  readonly #events: WsClientEvents;
  readonly #target: WsTarget;
  readonly #socket: net.Socket;
  readonly #reader: FrameReader;
  #accept = '';
  #state = WsState.Connecting;
  #handshake: Buffer = EMPTY;
  #timer: NodeJS.Timeout | null = null;
  #closeCode = 1006;
  #closeReason = '';
  #ended = false;
  /** The subprotocol the server chose ('' for none). */
  protocol = '';
  /** True once this side closed the connection because the server broke the framing (1002, 1009). */
  brokeProtocol = false;
  /** Engine-clock ms the TCP (and TLS) connection was up, and the handshake completed. */
  connectedAt = 0;
  openedAt = 0;
  readonly startedAt = engineNow();

  constructor(target: WsTarget, events: WsClientEvents) {
    this.#events = events;
    this.#target = target;
    this.#reader = new FrameReader(this, target.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES);
    const o = target.origin;
    const secure = o.protocol === 'https:';
    const socket: ClientSocket = secure ? connectTls(o, ['http/1.1']) : net.connect({ host: o.host, port: o.port, onread: { buffer: sharedReadBuffer, callback: WsClient.#read } });
    socket[kClient] = this;
    this.#socket = socket;
    socket.setNoDelay(true);
    if (secure) socket.on('data', WsClient.#data);
    socket.once(secure ? 'secureConnect' : 'connect', WsClient.#connected);
    socket.on('error', WsClient.#error);
    socket.on('close', WsClient.#closed);
    this.#timer = setTimeout(() => this.#handshakeFailed(0, 'timeout', `no WebSocket handshake within ${target.handshakeTimeoutMs} ms`), target.handshakeTimeoutMs);
  }

  get readyState(): WsState {
    return this.#state;
  }

  /** Sends one message (a string as a text frame unless `binary`). Throws unless open. */
  send(data: Buffer | string, binary: boolean): number {
    if (this.#state !== WsState.Open) throw new Error(`WebSocket is not open (state ${this.#state})`);
    const frame = encodeFrame(binary ? Opcode.Binary : Opcode.Text, data);
    this.#socket.write(frame);
    return frame.length;
  }

  /** Sends a prepared frame (the fast path masks its one message per send with encodeFrame). */
  sendFrame(frame: Buffer): void {
    if (this.#state === WsState.Open) this.#socket.write(frame);
  }

  /** Starts the closing handshake; the connection reports onClose when the server has answered (or after 5 s). */
  close(code = 1000, reason = ''): void {
    if (this.#state === WsState.Connecting) {
      this.#handshakeFailed(0, 'network', 'closed before the handshake completed');
      return;
    }
    if (this.#state !== WsState.Open) return;
    this.#state = WsState.Closing;
    this.#socket.write(encodeFrame(Opcode.Close, closePayload(code, reason)));
    this.#armCloseWait();
  }

  /** Drops the connection now (no closing handshake): reported as 1006. */
  terminate(): void {
    if (this.#state === WsState.Connecting) this.#handshakeFailed(0, 'network', 'closed before the handshake completed');
    else this.#socket.destroy();
  }

  #armCloseWait(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#socket.destroy(), CLOSE_WAIT_MS);
    this.#timer.unref();
  }

  #onConnected(): void {
    if (this.#state !== WsState.Connecting) return;
    this.connectedAt = engineNow();
    const key = randomBytes(16).toString('base64');
    this.#accept = createHash('sha1').update(key + GUID).digest('base64');
    this.#socket.write(`${this.#target.head}Sec-WebSocket-Key: ${key}\r\n\r\n`, 'latin1');
  }

  #onData(chunk: Buffer): void {
    if (this.#state === WsState.Connecting) this.#onHandshakeData(chunk);
    else if (!this.#reader.stopped) this.#reader.push(chunk);
  }

  #onHandshakeData(chunk: Buffer): void {
    const buf = this.#handshake.length ? Buffer.concat([this.#handshake, chunk]) : chunk;
    const end = buf.indexOf('\r\n\r\n', 0, 'latin1');
    if (end === -1) {
      if (buf.length > MAX_HANDSHAKE_BYTES) this.#handshakeFailed(0, 'protocol', `handshake response header block larger than ${MAX_HANDSHAKE_BYTES / 1024} KiB`);
      // The chunk may be the shared read buffer: keep a copy.
      else this.#handshake = buf === chunk ? Buffer.from(chunk) : buf;
      return;
    }
    this.#handshake = EMPTY;
    const problem = this.#checkResponse(buf.toString('latin1', 0, end));
    if (problem) {
      // An error status counts by its class (http_4xx, http_5xx); any other answer than 101 (a plain
      // 200 from a server that does not speak WebSocket) is no upgrade either: a protocol error.
      if (problem.status !== 101) this.#handshakeFailed(problem.status, problem.status >= 400 ? null : 'protocol', problem.detail);
      else this.#handshakeFailed(0, 'protocol', problem.detail);
      return;
    }
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#state = WsState.Open;
    this.openedAt = engineNow();
    this.#events.onWsOpen();
    // Frames the server sent right behind its 101 (copied: `buf` may be the shared buffer).
    if (buf.length > end + 4 && this.#state === WsState.Open) this.#reader.push(Buffer.from(buf.subarray(end + 4)));
  }

  /** Checks the server's answer to the upgrade (RFC 6455 §4.1); null when it opens the connection. */
  #checkResponse(head: string): { status: number; detail: string } | null {
    const status = parseStatusCode(head);
    if (status < 0) return { status: 101, detail: `malformed handshake status line ${JSON.stringify(head.slice(0, 60))}` };
    if (status !== 101) return { status, detail: `the server answered the upgrade with HTTP ${status}` };
    let upgrade = '';
    let connection = '';
    let accept = '';
    let protocol: string | null = null;
    let extensions: string | null = null;
    for (const line of head.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'upgrade') upgrade = value.toLowerCase();
      else if (name === 'connection') connection = value.toLowerCase();
      else if (name === 'sec-websocket-accept') accept = value;
      else if (name === 'sec-websocket-protocol') protocol = value;
      else if (name === 'sec-websocket-extensions') extensions = value;
    }
    if (upgrade !== 'websocket') return { status: 101, detail: `handshake without "Upgrade: websocket" (got ${JSON.stringify(upgrade)})` };
    if (!connection.split(',').some((t) => t.trim() === 'upgrade')) return { status: 101, detail: 'handshake without "Connection: Upgrade"' };
    if (accept !== this.#accept) return { status: 101, detail: 'invalid Sec-WebSocket-Accept in the handshake response' };
    if (extensions !== null) return { status: 101, detail: `the server chose extensions that were not offered (${extensions})` };
    if (protocol !== null) {
      if (!this.#target.protocols.includes(protocol)) return { status: 101, detail: `the server chose subprotocol "${protocol}", which was not offered` };
      this.protocol = protocol;
    }
    return null;
  }

  #handshakeFailed(status: number, kind: NetworkErrorKind | null, detail: string): void {
    if (this.#state !== WsState.Connecting) return;
    this.#state = WsState.Closed;
    this.#ended = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#reader.stop();
    this.#socket.destroy();
    this.#events.onWsHandshakeFailed(status, kind, detail);
  }

  #onError(err: NodeJS.ErrnoException): void {
    if (this.#state === WsState.Connecting) this.#handshakeFailed(0, classifySocketError(err), err.code ?? err.message);
    // After the handshake the close that follows reports the end (1006 without a close frame).
  }

  #onSocketClose(): void {
    if (this.#state === WsState.Connecting) {
      this.#handshakeFailed(0, 'network', 'closed before the handshake completed');
      return;
    }
    if (this.#ended) return;
    this.#ended = true;
    this.#state = WsState.Closed;
    this.#reader.stop();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#events.onWsClose(this.#closeCode, this.#closeReason);
  }

  // FrameSink: what the reader decodes.

  onMessage(data: Buffer, binary: boolean, frameBytes: number): void {
    if (this.#state === WsState.Open || this.#state === WsState.Closing) this.#events.onWsMessage(data, binary, frameBytes);
  }

  onPing(data: Buffer): void {
    if (this.#state === WsState.Open) this.#socket.write(encodeFrame(Opcode.Pong, data));
  }

  onCloseFrame(code: number, reason: string): void {
    this.#closeCode = code;
    this.#closeReason = reason;
    if (this.#state === WsState.Open) {
      // The server closes: echo its code (none when it gave none), then let it end the TCP connection.
      this.#state = WsState.Closing;
      this.#socket.write(encodeFrame(Opcode.Close, code === 1005 ? EMPTY : closePayload(code, '')));
    }
    this.#socket.end();
    this.#armCloseWait();
  }

  onProtocolError(closeCode: number, message: string): void {
    this.brokeProtocol = true;
    this.#closeCode = closeCode;
    this.#closeReason = message;
    if (this.#state === WsState.Open) this.#socket.write(encodeFrame(Opcode.Close, closePayload(closeCode, '')));
    this.#state = WsState.Closing;
    this.#socket.destroySoon();
    this.#armCloseWait();
  }
}

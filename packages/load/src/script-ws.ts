import { ErrorCodes, RedlineError, parseDuration, parseRate } from '@redline/core';
import { engineNow } from './engine-clock.js';
import { assertValidHeaders } from './header-validation.js';
import type { TlsMaterial } from './transports/tls.js';
import type { Exchange, Origin } from './transports/transport.js';
import { handshakeHead, type WsClient } from './ws-client.js';
import { ScriptSocket, type ScriptSocketOwner } from './ws-script-socket.js';

/** Data a WebSocket message carries. */
export type WsData = string | Buffer | Uint8Array;

/** Options of `ctx.ws.connect`. */
export interface WsConnectOptions {
  /** Handshake request headers (over the scenario's `headers`). */
  headers?: Record<string, string>;
  /** Subprotocols offered in `Sec-WebSocket-Protocol`. */
  protocols?: string[];
  /** Metric name of the messages (default `WS <path>`; the handshake is `<name> connect`). */
  name?: string;
  /**
   * Correlation of replies with sent messages, for per-message latency: a key of a message, sent
   * or received; a received message whose key matches a pending sent one completes it (oldest
   * first). Default: echo — the key is the message itself. Return null/undefined for messages that
   * answer nothing (server pushes).
   */
  correlate?: (data: string | Buffer) => string | null | undefined;
  /** Most sent messages waiting for their reply (default 10,000); older ones count as unanswered. */
  maxPending?: number;
  /** Handshake timeout: ms or `"5s"` (default 10 s). */
  handshakeTimeout?: number | string;
}

/** A received message. */
export interface WsMessage {
  data: string | Buffer;
  /** True for binary frames (then `data` is a Buffer). */
  binary: boolean;
  /** Engine-clock ms when it arrived. */
  receivedAt: number;
}

/** An open-model message schedule on one connection. */
export interface WsRateOptions {
  /** Messages per second (`10`, `"10/s"`, `"600/m"`). */
  rate: number | string;
  /** How long to send: ms or `"30s"`. One of `duration` or `count` is required. */
  duration?: number | string;
  /** How many messages to send. */
  count?: number;
  /** The i-th message (from 0). */
  message: (i: number) => WsData;
}

/** How a connection ended. */
export interface WsCloseInfo {
  /** Close code (1000 normal, 1001 going away, 1006 abnormal: no close frame, ...). */
  code: number;
  reason: string;
}

/** A WebSocket inside `ctx.ws.connect`'s handler. */
export interface WsSocket {
  /** Sends a message; if a reply correlates with it, its latency is recorded. */
  send(data: WsData): void;
  /** Sends and waits for the correlated reply (rejects after `timeoutMs`, default 10 s, or on close). */
  request(data: WsData, options?: { timeoutMs?: number }): Promise<WsMessage>;
  /**
   * Sends messages at a fixed rate (open model within the connection): each message's latency
   * counts from its intended send time, so a slow server or a late timer shows in the latency.
   * Resolves when the last message is sent (or the socket closed).
   */
  sendAtRate(options: WsRateOptions): Promise<void>;
  /** The next message received after this call (rejects after `timeoutMs`, default 10 s, or on close). */
  next(options?: { timeoutMs?: number }): Promise<WsMessage>;
  /** Calls `fn` for every received message. */
  onMessage(fn: (message: WsMessage) => void): void;
  /** Starts the closing handshake (default 1000). */
  close(code?: number, reason?: string): void;
  /** Resolves when the connection has closed. */
  readonly closed: Promise<WsCloseInfo>;
  /** The subprotocol the server chose ("" for none). */
  readonly protocol: string;
}

/** What `ctx.ws.connect` resolves to once the connection is closed. */
export interface WsResult {
  /** Handshake status (101 on success; the server's status when it refused the upgrade; 0 on a network error). */
  status: number;
  /** Network error kind of a failed handshake (`connect_refused`, `tls`, `timeout`, ...), else null. */
  error: string | null;
  errorDetail: string | null;
  /** How the connection ended (null when it never opened). */
  close: WsCloseInfo | null;
  messagesSent: number;
  messagesReceived: number;
  /** Sent messages whose reply never came before the close. */
  unanswered: number;
}

/** `ctx.ws`. */
export interface WsApi {
  /**
   * Opens a WebSocket to `url` (`ws://`, `wss://`; `http(s)://` and relative URLs resolve against
   * the scenario's `baseUrl`), runs `handler` once it is open, closes the socket (1000) when the
   * handler's promise settles, and resolves when the socket is closed. A failed handshake resolves
   * too (see `status`, `error`); a handler that throws closes the socket with 1011 and rejects.
   */
  connect(url: string, handler: (socket: WsSocket) => unknown): Promise<WsResult>;
  connect(url: string, options: WsConnectOptions, handler: (socket: WsSocket) => unknown): Promise<WsResult>;
}

/** WebSocket counters of one interval (summed over workers into `summary.ws`). */
export interface WsCounters {
  connections: number;
  failedHandshakes: number;
  messagesSent: number;
  messagesReceived: number;
  unanswered: number;
  /** Connections closed, by close code. */
  closeCodes: Record<string, number>;
}

/** What the WebSocket API needs from the engine. */
export interface WsHost {
  baseUrl: string | undefined;
  defaultHeaders: Record<string, string>;
  insecure: boolean;
  tls: TlsMaterial | null;
  onExchangeStart(): void;
  /** A finished handshake or answered message; `lagMs` is how late the message was sent versus its schedule. */
  onExchange(name: string, exchange: Exchange, startedAt: number, lagMs: number): void;
  counters: WsCounters;
  /** Resolves after `ms` (early on teardown). */
  sleep(ms: number): Promise<void>;
}

const DEFAULT_HANDSHAKE_MS = 10_000;
/** Handshakes shared by URL in this thread (see VuWs#handshakeOf), the oldest forgotten first. */
const SHARED_HANDSHAKES_MAX = 64;
const sharedHandshakes = new Map<string, { origin: Origin; head: string; defaults: Record<string, string>; insecure: boolean; tls: TlsMaterial | null }>();
const DEFAULT_MAX_PENDING = 10_000;

/** Turns a URL into the ws:// or wss:// URL to dial. Throws REDLINE_ERR_BAD_URL. */
export function wsUrlOf(raw: string, baseUrl: string | undefined): URL {
  let url: URL;
  try {
    url = baseUrl ? new URL(raw, baseUrl) : new URL(raw);
  } catch {
    throw new RedlineError(ErrorCodes.BAD_URL, `invalid WebSocket URL "${raw}"${baseUrl ? ` (relative to ${baseUrl})` : ''}: expected ws://host:port/path or wss://...`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new RedlineError(ErrorCodes.BAD_URL, `unsupported protocol "${url.protocol}" in WebSocket URL "${raw}": use ws:// or wss://`);
  return url;
}

function keyOf(data: string | Buffer): string {
  return typeof data === 'string' ? data : data.toString('latin1');
}

/** The TCP/TLS endpoint of a ws:// or wss:// URL. */
function wsOrigin(url: URL, host: WsHost): Origin {
  const secure = url.protocol === 'wss:';
  // URL keeps IPv6 literals bracketed; sockets want them bare.
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return { protocol: secure ? 'https:' : 'http:', host: hostname, port: url.port ? Number(url.port) : secure ? 443 : 80, authority: url.host, insecure: host.insecure, tls: host.tls, version: 'h1', proxy: null };
}

/** The WebSocket API of one VU: its open sockets are closed with the VU. */
export class VuWs implements WsApi, ScriptSocketOwner {
  readonly #host: WsHost;
  readonly #open = new Set<WsClient>();
  #closed = false;

  constructor(host: WsHost) {
    this.#host = host;
  }

  connect(url: string, a: WsConnectOptions | ((socket: WsSocket) => unknown), b?: (socket: WsSocket) => unknown): Promise<WsResult> {
    const options = typeof a === 'function' ? {} : a;
    const handler = typeof a === 'function' ? a : b;
    if (typeof handler !== 'function') return Promise.reject(new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'ctx.ws.connect: expected a handler function (socket) => ...'));
    let target: URL;
    try {
      target = wsUrlOf(url, this.#host.baseUrl);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (this.#closed) return new Promise(() => undefined);
    try {
      return this.#run(target, options, handler);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  #run(url: URL, options: WsConnectOptions, handler: (socket: WsSocket) => unknown): Promise<WsResult> {
    const host = this.#host;
    const handshakeMs = options.handshakeTimeout === undefined ? DEFAULT_HANDSHAKE_MS : typeof options.handshakeTimeout === 'number' ? options.handshakeTimeout : parseDuration(options.handshakeTimeout, 'handshakeTimeout');
    const protocols = options.protocols ?? [];
    const { origin, head } = this.#handshakeOf(url, options.headers, protocols);
    const socket = new ScriptSocket(
      this,
      host,
      url,
      {
        name: options.name ?? `WS ${url.pathname}`,
        correlate: options.correlate ?? keyOf,
        maxPending: options.maxPending ?? DEFAULT_MAX_PENDING,
        target: { origin, head, protocols, handshakeTimeoutMs: handshakeMs },
      },
      handler,
    );
    this.#open.add(socket.client);
    return socket.result;
  }

  /**
   * The endpoint and handshake head of a connection. Connections without headers or subprotocols
   * of their own (the common case) share them per URL within the thread: 10,000 VUs holding a
   * socket each should not hold 10,000 copies of one handshake.
   */
  #handshakeOf(url: URL, headers: Record<string, string> | undefined, protocols: readonly string[]): { origin: Origin; head: string } {
    const host = this.#host;
    const shareable = headers === undefined && protocols.length === 0;
    if (shareable) {
      const hit = sharedHandshakes.get(url.href);
      if (hit && hit.defaults === host.defaultHeaders && hit.insecure === host.insecure && hit.tls === host.tls) return hit;
    }
    const all = { ...host.defaultHeaders, ...(headers ?? {}) };
    assertValidHeaders(all, `ctx.ws.connect ${url.href}`);
    const made = { origin: wsOrigin(url, host), head: handshakeHead(`${url.pathname}${url.search}`, url.host, all, protocols) };
    if (shareable) {
      if (sharedHandshakes.size >= SHARED_HANDSHAKES_MAX) sharedHandshakes.delete(sharedHandshakes.keys().next().value!);
      sharedHandshakes.set(url.href, { ...made, defaults: host.defaultHeaders, insecure: host.insecure, tls: host.tls });
    }
    return made;
  }

  get vuClosed(): boolean {
    return this.#closed;
  }

  release(client: WsClient): void {
    this.#open.delete(client);
  }

  /** Runs an open-model schedule of messages on one socket (its `sendAtRate`). */
  async sendAtRate(o: WsRateOptions, open: () => boolean, send: (data: WsData, intendedAt: number) => void): Promise<void> {
    if (typeof o?.message !== 'function') throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'sendAtRate: expected { rate, duration | count, message: (i) => data }');
    const perSec = parseRate(o.rate);
    if (!(perSec > 0)) throw new RedlineError(ErrorCodes.BAD_RATE, `sendAtRate: rate must be greater than zero, got ${String(o.rate)}`);
    const durationMs = o.duration === undefined ? undefined : typeof o.duration === 'number' ? o.duration : parseDuration(o.duration, 'duration');
    if (durationMs === undefined && o.count === undefined) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'sendAtRate: give duration or count (an unbounded schedule never ends)');
    const count = Math.min(o.count ?? Number.POSITIVE_INFINITY, durationMs !== undefined ? Math.floor((durationMs * perSec) / 1000) : Number.POSITIVE_INFINITY);
    const gapMs = 1000 / perSec;
    const start = engineNow();
    for (let i = 0; i < count; i++) {
      const at = start + i * gapMs;
      const delay = at - engineNow();
      if (delay > 1) await this.#host.sleep(delay);
      if (!open() || this.#closed) return;
      send(o.message(i), at);
    }
  }

  /** Closes every socket of this VU (the run ended): nothing more is sent. */
  close(): void {
    this.#closed = true;
    for (const ws of this.#open) ws.terminate();
    this.#open.clear();
  }
}

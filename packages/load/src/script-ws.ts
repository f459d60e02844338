import { ErrorCodes, RedlineError, parseDuration, parseRate } from '@redline/core';
import { engineNow } from './engine-clock.js';
import { assertValidHeaders } from './header-validation.js';
import type { TlsMaterial } from './transports/tls.js';
import type { Exchange, NetworkErrorKind, Origin } from './transports/transport.js';
import { WsClient, WsState, handshakeHead } from './ws-client.js';

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

const DEFAULT_WAIT_MS = 10_000;
const DEFAULT_HANDSHAKE_MS = 10_000;
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

function exchangeOf(status: number, error: NetworkErrorKind | null, detail: string | null, sentAt: number, endedAt: number, sent: number, received: number): Exchange {
  return { status, error, errorDetail: detail, sentAt, firstByteAt: endedAt, endedAt, connectMs: 0, bytesSent: sent, bytesReceived: received, rawHeaders: null, body: null };
}

/** A pending sent message: when it was meant to go, when it went, and how large it was. */
interface Pending {
  intendedAt: number;
  sentAt: number;
  bytes: number;
  /** Set by `request()`: settles its promise (no timer per message: a per-socket sweep ends it at `deadline`). */
  waiter: Waiter | null;
}

interface Waiter {
  resolve: (m: WsMessage) => void;
  reject: (err: Error) => void;
  deadline: number;
}

/** How often a socket with waiting `request()`s checks their deadlines. */
const SWEEP_MS = 100;

/** The WebSocket API of one VU: its open sockets are closed with the VU. */
export class VuWs implements WsApi {
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
    const c = host.counters;
    const name = options.name ?? `WS ${url.pathname}`;
    const correlate = options.correlate ?? keyOf;
    const maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    const handshakeMs = options.handshakeTimeout === undefined ? DEFAULT_HANDSHAKE_MS : typeof options.handshakeTimeout === 'number' ? options.handshakeTimeout : parseDuration(options.handshakeTimeout, 'handshakeTimeout');
    const headers = { ...host.defaultHeaders, ...(options.headers ?? {}) };
    assertValidHeaders(headers, `ctx.ws.connect ${url.href}`);
    const protocols = options.protocols ?? [];
    const pending = new Map<string, Pending[]>();
    const answered = exchangeOf(101, null, null, 0, 0, 0, 0);
    let pendingCount = 0;
    const listeners: Array<(m: WsMessage) => void> = [];
    const nextWaiters: Array<(m: WsMessage) => void> = [];
    const result: WsResult = { status: 0, error: null, errorDetail: null, close: null, messagesSent: 0, messagesReceived: 0, unanswered: 0 };
    let handshakeDone = false;
    let closeResolve!: (info: WsCloseInfo) => void;
    const closed = new Promise<WsCloseInfo>((r) => (closeResolve = r));
    const closeRejects = new Set<(err: Error) => void>();
    const startedAt = engineNow();
    host.onExchangeStart();

    const handshake = (status: number, error: NetworkErrorKind | null, detail: string | null): void => {
      if (handshakeDone) return;
      handshakeDone = true;
      result.status = status;
      result.error = error;
      result.errorDetail = detail;
      if (error || status !== 101) c.failedHandshakes++;
      else c.connections++;
      host.onExchange(`${name} connect`, exchangeOf(status, error, detail, startedAt, engineNow(), 0, 0), startedAt, 0);
    };

    const dropOldest = (): void => {
      for (const [k, list] of pending) {
        const dropped = list.shift();
        if (dropped?.waiter) {
          waiting.delete(dropped);
          dropped.waiter.reject(new Error(`no reply before ${maxPending} newer messages were waiting for theirs (maxPending)`));
        }
        if (list.length === 0) pending.delete(k);
        pendingCount--;
        result.unanswered++;
        c.unanswered++;
        return;
      }
    };

    // request() deadlines: one sweep per socket while any request waits, not a timer per message.
    const waiting = new Set<Pending>();
    let sweep: NodeJS.Timeout | null = null;
    const sweepWaiters = (): void => {
      const now = engineNow();
      for (const p of waiting) {
        if (p.waiter && p.waiter.deadline <= now) {
          const w = p.waiter;
          p.waiter = null;
          waiting.delete(p);
          w.reject(new Error(`no reply within ${Math.round(now - p.sentAt)} ms`));
        }
      }
      if (waiting.size === 0 && sweep) {
        clearInterval(sweep);
        sweep = null;
      }
    };
    const transmit = (data: WsData, intendedAt: number, waiter: Waiter | null): void => {
      if (ws.readyState !== WsState.Open) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `WebSocket ${url.href} is not open (state ${ws.readyState})`);
      const sentAt = engineNow();
      const text = typeof data === 'string';
      const payload = text ? data : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      const key = correlate(payload);
      if (key !== null && key !== undefined) {
        if (pendingCount >= maxPending) dropOldest();
        const entry: Pending = { intendedAt, sentAt, bytes: 0, waiter };
        const list = pending.get(key);
        if (list) list.push(entry);
        else pending.set(key, [entry]);
        pendingCount++;
        if (waiter) {
          waiting.add(entry);
          sweep ??= setInterval(sweepWaiters, SWEEP_MS);
        }
        entry.bytes = ws.send(payload, !text);
      } else if (waiter) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'request(): the correlate function gave this message no key, so no reply can answer it');
      else ws.send(payload, !text);
      result.messagesSent++;
      c.messagesSent++;
    };

    const onMessage = (raw: Buffer, isBinary: boolean, frameBytes: number): void => {
      const receivedAt = engineNow();
      result.messagesReceived++;
      c.messagesReceived++;
      // `raw` is a view of the thread's read buffer: text is decoded now, bytes are copied.
      const data = isBinary ? Buffer.from(raw) : raw.toString('utf8');
      const key = pendingCount > 0 ? correlate(data) : null;
      if (key !== null && key !== undefined) {
        const list = pending.get(key);
        const entry = list?.shift();
        if (entry) {
          if (list!.length === 0) pending.delete(key);
          pendingCount--;
          // One Exchange per socket, reused: the recorder reads it during the call only.
          const ex = answered;
          ex.sentAt = entry.sentAt;
          ex.firstByteAt = receivedAt;
          ex.endedAt = receivedAt;
          ex.bytesSent = entry.bytes;
          ex.bytesReceived = frameBytes;
          host.onExchange(name, ex, entry.sentAt, entry.sentAt - entry.intendedAt);
          if (entry.waiter) {
            waiting.delete(entry);
            entry.waiter.resolve({ data, binary: isBinary, receivedAt });
            if (nextWaiters.length === 0 && listeners.length === 0) return;
          }
        }
      }
      if (nextWaiters.length === 0 && listeners.length === 0) return;
      const message: WsMessage = { data, binary: isBinary, receivedAt };
      if (nextWaiters.length) for (const w of nextWaiters.splice(0)) w(message);
      for (const l of listeners) l(message);
    };

    const ended = (info: WsCloseInfo): void => {
      this.#open.delete(ws);
      result.unanswered += pendingCount;
      c.unanswered += pendingCount;
      pending.clear();
      pendingCount = 0;
      const gone = new Error(`WebSocket closed (${info.code}${info.reason ? ` ${info.reason}` : ''})`);
      for (const r of closeRejects) r(gone);
      closeRejects.clear();
      for (const p of waiting) p.waiter?.reject(gone);
      waiting.clear();
      if (sweep) clearInterval(sweep);
      sweep = null;
      closeResolve(info);
    };

    // A handler that throws closes the socket (1011) and fails the iteration with its error.
    let handlerError: { error: unknown } | null = null;
    const runHandler = (): void => {
      let out: unknown;
      try {
        out = handler(socket);
      } catch (err) {
        out = Promise.reject(err as Error);
      }
      Promise.resolve(out).then(
        () => socket.close(1000),
        (err: unknown) => {
          handlerError = { error: err };
          socket.close(1011, 'script error');
        },
      );
    };

    const ws = new WsClient(
      { origin: wsOrigin(url, host), head: handshakeHead(`${url.pathname}${url.search}`, url.host, headers, protocols), protocols, handshakeTimeoutMs: handshakeMs },
      {
        onOpen: () => {
          handshake(101, null, null);
          runHandler();
        },
        onMessage,
        onHandshakeFailed: (status, kind, detail) => {
          handshake(status, kind, detail);
          ended({ code: 1006, reason: '' });
        },
        onClose: (code, reason) => {
          const info: WsCloseInfo = { code, reason };
          result.close = info;
          c.closeCodes[String(code)] = (c.closeCodes[String(code)] ?? 0) + 1;
          ended(info);
        },
      },
    );
    this.#open.add(ws);

    const wait = <T>(timeoutMs: number, register: (resolve: (v: T) => void) => () => void): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        if (ws.readyState > WsState.Open) {
          reject(new Error('WebSocket is closed'));
          return;
        }
        let unregister = (): void => undefined;
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no WebSocket message within ${timeoutMs} ms`));
        }, timeoutMs);
        const fail = (err: Error): void => {
          cleanup();
          reject(err);
        };
        const cleanup = (): void => {
          clearTimeout(timer);
          closeRejects.delete(fail);
          unregister();
        };
        closeRejects.add(fail);
        unregister = register((v) => {
          cleanup();
          resolve(v);
        });
      });

    const socket: WsSocket = {
      send: (data) => transmit(data, engineNow(), null),
      request: (data, o) =>
        new Promise<WsMessage>((resolve, reject) => {
          const now = engineNow();
          transmit(data, now, { resolve, reject, deadline: now + (o?.timeoutMs ?? DEFAULT_WAIT_MS) });
        }),
      next: (o) =>
        wait<WsMessage>(o?.timeoutMs ?? DEFAULT_WAIT_MS, (resolve) => {
          nextWaiters.push(resolve);
          return () => {
            const i = nextWaiters.indexOf(resolve);
            if (i >= 0) nextWaiters.splice(i, 1);
          };
        }),
      sendAtRate: (o) => this.#sendAtRate(o, () => ws.readyState === WsState.Open, (data, at) => transmit(data, at, null)),
      onMessage: (fn) => {
        listeners.push(fn);
      },
      close: (code = 1000, reason) => {
        if (ws.readyState <= WsState.Open) ws.close(code, reason);
      },
      closed,
      get protocol() {
        return ws.protocol;
      },
    };

    return new Promise<WsResult>((resolve, reject) => {
      void closed.then(() => (handlerError ? reject(handlerError.error as Error) : resolve(result)));
    });
  }

  async #sendAtRate(o: WsRateOptions, open: () => boolean, send: (data: WsData, intendedAt: number) => void): Promise<void> {
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

/**
 * The socket a `ctx.ws.connect` handler gets: one object per connection with its state in fields
 * and its behaviour on the prototype. An earlier version built ~30 closures and five collections
 * per connection (4.7 KB of heap, more than the socket itself); 10,000 held connections are what
 * the memory target is about, so collections are made only when first needed.
 */
import { ErrorCodes, RedlineError } from '@redline/core';
import { engineNow } from './engine-clock.js';
import type { Exchange, NetworkErrorKind } from './transports/transport.js';
import { WsClient, WsState, type WsClientEvents, type WsTarget } from './ws-client.js';
import type { WsCloseInfo, WsData, WsHost, WsMessage, WsRateOptions, WsResult, WsSocket } from './script-ws.js';

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
const DEFAULT_WAIT_MS = 10_000;

function exchangeOf(status: number, error: NetworkErrorKind | null, detail: string | null, sentAt: number, endedAt: number): Exchange {
  return { status, error, errorDetail: detail, sentAt, firstByteAt: endedAt, endedAt, connectMs: 0, bytesSent: 0, bytesReceived: 0, rawHeaders: null, body: null };
}

/** What a socket needs from its VU. */
export interface ScriptSocketOwner {
  /** The VU's sockets were closed (the run ended): schedules stop. */
  readonly vuClosed: boolean;
  /** The connection ended: forget it. */
  release(client: WsClient): void;
  /** Runs an open-model schedule (the VU's sendAtRate, which sleeps through the host). */
  sendAtRate(o: WsRateOptions, open: () => boolean, send: (data: WsData, intendedAt: number) => void): Promise<void>;
}

/** One `ctx.ws.connect` connection: the handler's socket, the client's events, the result. */
export class ScriptSocket implements WsSocket, WsClientEvents {
  readonly closed: Promise<WsCloseInfo>;
  /** Resolves to the result when the connection has closed (rejects with a handler's error). */
  readonly result: Promise<WsResult>;
  readonly #client: WsClient;
  readonly #owner: ScriptSocketOwner;
  readonly #host: WsHost;
  readonly #href: string;
  readonly #name: string;
  readonly #correlate: (data: string | Buffer) => string | null | undefined;
  readonly #maxPending: number;
  readonly #handler: (socket: WsSocket) => unknown;
  readonly #startedAt: number;
  readonly #res: WsResult = { status: 0, error: null, errorDetail: null, close: null, messagesSent: 0, messagesReceived: 0, unanswered: 0 };
  #closeResolve!: (info: WsCloseInfo) => void;
  #handshakeDone = false;
  #handlerError: { error: unknown } | null = null;
  #pending: Map<string, Pending[]> | null = null;
  #pendingCount = 0;
  /** Pending entries with a request() waiting (for the deadline sweep). */
  #waiting: Set<Pending> | null = null;
  #sweep: NodeJS.Timeout | null = null;
  /** Rejections of next() calls waiting when the socket closes. */
  #closeRejects: Set<(err: Error) => void> | null = null;
  #listeners: Array<(m: WsMessage) => void> | null = null;
  #nextWaiters: Array<(m: WsMessage) => void> | null = null;
  /** One Exchange per socket, reused for answered messages: the recorder reads it during the call only. */
  #answered: Exchange | null = null;

  constructor(
    owner: ScriptSocketOwner,
    host: WsHost,
    url: URL,
    o: { name: string; correlate: (data: string | Buffer) => string | null | undefined; maxPending: number; target: WsTarget },
    handler: (socket: WsSocket) => unknown,
  ) {
    this.#owner = owner;
    this.#host = host;
    this.#href = url.href;
    this.#name = o.name;
    this.#correlate = o.correlate;
    this.#maxPending = o.maxPending;
    this.#handler = handler;
    this.closed = new Promise<WsCloseInfo>((r) => (this.#closeResolve = r));
    this.result = this.closed.then(() => {
      if (this.#handlerError) throw this.#handlerError.error;
      return this.#res;
    });
    this.#startedAt = engineNow();
    host.onExchangeStart();
    this.#client = new WsClient(o.target, this);
  }

  /** The client behind this socket (its VU closes it when the run ends). */
  get client(): WsClient {
    return this.#client;
  }

  get protocol(): string {
    return this.#client.protocol;
  }

  // WsSocket: what the handler calls.

  send(data: WsData): void {
    this.#transmit(data, engineNow(), null);
  }

  request(data: WsData, o?: { timeoutMs?: number }): Promise<WsMessage> {
    return new Promise<WsMessage>((resolve, reject) => {
      const now = engineNow();
      this.#transmit(data, now, { resolve, reject, deadline: now + (o?.timeoutMs ?? DEFAULT_WAIT_MS) });
    });
  }

  sendAtRate(o: WsRateOptions): Promise<void> {
    return this.#owner.sendAtRate(
      o,
      () => this.#client.readyState === WsState.Open,
      (data, at) => this.#transmit(data, at, null),
    );
  }

  next(o?: { timeoutMs?: number }): Promise<WsMessage> {
    const timeoutMs = o?.timeoutMs ?? DEFAULT_WAIT_MS;
    return new Promise<WsMessage>((resolve, reject) => {
      if (this.#client.readyState > WsState.Open) {
        reject(new Error('WebSocket is closed'));
        return;
      }
      const waiters = (this.#nextWaiters ??= []);
      const rejects = (this.#closeRejects ??= new Set());
      const cleanup = (): void => {
        clearTimeout(timer);
        rejects.delete(fail);
        const i = waiters.indexOf(got);
        if (i >= 0) waiters.splice(i, 1);
      };
      const got = (m: WsMessage): void => {
        cleanup();
        resolve(m);
      };
      const fail = (err: Error): void => {
        cleanup();
        reject(err);
      };
      const timer = setTimeout(() => fail(new Error(`no WebSocket message within ${timeoutMs} ms`)), timeoutMs);
      rejects.add(fail);
      waiters.push(got);
    });
  }

  onMessage(fn: (message: WsMessage) => void): void {
    (this.#listeners ??= []).push(fn);
  }

  close(code = 1000, reason?: string): void {
    if (this.#client.readyState <= WsState.Open) this.#client.close(code, reason);
  }

  // WsClientEvents: what the connection reports.

  onWsOpen(): void {
    this.#handshake(101, null, null);
    // A handler that throws closes the socket (1011) and fails the iteration with its error.
    let out: unknown;
    try {
      out = this.#handler(this);
    } catch (err) {
      out = Promise.reject(err as Error);
    }
    Promise.resolve(out).then(
      () => this.close(1000),
      (err: unknown) => {
        this.#handlerError = { error: err };
        this.close(1011, 'script error');
      },
    );
  }

  onWsMessage(raw: Buffer, isBinary: boolean, frameBytes: number): void {
    const receivedAt = engineNow();
    const res = this.#res;
    res.messagesReceived++;
    this.#host.counters.messagesReceived++;
    // `raw` is a view of the thread's read buffer: text is decoded now, bytes are copied.
    const data = isBinary ? Buffer.from(raw) : raw.toString('utf8');
    const key = this.#pendingCount > 0 ? this.#correlate(data) : null;
    if (key !== null && key !== undefined) {
      const pending = this.#pending!;
      const list = pending.get(key);
      const entry = list?.shift();
      if (entry) {
        if (list!.length === 0) pending.delete(key);
        this.#pendingCount--;
        const ex = (this.#answered ??= exchangeOf(101, null, null, 0, 0));
        ex.sentAt = entry.sentAt;
        ex.firstByteAt = receivedAt;
        ex.endedAt = receivedAt;
        ex.bytesSent = entry.bytes;
        ex.bytesReceived = frameBytes;
        this.#host.onExchange(this.#name, ex, entry.sentAt, entry.sentAt - entry.intendedAt);
        if (entry.waiter) {
          this.#waiting!.delete(entry);
          entry.waiter.resolve({ data, binary: isBinary, receivedAt });
        }
      }
    }
    const waiters = this.#nextWaiters;
    const listeners = this.#listeners;
    if (!waiters?.length && !listeners?.length) return;
    const message: WsMessage = { data, binary: isBinary, receivedAt };
    if (waiters?.length) for (const w of waiters.splice(0)) w(message);
    if (listeners) for (const l of listeners) l(message);
  }

  onWsHandshakeFailed(status: number, kind: NetworkErrorKind | null, detail: string): void {
    this.#handshake(status, kind, detail);
    this.#ended({ code: 1006, reason: '' });
  }

  onWsClose(code: number, reason: string): void {
    const info: WsCloseInfo = { code, reason };
    this.#res.close = info;
    const codes = this.#host.counters.closeCodes;
    codes[String(code)] = (codes[String(code)] ?? 0) + 1;
    this.#ended(info);
  }

  #handshake(status: number, error: NetworkErrorKind | null, detail: string | null): void {
    if (this.#handshakeDone) return;
    this.#handshakeDone = true;
    const res = this.#res;
    res.status = status;
    res.error = error;
    res.errorDetail = detail;
    const c = this.#host.counters;
    if (error || status !== 101) c.failedHandshakes++;
    else c.connections++;
    this.#host.onExchange(`${this.#name} connect`, exchangeOf(status, error, detail, this.#startedAt, engineNow()), this.#startedAt, 0);
  }

  #transmit(data: WsData, intendedAt: number, waiter: Waiter | null): void {
    const client = this.#client;
    if (client.readyState !== WsState.Open) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `WebSocket ${this.#href} is not open (state ${client.readyState})`);
    const sentAt = engineNow();
    const text = typeof data === 'string';
    const payload = text ? data : Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const key = this.#correlate(payload);
    if (key !== null && key !== undefined) {
      if (this.#pendingCount >= this.#maxPending) this.#dropOldest();
      const entry: Pending = { intendedAt, sentAt, bytes: 0, waiter };
      const pending = (this.#pending ??= new Map());
      const list = pending.get(key);
      if (list) list.push(entry);
      else pending.set(key, [entry]);
      this.#pendingCount++;
      if (waiter) {
        (this.#waiting ??= new Set()).add(entry);
        this.#sweep ??= setInterval(() => this.#sweepWaiters(), SWEEP_MS);
      }
      entry.bytes = client.send(payload, !text);
    } else if (waiter) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'request(): the correlate function gave this message no key, so no reply can answer it');
    else client.send(payload, !text);
    this.#res.messagesSent++;
    this.#host.counters.messagesSent++;
  }

  /** The oldest pending message gives way to a new one (maxPending): it counts as unanswered. */
  #dropOldest(): void {
    const pending = this.#pending!;
    for (const [k, list] of pending) {
      const dropped = list.shift();
      if (dropped?.waiter) {
        this.#waiting!.delete(dropped);
        dropped.waiter.reject(new Error(`no reply before ${this.#maxPending} newer messages were waiting for theirs (maxPending)`));
      }
      if (list.length === 0) pending.delete(k);
      this.#pendingCount--;
      this.#res.unanswered++;
      this.#host.counters.unanswered++;
      return;
    }
  }

  /** request() deadlines: one sweep per socket while any request waits, not a timer per message. */
  #sweepWaiters(): void {
    const now = engineNow();
    const waiting = this.#waiting!;
    for (const p of waiting) {
      if (p.waiter && p.waiter.deadline <= now) {
        const w = p.waiter;
        p.waiter = null;
        waiting.delete(p);
        w.reject(new Error(`no reply within ${Math.round(now - p.sentAt)} ms`));
      }
    }
    if (waiting.size === 0 && this.#sweep) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
  }

  #ended(info: WsCloseInfo): void {
    this.#owner.release(this.#client);
    const left = this.#pendingCount;
    this.#res.unanswered += left;
    this.#host.counters.unanswered += left;
    this.#pending = null;
    this.#pendingCount = 0;
    const gone = new Error(`WebSocket closed (${info.code}${info.reason ? ` ${info.reason}` : ''})`);
    if (this.#closeRejects) for (const r of [...this.#closeRejects]) r(gone);
    this.#closeRejects = null;
    if (this.#waiting) for (const p of this.#waiting) p.waiter?.reject(gone);
    this.#waiting = null;
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = null;
    this.#closeResolve(info);
  }
}

/**
 * The WebSocket fast path (`protocol: 'ws'`, static requests): each VU holds one WebSocket and
 * each exchange sends the request's body as one message and ends with the next message the
 * server sends (an echo, or the reply of a request/reply protocol). No user JavaScript runs per
 * message: like the HTTP/1.1 and gRPC fast paths, the request arrives as the HTTP/1.1 bytes
 * prepared once, translated here once per payload (the upgrade request and the message), and one
 * `Exchange` object per connection is reused.
 */
import { isUtf8 } from 'node:buffer';
import { engineNow } from '../engine-clock.js';
import type { WsCounters } from '../script-ws.js';
import { WsClient, WsState, handshakeHead, type WsClientEvents } from '../ws-client.js';
import { Opcode, encodeFrame } from '../ws-frames.js';
import type { Connection, Exchange, NetworkErrorKind, Origin, Transport } from './transport.js';

/** A prepared request as the WebSocket path sends it. */
interface WsRequest {
  /** The handshake request head (see handshakeHead), without the key. */
  head: string;
  protocols: string[];
  /** The message: the request body (text when it is valid UTF-8, else binary). */
  message: Buffer;
  opcode: Opcode;
}

const translated = new WeakMap<Buffer, WsRequest>();
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Reads the upgrade target, headers and message out of a prepared HTTP/1.1 request (once per payload). */
function translate(payload: Buffer, origin: Origin): WsRequest {
  let t = translated.get(payload);
  if (t) return t;
  const end = payload.indexOf(CRLFCRLF);
  const head = payload.toString('latin1', 0, end === -1 ? payload.length : end);
  const lines = head.split('\r\n');
  const path = lines[0]!.split(' ')[1] ?? '/';
  const headers: Record<string, string> = {};
  let protocols: string[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (lower === 'sec-websocket-protocol') protocols = value.split(',').map((p) => p.trim()).filter((p) => p !== '');
    else if (lower !== 'content-type' && lower !== 'content-length') headers[name] = value;
  }
  const message = end === -1 ? Buffer.alloc(0) : payload.subarray(end + 4);
  t = { head: handshakeHead(path, origin.authority, headers, protocols), protocols, message, opcode: isUtf8(message) ? Opcode.Text : Opcode.Binary };
  translated.set(payload, t);
  return t;
}

function emptyCounters(): WsCounters {
  return { connections: 0, failedHandshakes: 0, messagesSent: 0, messagesReceived: 0, unanswered: 0, closeCodes: {} };
}

/** Handshake timeout of fast-path connections (the run's request timeout also applies, by sweep). */
const HANDSHAKE_TIMEOUT_MS = 10_000;

class WsFastConnection implements Connection {
  readonly #origin: Origin;
  readonly #counters: WsCounters;
  #client: WsClient | null = null;
  #request: WsRequest | null = null;
  #lastPayload: Buffer | null = null;
  #lastRequest: WsRequest | null = null;
  #callback: ((ex: Exchange) => void) | null = null;
  #connectMs = 0;
  #closed = false;
  readonly #ex: Exchange = { status: 0, error: null, errorDetail: null, sentAt: 0, firstByteAt: 0, endedAt: 0, connectMs: 0, bytesSent: 0, bytesReceived: 0, rawHeaders: null, body: null };
  startedAt = 0;

  constructor(origin: Origin, counters: WsCounters) {
    this.#origin = origin;
    this.#counters = counters;
  }

  get busy(): boolean {
    return this.#callback !== null;
  }

  exchange(payload: Buffer, _method: string, callback: (result: Exchange) => void): void {
    if (this.#callback) throw new Error('WsFastConnection: exchange while busy');
    this.#callback = callback;
    const now = engineNow();
    this.startedAt = now;
    // A VU sends the same payload again and again: the last translation first, the WeakMap after.
    let request = this.#lastRequest;
    if (payload !== this.#lastPayload || !request) {
      request = translate(payload, this.#origin);
      this.#lastPayload = payload;
      this.#lastRequest = request;
    }
    this.#request = request;
    const client = this.#client;
    if (client && client.readyState === WsState.Open) {
      this.#connectMs = 0;
      this.#send(client, request, now);
    } else if (!client || client.readyState > WsState.Open) this.#open(request);
    // else: still connecting; #onOpen sends.
  }

  #open(request: WsRequest): void {
    let client: WsClient | null = null;
    const events: WsClientEvents = {
      onWsOpen: () => this.#onOpen(client!),
      onWsMessage: (_data, _binary, frameBytes) => this.#onMessage(client!, frameBytes),
      onWsHandshakeFailed: (status, kind, detail) => this.#onHandshakeFailed(client!, status, kind, detail),
      onWsClose: (code, reason) => this.#onClose(client!, code, reason),
    };
    client = new WsClient({ origin: this.#origin, head: request.head, protocols: request.protocols, handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS }, events);
    this.#client = client;
  }

  #send(client: WsClient, request: WsRequest, now: number): void {
    const frame = encodeFrame(request.opcode, request.message);
    const ex = this.#ex;
    ex.sentAt = now;
    ex.bytesSent = frame.length;
    client.sendFrame(frame);
    this.#counters.messagesSent++;
  }

  #onOpen(client: WsClient): void {
    if (client !== this.#client) return;
    this.#counters.connections++;
    if (this.#closed) {
      client.close(1000);
      return;
    }
    const now = engineNow();
    this.#connectMs = now - this.startedAt;
    if (this.#callback && this.#request) this.#send(client, this.#request, now);
  }

  #onMessage(client: WsClient, frameBytes: number): void {
    this.#counters.messagesReceived++;
    if (client !== this.#client || !this.#callback) return; // a push between exchanges answers nothing
    const now = engineNow();
    const ex = this.#ex;
    ex.status = 101;
    ex.error = null;
    ex.errorDetail = null;
    ex.firstByteAt = now;
    ex.endedAt = now;
    ex.connectMs = this.#connectMs;
    ex.bytesReceived = frameBytes;
    this.#complete();
  }

  #onHandshakeFailed(client: WsClient, status: number, kind: NetworkErrorKind | null, detail: string): void {
    this.#counters.failedHandshakes++;
    if (client !== this.#client) return;
    this.#client = null;
    this.#fail(status, kind, detail);
  }

  #onClose(client: WsClient, code: number, reason: string): void {
    // Connections this side dropped or closed were counted when it did so.
    if (client !== this.#client) return;
    this.#client = null;
    this.#countClose(code);
    if (this.#callback) {
      this.#counters.unanswered++;
      // Frames this side refused (a masked frame, reserved bits, a message over the limit) are the
      // server breaking the protocol, not the connection going away.
      if (client.brokeProtocol) this.#fail(0, 'protocol', `WebSocket closed with ${code} by the client: ${reason}`);
      else this.#fail(0, 'reset', `WebSocket closed (${code}${reason ? ` ${reason}` : ''}) before the reply`);
    }
  }

  #fail(status: number, kind: NetworkErrorKind | null, detail: string): void {
    if (!this.#callback) return;
    const now = engineNow();
    const ex = this.#ex;
    ex.status = status;
    ex.error = kind;
    ex.errorDetail = detail;
    if (ex.sentAt < this.startedAt) ex.sentAt = this.startedAt;
    ex.firstByteAt = status ? now : 0;
    ex.endedAt = now;
    ex.connectMs = this.#connectMs;
    ex.bytesReceived = 0;
    this.#complete();
  }

  #complete(): void {
    const cb = this.#callback!;
    this.#callback = null;
    this.#request = null;
    cb(this.#ex);
  }

  #countClose(code: number): void {
    const codes = this.#counters.closeCodes;
    codes[code] = (codes[code] ?? 0) + 1;
  }

  abort(kind: NetworkErrorKind, detail: string): void {
    const client = this.#client;
    this.#client = null;
    if (client && client.readyState !== WsState.Connecting) this.#countClose(1006);
    if (this.#callback) this.#counters.unanswered++;
    this.#fail(0, kind, detail);
    client?.terminate();
  }

  close(): void {
    this.#closed = true;
    const client = this.#client;
    if (!client) return;
    // A polite close of an open connection: counted now, since the run's last snapshot is taken
    // before the server's answer could arrive.
    if (client.readyState === WsState.Open) {
      this.#client = null;
      this.#countClose(1000);
      client.close(1000);
    } else if (client.readyState === WsState.Connecting) client.terminate();
  }
}

/** The WebSocket fast-path transport of one thread, counting into `counters` (summary.ws). */
export function createWsFastTransport(counters: WsCounters = emptyCounters()): Transport {
  return {
    name: 'ws',
    connect: (origin: Origin) => new WsFastConnection(origin, counters),
  };
}

import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

/** Largest WebSocket message accepted from the inspector (a CPU profile is one message), in bytes. */
const MAX_MESSAGE_BYTES = 512 * 1024 * 1024;

type Pending = { resolve(value: unknown): void; reject(err: Error): void; timer: NodeJS.Timeout };

/**
 * A minimal Chrome DevTools Protocol client over a WebSocket (RFC 6455, text frames only), enough to
 * talk to a Node inspector on loopback without dependencies.
 */
export class InspectorClient {
  private buffer: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private fragmentsBytes = 0;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closedFlag = false;
  /** Resolves when the connection closes (never rejects). */
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;

  private constructor(private readonly socket: Socket) {
    this.closed = new Promise((resolve) => {
      this.resolveClosed = resolve;
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClose());
  }

  /** Opens a WebSocket to `ws://host:port/path`; rejects with a plain Error on failure. */
  static async connect(wsUrl: string, timeoutMs: number): Promise<InspectorClient> {
    const url = new URL(wsUrl);
    if (url.protocol !== 'ws:') throw new Error(`unsupported WebSocket URL ${wsUrl}`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const port = Number(url.port || 80);
    const key = randomBytes(16).toString('base64');
    const socket = connect({ host, port });
    return await new Promise<InspectorClient>((resolve, reject) => {
      let head = Buffer.alloc(0);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`WebSocket handshake with ${wsUrl} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        socket.write(
          `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      const onData = (chunk: Buffer): void => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) {
          if (head.length > 16 * 1024) fail(new Error('WebSocket handshake response too large'));
          return;
        }
        socket.off('data', onData);
        socket.off('error', fail);
        clearTimeout(timer);
        const status = head.subarray(0, head.indexOf('\r\n')).toString();
        if (!/^HTTP\/1\.1 101/.test(status)) {
          socket.destroy();
          reject(new Error(`WebSocket handshake refused: ${status}`));
          return;
        }
        const client = new InspectorClient(socket);
        const rest = head.subarray(end + 4);
        if (rest.length > 0) client.onData(rest);
        resolve(client);
      };
      socket.on('data', onData);
    });
  }

  /** True once the connection closed. */
  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Sends a CDP command and resolves with its `result`; rejects on a protocol error or timeout. */
  send<T = unknown>(method: string, params: object = {}, timeoutMs = 30_000): Promise<T> {
    if (this.closedFlag) return Promise.reject(new Error('inspector connection is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`inspector did not answer ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.writeFrame(Buffer.from(JSON.stringify({ id, method, params })));
    });
  }

  private readonly eventListeners = new Set<(method: string, params: Record<string, unknown>) => void>();

  /** Subscribes to CDP events (messages without an id); returns the unsubscribe function. */
  onEvent(listener: (method: string, params: Record<string, unknown>) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Closes the connection. */
  close(): void {
    if (this.closedFlag) return;
    try {
      this.writeFrame(Buffer.alloc(0), 0x8);
    } catch {
      // ignore
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 500).unref();
  }

  private writeFrame(payload: Buffer, opcode = 0x1): void {
    const mask = randomBytes(4);
    let header: Buffer;
    if (payload.length < 126) {
      header = Buffer.from([0x80 | opcode, 0x80 | payload.length]);
    } else if (payload.length < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 126;
      header.writeUInt16BE(payload.length, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    const masked = Buffer.alloc(payload.length);
    for (let i = 0; i < payload.length; i++) masked[i] = (payload[i] as number) ^ (mask[i & 3] as number);
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const b0 = this.buffer[0] as number;
      const b1 = this.buffer[1] as number;
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const maskOffset = offset;
      if (masked) offset += 4;
      if (length > MAX_MESSAGE_BYTES) {
        this.socket.destroy();
        return;
      }
      if (this.buffer.length < offset + length) return;
      let payload = this.buffer.subarray(offset, offset + length);
      if (masked) {
        const mask = this.buffer.subarray(maskOffset, maskOffset + 4);
        payload = Buffer.from(payload.map((byte, i) => byte ^ (mask[i & 3] as number)));
      }
      this.buffer = this.buffer.subarray(offset + length);
      const opcode = b0 & 0x0f;
      const fin = (b0 & 0x80) !== 0;
      if (opcode === 0x8) {
        this.socket.end();
        return;
      }
      if (opcode === 0x9) {
        this.writeFrame(Buffer.from(payload), 0xa);
        continue;
      }
      if (opcode === 0xa) continue;
      this.fragments.push(Buffer.from(payload));
      this.fragmentsBytes += payload.length;
      if (this.fragmentsBytes > MAX_MESSAGE_BYTES) {
        this.socket.destroy();
        return;
      }
      if (!fin) continue;
      const text = Buffer.concat(this.fragments).toString('utf8');
      this.fragments = [];
      this.fragmentsBytes = 0;
      this.onMessage(text);
    }
  }

  private onMessage(text: string): void {
    let message: { id?: number; result?: unknown; error?: { message?: string } };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (typeof message.id !== 'number') {
      const event = message as { method?: unknown; params?: unknown };
      if (typeof event.method === 'string') for (const l of this.eventListeners) l(event.method, (event.params ?? {}) as Record<string, unknown>);
      return;
    }
    const p = this.pending.get(message.id);
    if (!p) return;
    this.pending.delete(message.id);
    clearTimeout(p.timer);
    if (message.error) p.reject(new Error(message.error.message ?? 'inspector error'));
    else p.resolve(message.result);
  }

  private onClose(): void {
    this.closedFlag = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new Error('inspector connection closed'));
    }
    this.pending.clear();
    this.resolveClosed();
  }
}

/**
 * WebSocket framing of a client (RFC 6455 §5): masked frames out, unmasked frames in. Redline's
 * own instead of `ws`'s because a load generator pays the library's per-message costs (a Writable
 * stream per socket, two writes per frame, a Readable for the socket) once per message, and its
 * per-socket objects once per connection: this is what `ctx.ws` and the `protocol: 'ws'` fast path
 * share. No extensions are offered, so there is no permessage-deflate and no zlib context.
 */
import { randomFillSync } from 'node:crypto';

/** Frame opcodes (RFC 6455 §5.2). */
export const enum Opcode {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xa,
}

/** Default limit of one received message (all its fragments), as `ws`'s `maxPayload`: 100 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 100 * 1024 * 1024;

/** Close codes a peer may send in a close frame (RFC 6455 §7.4; 1004–1006 and 1015 never go on the wire). */
export function isValidCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/**
 * Masking keys come from a pool of random bytes refilled 8 KiB at a time: a client must mask with
 * an unpredictable key (§5.3), and one `randomFillSync` per 2,048 frames costs far less than one
 * per frame.
 */
const MASK_POOL_BYTES = 8192;
const maskPool = Buffer.allocUnsafe(MASK_POOL_BYTES);
let maskAt = MASK_POOL_BYTES;

function headerLength(payloadLength: number): number {
  return payloadLength < 126 ? 6 : payloadLength < 65536 ? 8 : 14;
}

/**
 * One complete client frame (FIN set) of `opcode` carrying `payload` (a string is sent as UTF-8),
 * masked with a fresh key, as one buffer: one socket write per message.
 */
export function encodeFrame(opcode: Opcode, payload: Buffer | string): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const head = headerLength(length);
  const frame = Buffer.allocUnsafe(head + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 0x80 | 127;
    frame.writeUInt32BE(Math.floor(length / 0x1_0000_0000), 2);
    frame.writeUInt32BE(length >>> 0, 6);
  }
  if (maskAt + 4 > MASK_POOL_BYTES) {
    randomFillSync(maskPool);
    maskAt = 0;
  }
  const m0 = maskPool[maskAt]!;
  const m1 = maskPool[maskAt + 1]!;
  const m2 = maskPool[maskAt + 2]!;
  const m3 = maskPool[maskAt + 3]!;
  maskAt += 4;
  const k = head - 4;
  frame[k] = m0;
  frame[k + 1] = m1;
  frame[k + 2] = m2;
  frame[k + 3] = m3;
  if (typeof payload === 'string') frame.write(payload, head, 'utf8');
  else payload.copy(frame, head);
  const end = head + length;
  let i = head;
  for (; i + 4 <= end; i += 4) {
    frame[i] = frame[i]! ^ m0;
    frame[i + 1] = frame[i + 1]! ^ m1;
    frame[i + 2] = frame[i + 2]! ^ m2;
    frame[i + 3] = frame[i + 3]! ^ m3;
  }
  for (let j = 0; i < end; i++, j++) frame[i] = frame[i]! ^ (j === 0 ? m0 : j === 1 ? m1 : m2);
  return frame;
}

/** The payload of a close frame: the code (2 bytes) and a UTF-8 reason cut to fit 125 bytes. */
export function closePayload(code: number, reason: string): Buffer {
  let r = Buffer.from(reason, 'utf8');
  if (r.length > 123) r = r.subarray(0, 123);
  const out = Buffer.allocUnsafe(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

/** What a FrameReader delivers. */
export interface FrameSink {
  /**
   * A complete data message. `data` may be a view of a buffer that is reused after the call
   * returns: copy what must outlive it. `frameBytes` counts the frames' headers too.
   */
  onMessage(data: Buffer, binary: boolean, frameBytes: number): void;
  /** A ping: answer with a pong carrying `data` (valid during the call only). */
  onPing(data: Buffer): void;
  /** The peer's close frame (code 1005 when it carried none). */
  onCloseFrame(code: number, reason: string): void;
  /** The peer broke the protocol: close with `closeCode` (1002, or 1009 for a message over the limit). */
  onProtocolError(closeCode: number, message: string): void;
}

const enum ReadState {
  Header,
  Payload,
  Done,
}

/**
 * Incremental decoder of the frames a server sends. Complete frames are handed over as views of
 * the pushed chunk (no copy); only a frame split across reads is assembled into a buffer of its
 * own length. Fragmented messages are joined up to `maxMessageBytes`. Server frames must not be
 * masked, use no reserved bits (no extension was negotiated) and known opcodes; control frames
 * must be final and at most 125 bytes.
 */
export class FrameReader {
  readonly #sink: FrameSink;
  readonly #maxMessageBytes: number;
  #state = ReadState.Header;
  /** Bytes of an incomplete frame header kept from the previous chunk (at most 13). */
  #head: Buffer | null = null;
  #opcode = 0;
  #fin = false;
  #frameHeaderBytes = 0;
  /** Payload of a frame split across reads, and how much of it has arrived. */
  #payload: Buffer | null = null;
  #filled = 0;
  /** Data frames of a fragmented message so far (first frame's opcode in #fragmentOpcode). */
  #fragments: Buffer[] | null = null;
  #fragmentBytes = 0;
  #fragmentFrameBytes = 0;
  #fragmentOpcode = 0;

  constructor(sink: FrameSink, maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {
    this.#sink = sink;
    this.#maxMessageBytes = maxMessageBytes;
  }

  /** Stops decoding (after a close frame, an error, or the socket's end): later bytes are ignored. */
  stop(): void {
    this.#state = ReadState.Done;
    this.#payload = null;
    this.#fragments = null;
    this.#head = null;
  }

  get stopped(): boolean {
    return this.#state === ReadState.Done;
  }

  /** Decodes `chunk` (which may be reused by the caller once this returns). */
  push(chunk: Buffer): void {
    let data = chunk;
    let at = 0;
    if (this.#head) {
      data = Buffer.concat([this.#head, chunk]);
      this.#head = null;
    }
    const end = data.length;
    while (at < end && this.#state !== ReadState.Done) {
      if (this.#state === ReadState.Payload) {
        const payload = this.#payload!;
        const n = Math.min(payload.length - this.#filled, end - at);
        data.copy(payload, this.#filled, at, at + n);
        this.#filled += n;
        at += n;
        if (this.#filled === payload.length) {
          this.#payload = null;
          this.#state = ReadState.Header;
          this.#frame(payload);
        }
        continue;
      }
      // Header: 2 bytes, then 0, 2 or 8 bytes of extended length (a server never masks).
      if (end - at < 2) {
        this.#head = Buffer.from(data.subarray(at));
        return;
      }
      const b0 = data[at]!;
      const b1 = data[at + 1]!;
      const len7 = b1 & 0x7f;
      const headBytes = len7 < 126 ? 2 : len7 === 126 ? 4 : 10;
      if (end - at < headBytes) {
        this.#head = Buffer.from(data.subarray(at));
        return;
      }
      if (!this.#checkHeader(b0, b1)) return;
      let length = len7;
      if (len7 === 126) length = data.readUInt16BE(at + 2);
      else if (len7 === 127) {
        const high = data.readUInt32BE(at + 2);
        if (high > 0x1f_ffff) return this.#fail(1009, 'frame length beyond 2^53');
        length = high * 0x1_0000_0000 + data.readUInt32BE(at + 6);
      }
      this.#opcode = b0 & 0x0f;
      this.#fin = (b0 & 0x80) !== 0;
      this.#frameHeaderBytes = headBytes;
      if (this.#opcode >= Opcode.Close && length > 125) return this.#fail(1002, `control frame (opcode ${this.#opcode}) with a ${length}-byte payload: at most 125 allowed`);
      if (length + (this.#opcode < Opcode.Close ? this.#fragmentBytes : 0) > this.#maxMessageBytes) {
        return this.#fail(1009, `message larger than ${this.#maxMessageBytes} bytes`);
      }
      at += headBytes;
      if (end - at >= length) {
        const payload = data.subarray(at, at + length);
        at += length;
        this.#frame(payload);
      } else {
        this.#payload = Buffer.allocUnsafe(length);
        this.#filled = 0;
        this.#state = ReadState.Payload;
      }
    }
  }

  #checkHeader(b0: number, b1: number): boolean {
    if ((b0 & 0x70) !== 0) {
      this.#fail(1002, 'reserved bits set in a frame (no extension was negotiated)');
      return false;
    }
    if ((b1 & 0x80) !== 0) {
      this.#fail(1002, 'the server masked a frame (RFC 6455 §5.1: servers must not)');
      return false;
    }
    const opcode = b0 & 0x0f;
    const fin = (b0 & 0x80) !== 0;
    if (opcode >= Opcode.Close) {
      if (opcode > Opcode.Pong) {
        this.#fail(1002, `unknown control opcode 0x${opcode.toString(16)}`);
        return false;
      }
      if (!fin) {
        this.#fail(1002, 'fragmented control frame');
        return false;
      }
      return true;
    }
    if (opcode > Opcode.Binary) {
      this.#fail(1002, `unknown data opcode 0x${opcode.toString(16)}`);
      return false;
    }
    if (opcode === Opcode.Continuation && !this.#fragments) {
      this.#fail(1002, 'continuation frame without a message to continue');
      return false;
    }
    if (opcode !== Opcode.Continuation && this.#fragments) {
      this.#fail(1002, 'new message before the fragmented one ended');
      return false;
    }
    return true;
  }

  /** One whole frame's payload (a view: consumed now or copied). */
  #frame(payload: Buffer): void {
    const opcode = this.#opcode;
    const frameBytes = this.#frameHeaderBytes + payload.length;
    switch (opcode) {
      case Opcode.Text:
      case Opcode.Binary:
        if (this.#fin) this.#sink.onMessage(payload, opcode === Opcode.Binary, frameBytes);
        else {
          this.#fragments = [Buffer.from(payload)];
          this.#fragmentBytes = payload.length;
          this.#fragmentFrameBytes = frameBytes;
          this.#fragmentOpcode = opcode;
        }
        return;
      case Opcode.Continuation: {
        const parts = this.#fragments!;
        parts.push(this.#fin ? payload : Buffer.from(payload));
        this.#fragmentBytes += payload.length;
        this.#fragmentFrameBytes += frameBytes;
        if (!this.#fin) return;
        const whole = Buffer.concat(parts, this.#fragmentBytes);
        const total = this.#fragmentFrameBytes;
        this.#fragments = null;
        this.#fragmentBytes = 0;
        this.#fragmentFrameBytes = 0;
        this.#sink.onMessage(whole, this.#fragmentOpcode === Opcode.Binary, total);
        return;
      }
      case Opcode.Ping:
        this.#sink.onPing(payload);
        return;
      case Opcode.Pong:
        return;
      case Opcode.Close: {
        if (payload.length === 1) return this.#fail(1002, 'close frame with a 1-byte payload');
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        if (payload.length >= 2 && !isValidCloseCode(code)) return this.#fail(1002, `invalid close code ${code}`);
        const reason = payload.length > 2 ? payload.toString('utf8', 2) : '';
        this.stop();
        this.#sink.onCloseFrame(code, reason);
        return;
      }
    }
  }

  #fail(closeCode: number, message: string): void {
    this.stop();
    this.#sink.onProtocolError(closeCode, message);
  }
}

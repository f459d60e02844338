/**
 * A small protobuf writer: enough for Prometheus remote-write (`prompb.WriteRequest`). Messages are
 * built as byte arrays and nested as length-delimited fields; no schema compiler. Bytes go into one
 * growing Uint8Array and varints of safe integers are written with plain numbers (BigInt only for
 * what does not fit 53 bits): the writer runs every second on the runner's main thread.
 */
const utf8 = new TextEncoder();
const scratch = new DataView(new ArrayBuffer(8));
const TWO_POW_53 = 2 ** 53;

export class ProtoWriter {
  #buf = new Uint8Array(64);
  #len = 0;

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
  #byte(v: number): void {
    this.#ensure(1);
    this.#buf[this.#len++] = v;
  }
  #varint(v: bigint | number): void {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < TWO_POW_53) {
      this.#ensure(8);
      while (v >= 0x80) {
        this.#buf[this.#len++] = (v % 0x80) | 0x80;
        v = Math.floor(v / 0x80);
      }
      this.#buf[this.#len++] = v;
      return;
    }
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.#byte(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.#byte(Number(x));
  }
  /** Zigzag: 0, −1, 1, −2 … → 0, 1, 2, 3 … */
  #zigzag(v: number): void {
    if (Number.isInteger(v) && Math.abs(v) < TWO_POW_53 / 2) {
      this.#varint(v >= 0 ? v * 2 : -v * 2 - 1);
      return;
    }
    const n = BigInt(v);
    this.#varint(n >= 0n ? n << 1n : ((-n) << 1n) - 1n);
  }
  #tag(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }
  #raw(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }
  /** uint32/uint64/int64 (two's complement for negatives) as a varint. */
  uint(field: number, v: number | bigint): this {
    this.#tag(field, 0);
    this.#varint(v);
    return this;
  }
  /** sint32/sint64 (zigzag). */
  sint(field: number, v: number): this {
    this.#tag(field, 0);
    this.#zigzag(v);
    return this;
  }
  double(field: number, v: number): this {
    this.#tag(field, 1);
    scratch.setFloat64(0, v, true);
    this.#ensure(8);
    for (let i = 0; i < 8; i++) this.#buf[this.#len++] = scratch.getUint8(i);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.#tag(field, 2);
    this.#varint(b.length);
    this.#raw(b);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }
  message(field: number, w: ProtoWriter): this {
    return this.bytes(field, w.#buf.subarray(0, w.#len));
  }
  /** Appends fields encoded earlier (e.g. a series' labels, the same every second). */
  append(encoded: Uint8Array): this {
    this.#raw(encoded);
    return this;
  }
  /** Packed repeated sint64 (zigzag varints in one length-delimited field). */
  packedSint(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) inner.#zigzag(v);
    return this.message(field, inner);
  }
  /** A copy of the bytes written. */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

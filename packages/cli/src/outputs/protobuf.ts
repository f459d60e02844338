/**
 * A small protobuf writer: enough for Prometheus remote-write (`prompb.WriteRequest`). Messages are
 * built as byte arrays and nested as length-delimited fields; no schema compiler.
 */
export class ProtoWriter {
  readonly #parts: number[] = [];

  #varint(v: bigint | number): void {
    let x = BigInt.asUintN(64, BigInt(v));
    while (x >= 0x80n) {
      this.#parts.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    this.#parts.push(Number(x));
  }
  #tag(field: number, wire: number): void {
    this.#varint((field << 3) | wire);
  }
  /** uint32/uint64/int64 (two's complement for negatives) as a varint. */
  uint(field: number, v: number | bigint): this {
    this.#tag(field, 0);
    this.#varint(v);
    return this;
  }
  /** sint32/sint64 (zigzag). */
  sint(field: number, v: number): this {
    const n = BigInt(v);
    this.#tag(field, 0);
    this.#varint(n >= 0n ? n << 1n : ((-n) << 1n) - 1n);
    return this;
  }
  double(field: number, v: number): this {
    this.#tag(field, 1);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, v, true);
    for (const x of b) this.#parts.push(x);
    return this;
  }
  bytes(field: number, b: Uint8Array): this {
    this.#tag(field, 2);
    this.#varint(b.length);
    for (const x of b) this.#parts.push(x);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, w: ProtoWriter): this {
    return this.bytes(field, w.finish());
  }
  /** Packed repeated sint64 (zigzag varints in one length-delimited field). */
  packedSint(field: number, values: readonly number[]): this {
    if (values.length === 0) return this;
    const inner = new ProtoWriter();
    for (const v of values) {
      const n = BigInt(v);
      inner.#varint(n >= 0n ? n << 1n : ((-n) << 1n) - 1n);
    }
    return this.bytes(field, inner.finish());
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.#parts);
  }
}

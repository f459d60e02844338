/**
 * Snappy block format (what Prometheus remote-write expects with `Content-Encoding: snappy`): a
 * varint of the uncompressed length, then literals and back-references. Pure TypeScript so the CLI
 * needs no native module; a greedy single-hash matcher like the reference encoder's fast path.
 */

const HASH_BITS = 14;
const MAX_OFFSET = 65_535;

function hash32(x: number): number {
  return Math.imul(x, 0x1e35a7bd) >>> (32 - HASH_BITS);
}

function read32(b: Uint8Array, i: number): number {
  return (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0;
}

class ByteOut {
  buf: Uint8Array;
  len = 0;
  constructor(size: number) {
    this.buf = new Uint8Array(Math.max(16, size));
  }
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
  }
  bytes(src: Uint8Array, from: number, to: number): void {
    this.ensure(to - from);
    this.buf.set(src.subarray(from, to), this.len);
    this.len += to - from;
  }
  varint(v: number): void {
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }
}

function emitLiteral(out: ByteOut, src: Uint8Array, from: number, to: number): void {
  let n = to - from;
  if (n <= 0) return;
  n -= 1;
  if (n < 60) out.byte(n << 2);
  else if (n < 1 << 8) {
    out.byte(60 << 2);
    out.byte(n);
  } else if (n < 1 << 16) {
    out.byte(61 << 2);
    out.byte(n);
    out.byte(n >>> 8);
  } else if (n < 1 << 24) {
    out.byte(62 << 2);
    out.byte(n);
    out.byte(n >>> 8);
    out.byte(n >>> 16);
  } else {
    out.byte(63 << 2);
    out.byte(n);
    out.byte(n >>> 8);
    out.byte(n >>> 16);
    out.byte(n >>> 24);
  }
  out.bytes(src, from, to);
}

/** A copy with a 2-byte offset: lengths 1–64 per element. */
function emitCopy(out: ByteOut, offset: number, length: number): void {
  while (length > 0) {
    const n = Math.min(64, length);
    out.byte(((n - 1) << 2) | 2);
    out.byte(offset);
    out.byte(offset >>> 8);
    length -= n;
  }
}

/** Compresses `src` into one snappy block. */
export function snappyCompress(src: Uint8Array): Uint8Array {
  const n = src.length;
  const out = new ByteOut(32 + n + Math.ceil(n / 6));
  out.varint(n);
  const table = new Int32Array(1 << HASH_BITS).fill(-1);
  let i = 0;
  let literalStart = 0;
  while (i + 4 <= n) {
    const word = read32(src, i);
    const h = hash32(word);
    const candidate = table[h]!;
    table[h] = i;
    if (candidate >= 0 && i - candidate <= MAX_OFFSET && read32(src, candidate) === word) {
      emitLiteral(out, src, literalStart, i);
      let len = 4;
      while (i + len < n && src[candidate + len] === src[i + len]) len++;
      emitCopy(out, i - candidate, len);
      i += len;
      literalStart = i;
    } else i++;
  }
  emitLiteral(out, src, literalStart, n);
  return out.buf.subarray(0, out.len);
}

/** Decompresses one snappy block (for tests and for reading what was sent); throws on corrupt input. */
export function snappyDecompress(src: Uint8Array): Uint8Array {
  let pos = 0;
  let length = 0;
  let shift = 1;
  for (;;) {
    const b = src[pos++];
    if (b === undefined) throw new Error('snappy: truncated length');
    length += (b & 0x7f) * shift;
    if (b < 0x80) break;
    shift *= 128;
  }
  const out = new Uint8Array(length);
  let o = 0;
  while (pos < src.length) {
    const tag = src[pos++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        len = 0;
        for (let k = 0; k < extra; k++) len |= src[pos++]! << (8 * k);
        len >>>= 0;
      }
      len += 1;
      if (pos + len > src.length || o + len > length) throw new Error('snappy: literal overruns');
      out.set(src.subarray(pos, pos + len), o);
      pos += len;
      o += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[pos++]!;
    } else if (kind === 2) {
      len = (tag >>> 2) + 1;
      offset = src[pos]! | (src[pos + 1]! << 8);
      pos += 2;
    } else {
      len = (tag >>> 2) + 1;
      offset = read32(src, pos);
      pos += 4;
    }
    if (offset === 0 || offset > o || o + len > length) throw new Error('snappy: bad copy');
    for (let k = 0; k < len; k++, o++) out[o] = out[o - offset]!;
  }
  if (o !== length) throw new Error('snappy: length mismatch');
  return out;
}

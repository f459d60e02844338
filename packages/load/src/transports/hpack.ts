/**
 * The part of HPACK (RFC 7541) that Redline's own HTTP/2 framing needs, in one place: it encodes a
 * request's header block once per request template, and it reads the two response fields the fast
 * paths need (`:status` for HTTP/2, `grpc-status` for gRPC) without a full decoder.
 *
 * No dynamic table is ever used: request blocks are literal fields "without indexing" (or fully
 * indexed static entries), and the connection sets SETTINGS_HEADER_TABLE_SIZE to 0, so a server
 * cannot index what it sends either. Every field in a response block is then either a static-table
 * index or a literal, which a reader can skip without state. `node:http2` (scripts) has its own
 * full decoder; nothing here is used there.
 */

/** A request's fields as HTTP/2 sends them: lower-case header names, connection headers removed. */
export interface RequestFields {
  method: string;
  path: string;
  authority: string;
  headers: ReadonlyArray<readonly [string, string]>;
}

// --- Integers and strings (RFC 7541 §5.1, §5.2) ---

/** Offset just past the integer the last `readInt` call read. */
let intEnd = 0;

/**
 * Reads an HPACK integer with a `prefixBits`-bit prefix at `at` and sets `intEnd` past it. Returns
 * -1 when the integer is truncated or larger than 2^28 (no field this reader meets comes close).
 * No tuple is allocated: the hot path reads one or two integers per response.
 */
function readInt(buf: Uint8Array, at: number, end: number, prefixBits: number): number {
  if (at >= end) return -1;
  const max = (1 << prefixBits) - 1;
  let value = buf[at]! & max;
  let i = at + 1;
  if (value < max) {
    intEnd = i;
    return value;
  }
  let shift = 0;
  for (;;) {
    if (i >= end || shift > 21) return -1;
    const b = buf[i++]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) {
      intEnd = i;
      return value;
    }
  }
}

/** Appends an HPACK integer with a `prefixBits`-bit prefix, its first byte or-ed with `flags`. */
function pushInt(out: number[], value: number, prefixBits: number, flags: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(flags | value);
    return;
  }
  out.push(flags | max);
  let v = value - max;
  while (v >= 128) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

/** Appends a raw (not Huffman-coded) string literal. */
function pushString(out: number[], s: string): void {
  const bytes = Buffer.from(s, 'latin1');
  pushInt(out, bytes.length, 7, 0);
  for (const b of bytes) out.push(b);
}

// --- Request header blocks ---

/** Static-table indexes (RFC 7541 Appendix A) of the pseudo-header names. */
const NAME_AUTHORITY = 1;
const NAME_METHOD = 2;
const NAME_PATH = 4;

/**
 * Encodes a request's header block with "literal without indexing" fields (and fully indexed
 * `:method GET/POST`, `:path /`, `:scheme`), so the block is the same bytes for every request and
 * never touches the server's dynamic table: it is built once per request template and reused for
 * every stream.
 */
export function encodeRequestHeaderBlock(req: RequestFields, scheme: 'http' | 'https'): Buffer {
  const out: number[] = [];
  if (req.method === 'GET') out.push(0x82);
  else if (req.method === 'POST') out.push(0x83);
  else {
    pushInt(out, NAME_METHOD, 4, 0);
    pushString(out, req.method);
  }
  out.push(scheme === 'https' ? 0x87 : 0x86);
  if (req.path === '/') out.push(0x84);
  else {
    pushInt(out, NAME_PATH, 4, 0);
    pushString(out, req.path);
  }
  pushInt(out, NAME_AUTHORITY, 4, 0);
  pushString(out, req.authority);
  for (const [name, value] of req.headers) {
    out.push(0x00);
    pushString(out, name);
    pushString(out, value);
  }
  return Buffer.from(out);
}

// --- Reading response header blocks ---

/** Statuses of static-table entries 8–14. */
const STATIC_STATUS = [200, 204, 206, 304, 400, 404, 500];

/** HPACK Huffman codes (RFC 7541 Appendix B) of the digits '0'–'9': [code, bit length]. */
const DIGIT_CODES: ReadonlyArray<readonly [number, number]> = [
  [0x0, 5],
  [0x1, 5],
  [0x2, 5],
  [0x19, 6],
  [0x1a, 6],
  [0x1b, 6],
  [0x1c, 6],
  [0x1d, 6],
  [0x1e, 6],
  [0x1f, 6],
];

/** Decodes a Huffman-coded string of digits; -1 when it holds anything else (or nothing). */
export function huffmanDigits(buf: Uint8Array, from: number, to: number): number {
  let acc = 0;
  let bits = 0;
  let value = 0;
  let digits = 0;
  let i = from;
  for (;;) {
    // Try every digit code against the next bits.
    let matched = false;
    for (let d = 0; d < 10 && !matched; d++) {
      const [code, len] = DIGIT_CODES[d]!;
      while (bits < len && i < to) {
        acc = (acc << 8) | buf[i++]!;
        bits += 8;
      }
      if (bits < len) break;
      if (((acc >>> (bits - len)) & ((1 << len) - 1)) === code) {
        bits -= len;
        acc &= (1 << bits) - 1;
        value = value * 10 + d;
        digits++;
        matched = true;
      }
    }
    if (!matched) break;
  }
  // What is left must be EOS padding: fewer than 8 one-bits.
  if (bits >= 8 || acc !== (1 << bits) - 1 || digits === 0) return -1;
  return value;
}

/**
 * Reads the string literal at `at` as a non-negative decimal number (raw or Huffman-coded) and
 * sets `intEnd` past it; -1 when it is truncated, empty or holds anything but digits.
 */
function readDigits(buf: Uint8Array, at: number, end: number): number {
  if (at >= end) return -1;
  const huffman = (buf[at]! & 0x80) !== 0;
  const len = readInt(buf, at, end, 7);
  if (len < 0) return -1;
  const start = intEnd;
  const stop = start + len;
  if (stop > end) return -1;
  intEnd = stop;
  if (huffman) return huffmanDigits(buf, start, stop);
  let v = 0;
  for (let k = start; k < stop; k++) {
    const d = buf[k]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return stop > start ? v : -1;
}

/** Skips the string literal at `at` (sets `intEnd` past it); false when it is truncated. */
function skipString(buf: Uint8Array, at: number, end: number): boolean {
  const len = readInt(buf, at, end, 7);
  if (len < 0 || intEnd + len > end) return false;
  intEnd += len;
  return true;
}

/** The index of a literal field's name at `at` (0: a new name follows); sets `intEnd`. -1 when truncated. */
function literalNameIndex(buf: Uint8Array, at: number, end: number): number {
  // With incremental indexing (01xxxxxx), without indexing (0000xxxx) or never indexed (0001xxxx).
  return (buf[at]! & 0x40) !== 0 ? readInt(buf, at, end, 6) : readInt(buf, at, end, 4);
}

/**
 * Reads `:status` from the start of a response header block without decoding the rest: HTTP/2
 * puts pseudo-headers first and `:status` is a response's only one. Returns -1 when the block
 * does not start with a `:status` this reader can read.
 */
export function decodeStatus(buf: Uint8Array, from: number, end: number): number {
  if (from >= end) return -1;
  // The common case first: `:status 200` as static entry 8.
  if (buf[from] === 0x88) return 200;
  let i = from;
  // Dynamic table size updates (001xxxxx) may come first.
  while (i < end && (buf[i]! & 0xe0) === 0x20) {
    if (readInt(buf, i, end, 5) < 0) return -1;
    i = intEnd;
  }
  if (i >= end) return -1;
  const b = buf[i]!;
  if (b & 0x80) {
    const index = readInt(buf, i, end, 7);
    return index >= 8 && index <= 14 ? STATIC_STATUS[index - 8]! : -1;
  }
  const index = literalNameIndex(buf, i, end);
  if (index < 8 || index > 14) return -1;
  return readDigits(buf, intEnd, end);
}

const GRPC_STATUS = Buffer.from('grpc-status', 'latin1');
/** `grpc-status` Huffman-coded (RFC 7541 Appendix B), as nghttp2 and others send it. */
const GRPC_STATUS_HUFFMAN = Buffer.from('9acac8b21234da8f', 'hex');

/** True when the string literal at `at` is `grpc-status` (raw or Huffman-coded); sets `intEnd` past it, -1 when truncated. */
function nameIsGrpcStatus(buf: Uint8Array, at: number, end: number): number {
  const huffman = (buf[at]! & 0x80) !== 0;
  const len = readInt(buf, at, end, 7);
  if (len < 0) return -1;
  const start = intEnd;
  if (start + len > end) return -1;
  intEnd = start + len;
  const want = huffman ? GRPC_STATUS_HUFFMAN : GRPC_STATUS;
  if (len !== want.length) return 0;
  for (let k = 0; k < len; k++) if (buf[start + k] !== want[k]) return 0;
  return 1;
}

/**
 * Finds `grpc-status` in a header block (the trailers, or the headers of a trailers-only
 * response). It is not in the static table, so with the dynamic table off it always arrives as a
 * literal with a new name. Returns the status, or -1 when the block has none (or one this reader
 * cannot parse).
 */
export function readGrpcStatus(buf: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const b = buf[i]!;
    if (b & 0x80 || (b & 0xe0) === 0x20) {
      // An indexed field (static table: never grpc-status), or a dynamic table size update.
      if (readInt(buf, i, to, b & 0x80 ? 7 : 5) < 0) return -1;
      i = intEnd;
      continue;
    }
    const index = literalNameIndex(buf, i, to);
    if (index < 0 || intEnd >= to) return -1;
    i = intEnd;
    if (index === 0) {
      const named = nameIsGrpcStatus(buf, i, to);
      if (named < 0 || intEnd >= to) return -1;
      i = intEnd;
      if (named === 1) return readDigits(buf, i, to);
    }
    if (!skipString(buf, i, to)) return -1;
    i = intEnd;
  }
  return -1;
}

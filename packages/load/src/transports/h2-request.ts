/**
 * HTTP/2 request forms and the small part of HPACK (RFC 7541) the HTTP/2 fast path needs.
 *
 * Requests reach every transport as the HTTP/1.1 bytes `serializeRequest` made once (so executors
 * and request preparation do not change with the protocol); the HTTP/2 transports translate them
 * here, once per distinct payload on the fast path (cached by identity).
 */

/** One request in HTTP/2 terms. Header names are lower-case; connection-specific headers are dropped. */
export interface H2Request {
  method: string;
  path: string;
  authority: string;
  headers: Array<[string, string]>;
  body: Buffer | null;
}

/** Headers HTTP/2 forbids (RFC 9113 §8.2.2) or carries as pseudo-headers. */
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host']);

/** Translates HTTP/1.1 request bytes (as `serializeRequest` writes them) into an HTTP/2 request. */
export function h2RequestFromHttp1(payload: Buffer, fallbackAuthority: string): H2Request {
  let end = payload.indexOf('\r\n\r\n');
  if (end === -1) end = payload.length;
  const head = payload.toString('latin1', 0, end);
  const lines = head.split('\r\n');
  const requestLine = lines[0] ?? '';
  const sp1 = requestLine.indexOf(' ');
  const sp2 = requestLine.lastIndexOf(' ');
  const method = requestLine.slice(0, sp1);
  const path = requestLine.slice(sp1 + 1, sp2 > sp1 ? sp2 : undefined) || '/';
  let authority = fallbackAuthority;
  const headers: Array<[string, string]> = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'host') authority = value;
    if (DROPPED.has(name)) continue;
    if (name === 'te' && value.toLowerCase() !== 'trailers') continue;
    headers.push([name, value]);
  }
  const bodyStart = end + 4;
  const body = bodyStart < payload.length ? payload.subarray(bodyStart) : null;
  return { method, path, authority, headers, body };
}

/** HPACK integer with an `prefixBits`-bit prefix, first byte or-ed with `flags`. */
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

function pushString(out: number[], s: string): void {
  const bytes = Buffer.from(s, 'latin1');
  pushInt(out, bytes.length, 7, 0);
  for (const b of bytes) out.push(b);
}

/** Static-table indexes (RFC 7541 Appendix A) of the pseudo-header names. */
const NAME_AUTHORITY = 1;
const NAME_METHOD = 2;
const NAME_PATH = 4;

/**
 * Encodes a request's header block with "literal without indexing" fields (and fully indexed
 * `:method GET/POST`, `:path /`, `:scheme`), so the block is the same bytes for every request and
 * never touches the server's dynamic table: it is built once and reused for every stream.
 */
export function encodeRequestHeaderBlock(req: H2Request, scheme: 'http' | 'https'): Buffer {
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

/** Decodes a Huffman-coded string of digits; -1 when it holds anything else. */
export function huffmanDigits(buf: Buffer, from: number, to: number): number {
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

/** Reads an HPACK integer at `at`; returns [value, next offset] or null when truncated. */
function readInt(buf: Buffer, at: number, end: number, prefixBits: number): [number, number] | null {
  if (at >= end) return null;
  const max = (1 << prefixBits) - 1;
  let value = buf[at]! & max;
  let i = at + 1;
  if (value < max) return [value, i];
  let shift = 0;
  for (;;) {
    if (i >= end) return null;
    const b = buf[i++]!;
    value += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [value, i];
    if (shift > 28) return null;
  }
}

/**
 * Reads `:status` from the start of a response header block without decoding the rest: HTTP/2
 * puts pseudo-headers first and `:status` is a response's only one. Works because the fast path
 * sets SETTINGS_HEADER_TABLE_SIZE to 0, so the server's dynamic table never holds an entry this
 * decoder would have to know. Returns -1 when the block does not start with a `:status` it can read.
 */
export function decodeStatus(buf: Buffer, from: number, end: number): number {
  let i = from;
  // Dynamic table size updates (001xxxxx) may come first.
  while (i < end && (buf[i]! & 0xe0) === 0x20) {
    const r = readInt(buf, i, end, 5);
    if (!r) return -1;
    i = r[1];
  }
  if (i >= end) return -1;
  const b = buf[i]!;
  if (b & 0x80) {
    const r = readInt(buf, i, end, 7);
    if (!r || r[0] < 8 || r[0] > 14) return -1;
    return STATIC_STATUS[r[0] - 8]!;
  }
  // Literal with incremental indexing (01), without indexing (0000) or never indexed (0001).
  const r = (b & 0x40) !== 0 ? readInt(buf, i, end, 6) : readInt(buf, i, end, 4);
  if (!r || r[0] < 8 || r[0] > 14) return -1;
  i = r[1];
  if (i >= end) return -1;
  const huffman = (buf[i]! & 0x80) !== 0;
  const len = readInt(buf, i, end, 7);
  if (!len || len[1] + len[0] > end) return -1;
  const start = len[1];
  const stop = start + len[0];
  if (huffman) return huffmanDigits(buf, start, stop);
  let v = 0;
  for (let k = start; k < stop; k++) {
    const d = buf[k]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return stop > start ? v : -1;
}

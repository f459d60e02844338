/**
 * Strict pieces of HTTP/1.1 response framing (RFC 9112) and the limits that keep a hostile or
 * broken server from growing the generator's memory or spinning its CPU. Every function returns
 * -1 (or a message) for malformed input instead of guessing: a response whose framing cannot be
 * trusted fails as a `protocol` error and its connection is closed, because any later byte on it
 * could belong to the wrong response.
 */

/** Largest response header block (status line + fields), and largest trailer section, in bytes. */
export const MAX_HEADER_BLOCK_BYTES = 64 * 1024;
/** Largest chunk-size line (size plus chunk extensions), in bytes. */
export const MAX_CHUNK_LINE_BYTES = 4 * 1024;
/** Interim (1xx) responses accepted before the final response of one exchange. */
export const MAX_INTERIM_RESPONSES = 8;
/** Chunk sizes are at most 12 hex digits (256 TiB): exact in a double, and far beyond any real chunk. */
const MAX_CHUNK_SIZE_DIGITS = 12;
/** Content-Length at most 15 decimal digits (below 2^53, so exact in a double). */
const MAX_LENGTH_DIGITS = 15;

/**
 * The status code of a status line `HTTP/1.x SSS[ reason]` at the start of `head`, or -1 when the
 * line is malformed: wrong version, not exactly three digits, or outside 100–599 (RFC 9110 §15).
 */
export function parseStatusCode(head: string): number {
  if (head.length < 12 || !head.startsWith('HTTP/1.')) return -1;
  const minor = head.charCodeAt(7);
  if ((minor !== 48 && minor !== 49) || head.charCodeAt(8) !== 32) return -1;
  const d1 = head.charCodeAt(9) - 48;
  const d2 = head.charCodeAt(10) - 48;
  const d3 = head.charCodeAt(11) - 48;
  if (d1 < 1 || d1 > 5 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9) return -1;
  if (head.length > 12) {
    const next = head.charCodeAt(12);
    if (next !== 32 && next !== 13) return -1;
  }
  return d1 * 100 + d2 * 10 + d3;
}

/**
 * A Content-Length field value between `from` and `to` of `s`: one non-negative decimal, or a
 * comma-separated list of identical ones (RFC 9112 §6.3 lets a recipient accept those). -1 when
 * malformed, negative, too large, or a list of differing values.
 */
export function parseContentLength(s: string, from: number, to: number): number {
  let value = -1;
  let i = from;
  while (i <= to) {
    let end = s.indexOf(',', i);
    if (end === -1 || end > to) end = to;
    const n = parseDecimal(s, i, end);
    if (n < 0 || (value >= 0 && n !== value)) return -1;
    value = n;
    i = end + 1;
  }
  return value;
}

/** A non-negative decimal between `from` and `to`, skipping surrounding spaces and tabs; -1 when malformed. */
function parseDecimal(s: string, from: number, to: number): number {
  let i = from;
  while (i < to && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  let end = to;
  while (end > i && (s.charCodeAt(end - 1) === 32 || s.charCodeAt(end - 1) === 9)) end--;
  if (i === end || end - i > MAX_LENGTH_DIGITS) return -1;
  let n = 0;
  for (; i < end; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** What the Transfer-Encoding field (all occurrences joined with `,`) says about framing. */
export type TransferFraming = 'chunked' | 'until-close' | 'invalid';

/**
 * Chunked when `chunked` is the final coding; until-close when it is absent (a response with other
 * codings is delimited by the connection closing, RFC 9112 §6.3); invalid when `chunked` appears
 * anywhere but last, or the field is empty.
 */
export function transferFraming(value: string): TransferFraming {
  const codings = value
    .toLowerCase()
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  if (codings.length === 0) return 'invalid';
  const chunkedAt = codings.indexOf('chunked');
  if (chunkedAt === -1) return 'until-close';
  return chunkedAt === codings.length - 1 ? 'chunked' : 'invalid';
}

/**
 * The size of a chunk-size line (CR/LF already removed): hex digits, optional whitespace, then
 * optional `;extensions`, which are ignored. -1 when malformed (no digits, a sign, too many digits,
 * or anything else after the size).
 */
export function parseChunkSize(line: string): number {
  let n = 0;
  let i = 0;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (v < 0) break;
    if (i >= MAX_CHUNK_SIZE_DIGITS) return -1;
    n = n * 16 + v;
  }
  if (i === 0) return -1;
  while (i < line.length && (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9)) i++;
  if (i < line.length && line.charCodeAt(i) !== 59 /* ; */) return -1;
  return n;
}

import { huffmanDigits } from './h2-request.js';

/**
 * Finds `grpc-status` in an HPACK header block (the trailers, or the headers of a trailers-only
 * response) for the HTTP/2 fast path, without a full HPACK decoder: the fast path switches the
 * server's dynamic table off (SETTINGS_HEADER_TABLE_SIZE 0), and `grpc-status` is not in the static
 * table, so it always arrives as a literal with a new name — raw or Huffman-coded — and a value of
 * digits. Returns the status, or -1 when the block has none (or one this reader cannot parse).
 */

const NAME = Buffer.from('grpc-status', 'latin1');
/** `grpc-status` Huffman-coded (RFC 7541 Appendix B), as nghttp2 and others send it. */
const NAME_HUFFMAN = Buffer.from('9acac8b21234da8f', 'hex');

/** An HPACK integer with a `prefixBits`-bit prefix at `at`: [value, next offset], or null when truncated. */
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

function equalAt(buf: Buffer, from: number, to: number, want: Buffer): boolean {
  if (to - from !== want.length) return false;
  for (let k = 0; k < want.length; k++) if (buf[from + k] !== want[k]) return false;
  return true;
}

/** Reads `grpc-status` from a header block; -1 when absent. */
export function readGrpcStatus(buf: Buffer, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const b = buf[i]!;
    if (b & 0x80) {
      // Indexed field (static table): never grpc-status.
      const r = readInt(buf, i, to, 7);
      if (!r) return -1;
      i = r[1];
      continue;
    }
    if ((b & 0xe0) === 0x20) {
      // Dynamic table size update.
      const r = readInt(buf, i, to, 5);
      if (!r) return -1;
      i = r[1];
      continue;
    }
    // Literal with incremental indexing (01), without indexing (0000) or never indexed (0001).
    const idx = (b & 0x40) !== 0 ? readInt(buf, i, to, 6) : readInt(buf, i, to, 4);
    if (!idx) return -1;
    i = idx[1];
    let named = false;
    if (idx[0] === 0) {
      if (i >= to) return -1;
      const huffman = (buf[i]! & 0x80) !== 0;
      const len = readInt(buf, i, to, 7);
      if (!len || len[1] + len[0] > to) return -1;
      named = equalAt(buf, len[1], len[1] + len[0], huffman ? NAME_HUFFMAN : NAME);
      i = len[1] + len[0];
    }
    if (i >= to) return -1;
    const huffman = (buf[i]! & 0x80) !== 0;
    const len = readInt(buf, i, to, 7);
    if (!len || len[1] + len[0] > to) return -1;
    const start = len[1];
    const stop = start + len[0];
    if (named) {
      if (huffman) return huffmanDigits(buf, start, stop);
      let v = 0;
      for (let k = start; k < stop; k++) {
        const d = buf[k]! - 48;
        if (d < 0 || d > 9) return -1;
        v = v * 10 + d;
      }
      return stop > start ? v : -1;
    }
    i = stop;
  }
  return -1;
}

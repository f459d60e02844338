import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeStatus, encodeRequestHeaderBlock, huffmanDigits, readGrpcStatus } from '../src/transports/hpack.ts';

/** HPACK Huffman codes of '0'–'9' (RFC 7541 Appendix B), written out here independently of the reader. */
const CODES: Record<string, [number, number]> = {
  '0': [0b00000, 5],
  '1': [0b00001, 5],
  '2': [0b00010, 5],
  '3': [0b011001, 6],
  '4': [0b011010, 6],
  '5': [0b011011, 6],
  '6': [0b011100, 6],
  '7': [0b011101, 6],
  '8': [0b011110, 6],
  '9': [0b011111, 6],
};

/** Huffman-codes a string of digits, padded with the EOS prefix (one-bits). */
function huffman(digits: string): number[] {
  let bits = '';
  for (const c of digits) bits += CODES[c]![0].toString(2).padStart(CODES[c]![1], '0');
  while (bits.length % 8) bits += '1';
  const out: number[] = [];
  for (let i = 0; i < bits.length; i += 8) out.push(parseInt(bits.slice(i, i + 8), 2));
  return out;
}

const raw = (s: string): number[] => [s.length, ...Buffer.from(s, 'latin1')];
const huff = (digits: string): number[] => {
  const h = huffman(digits);
  return [0x80 | h.length, ...h];
};
const block = (...parts: number[][]): Buffer => Buffer.from(parts.flat());
const status = (b: Buffer): number => decodeStatus(b, 0, b.length);
const grpcStatus = (b: Buffer): number => readGrpcStatus(b, 0, b.length);

/** `grpc-status` Huffman-coded, as nghttp2 sends the name. */
const GRPC_STATUS_HUFFMAN = [0x88, 0x9a, 0xca, 0xc8, 0xb2, 0x12, 0x34, 0xda, 0x8f];

describe('HPACK: reading :status', () => {
  it('reads indexed statuses of the static table (entries 8–14)', () => {
    assert.deepEqual(
      [0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e].map((b) => status(block([b]))),
      [200, 204, 206, 304, 400, 404, 500],
    );
  });

  it('reads literal statuses, raw and Huffman-coded, with any of the three literal forms', () => {
    assert.equal(status(block([0x08], raw('503'))), 503, 'without indexing, name index 8');
    assert.equal(status(block([0x18], raw('429'))), 429, 'never indexed');
    assert.equal(status(block([0x48], raw('302'))), 302, 'with incremental indexing');
    assert.equal(status(block([0x08], huff('503'))), 503);
    assert.equal(status(block([0x48], huff('418'))), 418);
    assert.equal(status(block([0x08], huff('100'))), 100);
  });

  it('skips dynamic table size updates before :status', () => {
    assert.equal(status(block([0x20, 0x88])), 200);
    assert.equal(status(block([0x3f, 0xe1, 0x1f, 0x8d])), 404, 'a size update with a multi-byte integer');
  });

  it('returns -1 for blocks that do not start with a readable :status', () => {
    assert.equal(status(block([])), -1, 'empty');
    assert.equal(status(block([0x82])), -1, 'indexed :method GET');
    assert.equal(status(block([0x0f, 0x10], raw('200'))), -1, 'a literal with a non-status name index');
    assert.equal(status(block([0x08, 0x03, 0x32, 0x30])), -1, 'value shorter than its length');
    assert.equal(status(block([0x08], raw('2x0'))), -1, 'non-digits');
    assert.equal(status(block([0x08, 0x00])), -1, 'empty value');
    assert.equal(status(block([0x08, 0x81, 0xff])), -1, 'Huffman bits that are not digits');
    assert.equal(status(block([0x3f])), -1, 'truncated size update');
  });

  it('reads within the given range of a larger buffer', () => {
    const b = block([0xff, 0xff], [0x08], raw('201'), [0xff]);
    assert.equal(decodeStatus(b, 2, 7), 201);
    assert.equal(decodeStatus(b, 2, 6), -1, 'the range ends inside the value');
  });
});

describe('HPACK: Huffman digits', () => {
  it('decodes every digit and rejects padding of 8 bits or more', () => {
    for (const s of ['0', '7', '42', '1234567890', '99999']) {
      const h = Buffer.from(huffman(s));
      assert.equal(huffmanDigits(h, 0, h.length), Number(s), s);
    }
    const padded = Buffer.from([...huffman('5'), 0xff]);
    assert.equal(huffmanDigits(padded, 0, padded.length), -1);
    assert.equal(huffmanDigits(Buffer.from([0xff]), 0, 1), -1, 'no digit at all');
  });
});

describe('HPACK: reading grpc-status', () => {
  it('finds grpc-status after other fields, with a raw or Huffman-coded name and value', () => {
    const contentType = [0x0f, 0x10, ...raw('application/grpc')];
    assert.equal(grpcStatus(block([0x88], contentType, [0x00], raw('grpc-status'), raw('0'))), 0);
    assert.equal(grpcStatus(block([0x00], raw('grpc-message'), raw('not here'), [0x10], raw('grpc-status'), raw('5'))), 5);
    assert.equal(grpcStatus(block([0x00], GRPC_STATUS_HUFFMAN, huff('14'))), 14);
    assert.equal(grpcStatus(block([0x40], GRPC_STATUS_HUFFMAN, raw('12'))), 12, 'with incremental indexing');
    assert.equal(grpcStatus(block([0x20], [0x00], raw('grpc-status'), raw('3'))), 3, 'after a size update');
  });

  it('returns -1 when the block has no grpc-status or cannot be read', () => {
    assert.equal(grpcStatus(block([0x88], [0x0f, 0x10], raw('application/grpc'))), -1, 'response headers only');
    assert.equal(grpcStatus(block([0x00], raw('grpc-statuz'), raw('0'))), -1, 'another name');
    assert.equal(grpcStatus(block([0x00], raw('grpc-status'))), -1, 'no value');
    assert.equal(grpcStatus(block([0x00], raw('grpc-status'), raw('x'))), -1, 'not a number');
    assert.equal(grpcStatus(block([0x00, 0x0b], [0x67, 0x72])), -1, 'truncated name');
    assert.equal(grpcStatus(block([])), -1);
  });
});

describe('HPACK: request header blocks', () => {
  it('indexes GET, POST, :path / and :scheme, and writes the rest as literals without indexing', () => {
    const get = encodeRequestHeaderBlock({ method: 'GET', path: '/', authority: 'a:1', headers: [] }, 'http');
    assert.deepEqual([...get], [0x82, 0x86, 0x84, 0x01, ...raw('a:1')]);
    const post = encodeRequestHeaderBlock({ method: 'POST', path: '/x?y=1', authority: 'h', headers: [['accept', '*/*']] }, 'https');
    assert.deepEqual([...post], [0x83, 0x87, 0x04, ...raw('/x?y=1'), 0x01, ...raw('h'), 0x00, ...raw('accept'), ...raw('*/*')]);
    const del = encodeRequestHeaderBlock({ method: 'DELETE', path: '/', authority: 'h', headers: [] }, 'http');
    assert.deepEqual([...del], [0x02, ...raw('DELETE'), 0x86, 0x84, 0x01, ...raw('h')]);
  });

  it('writes lengths of 127 and more as multi-byte integers', () => {
    const path = `/${'p'.repeat(199)}`;
    const b = encodeRequestHeaderBlock({ method: 'GET', path, authority: 'h', headers: [] }, 'http');
    // 200 = 127 + 73: prefix all ones, then 73.
    assert.deepEqual([...b.subarray(0, 5)], [0x82, 0x86, 0x04, 0x7f, 73]);
    assert.equal(b.toString('latin1', 5, 205), path);
  });
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameReader, Opcode, closePayload, encodeFrame, type FrameSink } from '../src/ws-frames.ts';

/** Unmasks a client frame: [fin, opcode, payload]. */
function decodeClientFrame(frame: Buffer): { fin: boolean; opcode: number; masked: boolean; payload: Buffer } {
  const len7 = frame[1]! & 0x7f;
  let at = 2;
  let length = len7;
  if (len7 === 126) {
    length = frame.readUInt16BE(2);
    at = 4;
  } else if (len7 === 127) {
    length = frame.readUInt32BE(2) * 2 ** 32 + frame.readUInt32BE(6);
    at = 10;
  }
  const mask = frame.subarray(at, at + 4);
  at += 4;
  assert.equal(frame.length, at + length, 'the frame is exactly header + payload');
  const payload = Buffer.alloc(length);
  for (let i = 0; i < length; i++) payload[i] = frame[at + i]! ^ mask[i % 4]!;
  return { fin: (frame[0]! & 0x80) !== 0, opcode: frame[0]! & 0x0f, masked: (frame[1]! & 0x80) !== 0, payload };
}

/** A server frame (unmasked). */
function serverFrame(opcode: number, payload: Buffer | string, fin = true, extra = 0): Buffer {
  const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const head = p.length < 126 ? Buffer.from([(fin ? 0x80 : 0) | extra | opcode, p.length]) : Buffer.from([(fin ? 0x80 : 0) | extra | opcode, 126, p.length >> 8, p.length & 0xff]);
  return Buffer.concat([head, p]);
}

interface Seen {
  messages: Array<{ data: string; binary: boolean; frameBytes: number }>;
  pings: string[];
  closes: Array<[number, string]>;
  errors: Array<[number, string]>;
}

function collector(): { sink: FrameSink; seen: Seen } {
  const seen: Seen = { messages: [], pings: [], closes: [], errors: [] };
  return {
    seen,
    sink: {
      onMessage: (data, binary, frameBytes) => seen.messages.push({ data: data.toString('latin1'), binary, frameBytes }),
      onPing: (data) => seen.pings.push(data.toString()),
      onCloseFrame: (code, reason) => seen.closes.push([code, reason]),
      onProtocolError: (code, message) => seen.errors.push([code, message]),
    },
  };
}

describe('ws-frames', () => {
  it('masks client frames with a fresh key and the right length encoding for small, medium and large payloads', () => {
    for (const size of [0, 5, 125, 126, 300, 65535, 65536, 70_000]) {
      const payload = Buffer.alloc(size, 0x61);
      const frame = encodeFrame(Opcode.Binary, payload);
      const got = decodeClientFrame(frame);
      assert.equal(got.fin, true);
      assert.equal(got.masked, true);
      assert.equal(got.opcode, Opcode.Binary);
      assert.ok(got.payload.equals(payload), `payload of ${size} bytes round-trips`);
    }
    const text = decodeClientFrame(encodeFrame(Opcode.Text, 'héllo'));
    assert.equal(text.opcode, Opcode.Text);
    assert.equal(text.payload.toString('utf8'), 'héllo');
    const masks = new Set(Array.from({ length: 50 }, () => encodeFrame(Opcode.Text, 'x').subarray(2, 6).toString('hex')));
    assert.ok(masks.size > 45, `masking keys differ from frame to frame (${masks.size} distinct of 50)`);
    assert.deepEqual(decodeClientFrame(encodeFrame(Opcode.Close, closePayload(4001, 'r'.repeat(200)))).payload.length, 125, 'a close reason is cut to fit a control frame');
  });

  it('decodes frames split at every byte, fragmented messages with a ping in between, and close frames', () => {
    const stream = Buffer.concat([
      serverFrame(Opcode.Text, 'hello'),
      serverFrame(Opcode.Binary, Buffer.alloc(300, 0x62)),
      serverFrame(Opcode.Text, 'frag', false),
      serverFrame(Opcode.Ping, 'p1'),
      serverFrame(Opcode.Continuation, 'men', false),
      serverFrame(Opcode.Continuation, 'ted'),
      serverFrame(Opcode.Close, Buffer.concat([Buffer.from([0x0f, 0xa1]), Buffer.from('bye')])),
      serverFrame(Opcode.Text, 'after the close: ignored'),
    ]);
    for (const step of [1, 2, 3, 7, 64, stream.length]) {
      const { sink, seen } = collector();
      const reader = new FrameReader(sink);
      for (let at = 0; at < stream.length; at += step) {
        // A reused read buffer: the reader must not keep views of it.
        const chunk = Buffer.from(stream.subarray(at, at + step));
        reader.push(chunk);
        chunk.fill(0);
      }
      assert.deepEqual(
        seen.messages.map((m) => [m.data.length > 20 ? `${m.data.length} bytes` : m.data, m.binary, m.frameBytes]),
        [
          ['hello', false, 7],
          ['300 bytes', true, 304],
          ['fragmented', false, 6 + 5 + 5],
        ],
        `chunks of ${step}`,
      );
      assert.deepEqual(seen.pings, ['p1']);
      assert.deepEqual(seen.closes, [[4001, 'bye']]);
      assert.deepEqual(seen.errors, []);
    }
    const { sink, seen } = collector();
    new FrameReader(sink).push(serverFrame(Opcode.Close, Buffer.alloc(0)));
    assert.deepEqual(seen.closes, [[1005, '']], 'a close frame without a code is 1005');
  });

  it('fails protocol violations with 1002 and a message over the limit with 1009', () => {
    const cases: Array<[Buffer, number, RegExp, number?]> = [
      [Buffer.from([0x81, 0x82, 1, 2, 3, 4, 0, 0]), 1002, /the server masked a frame/],
      [serverFrame(Opcode.Text, 'x', true, 0x40), 1002, /reserved bits set/],
      [serverFrame(0x3, 'x'), 1002, /unknown data opcode 0x3/],
      [serverFrame(0xb, 'x'), 1002, /unknown control opcode 0xb/],
      [serverFrame(Opcode.Ping, 'x', false), 1002, /fragmented control frame/],
      [serverFrame(Opcode.Ping, Buffer.alloc(126)), 1002, /control frame \(opcode 9\) with a 126-byte payload/],
      [serverFrame(Opcode.Continuation, 'x'), 1002, /continuation frame without a message/],
      [Buffer.concat([serverFrame(Opcode.Text, 'a', false), serverFrame(Opcode.Text, 'b')]), 1002, /new message before the fragmented one ended/],
      [serverFrame(Opcode.Close, Buffer.from([0x03, 0xee])), 1002, /invalid close code 1006/],
      [serverFrame(Opcode.Close, Buffer.from([0x03])), 1002, /close frame with a 1-byte payload/],
      [serverFrame(Opcode.Binary, Buffer.alloc(200)), 1009, /message larger than 100 bytes/, 100],
      [Buffer.concat([serverFrame(Opcode.Text, Buffer.alloc(60), false), serverFrame(Opcode.Continuation, Buffer.alloc(60))]), 1009, /message larger than 100 bytes/, 100],
    ];
    for (const [bytes, code, message, limit] of cases) {
      const { sink, seen } = collector();
      const reader = new FrameReader(sink, limit);
      reader.push(bytes);
      reader.push(serverFrame(Opcode.Text, 'later'));
      assert.equal(seen.errors.length, 1, String(message));
      assert.equal(seen.errors[0]![0], code, String(message));
      assert.match(seen.errors[0]![1], message);
      assert.deepEqual(seen.messages, [], 'nothing is delivered after the error');
    }
  });
});

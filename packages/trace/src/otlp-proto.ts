/**
 * A decoder of the protobuf `ExportTraceServiceRequest` (opentelemetry-proto, trace/v1), the body
 * `@opentelemetry/exporter-trace-otlp-proto` sends. It reads only the fields the analysis needs and
 * skips the rest by wire type, so newer senders with more fields still decode. Pure JS, no schema
 * compiler: OTLP's trace messages are few and stable.
 */
import { OtlpDecodeError, type AttrValue, type Span } from './span.js';

const MAX_DEPTH = 16;

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new OtlpDecodeError('protobuf: truncated varint');
      const b = this.buf[this.pos++]!;
      if (shift < 49) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw new OtlpDecodeError('protobuf: varint longer than 10 bytes');
    }
  }

  /** Signed 64-bit varint (int64, two's complement) as a Number. */
  int64(): number {
    const start = this.pos;
    let v = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new OtlpDecodeError('protobuf: truncated varint');
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
      shift += 7n;
      if (this.pos - start > 10) throw new OtlpDecodeError('protobuf: varint longer than 10 bytes');
    }
    return Number(BigInt.asIntN(64, v));
  }

  fixed64ms(): number {
    const lo = this.fixed32();
    const hi = this.fixed32();
    const nanos = (BigInt(hi) << 32n) | BigInt(lo);
    return Number(nanos / 1000n) / 1000;
  }

  fixed32(): number {
    if (this.pos + 4 > this.end) throw new OtlpDecodeError('protobuf: truncated fixed32');
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16)) + b[p + 3]! * 0x1000000;
  }

  double(): number {
    if (this.pos + 8 > this.end) throw new OtlpDecodeError('protobuf: truncated double');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  /** A length-delimited field: returns a reader over its bytes and moves past them. */
  sub(): Reader {
    const len = this.varint();
    if (this.pos + len > this.end) throw new OtlpDecodeError('protobuf: length-delimited field runs past its message');
    const r = new Reader(this.buf, this.pos, this.pos + len);
    this.pos += len;
    return r;
  }

  string(): string {
    const r = this.sub();
    return Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, r.end - r.pos).toString('utf8');
  }

  hex(): string {
    const r = this.sub();
    return Buffer.from(r.buf.buffer, r.buf.byteOffset + r.pos, r.end - r.pos).toString('hex');
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      // Not `this.pos += this.varint()`: that adds the length to the position before the varint.
      const len = this.varint();
      this.pos += len;
    }
    else if (wire === 5) this.pos += 4;
    else throw new OtlpDecodeError(`protobuf: unsupported wire type ${wire}`);
    if (this.pos > this.end) throw new OtlpDecodeError('protobuf: field runs past its message');
  }

  /** Calls `field` for each (number, wire type); `field` reads the value or returns false to skip it. */
  each(field: (no: number, wire: number) => boolean): void {
    while (!this.done) {
      const tag = this.varint();
      const no = Math.floor(tag / 8);
      const wire = tag & 7;
      if (no === 0) throw new OtlpDecodeError('protobuf: field number 0');
      if (!field(no, wire)) this.skip(wire);
    }
  }
}

function anyValue(r: Reader, depth: number): AttrValue | undefined {
  if (depth > MAX_DEPTH) throw new OtlpDecodeError('protobuf: attribute values nested too deeply');
  let v: AttrValue | undefined;
  r.each((no, wire) => {
    if (no === 1 && wire === 2) v = r.string();
    else if (no === 2 && wire === 0) v = r.varint() !== 0;
    else if (no === 3 && wire === 0) v = r.int64();
    else if (no === 4 && wire === 1) v = r.double();
    else if (no === 5 && wire === 2) {
      const arr: Array<string | number | boolean> = [];
      const a = r.sub();
      a.each((n, w) => {
        if (n !== 1 || w !== 2) return false;
        const x = anyValue(a.sub(), depth + 1);
        if (x !== undefined && !Array.isArray(x)) arr.push(x);
        return true;
      });
      v = arr;
    } else return false;
    return true;
  });
  return v;
}

function keyValue(r: Reader, into: Record<string, AttrValue>): void {
  let key: string | undefined;
  let value: AttrValue | undefined;
  r.each((no, wire) => {
    if (no === 1 && wire === 2) key = r.string();
    else if (no === 2 && wire === 2) value = anyValue(r.sub(), 0);
    else return false;
    return true;
  });
  if (key !== undefined && value !== undefined) into[key] = value;
}

function span(r: Reader, service: string, scope: string): Span {
  const s: Span = { traceId: '', spanId: '', parentSpanId: null, name: '', kind: 0, startMs: 0, endMs: 0, attributes: {}, service, scope, statusCode: 0 };
  r.each((no, wire) => {
    switch (no) {
      case 1:
        if (wire !== 2) return false;
        s.traceId = r.hex();
        return true;
      case 2:
        if (wire !== 2) return false;
        s.spanId = r.hex();
        return true;
      case 4: {
        if (wire !== 2) return false;
        const p = r.hex();
        s.parentSpanId = p === '' ? null : p;
        return true;
      }
      case 5:
        if (wire !== 2) return false;
        s.name = r.string();
        return true;
      case 6:
        if (wire !== 0) return false;
        s.kind = r.varint();
        return true;
      case 7:
        if (wire !== 1) return false;
        s.startMs = r.fixed64ms();
        return true;
      case 8:
        if (wire !== 1) return false;
        s.endMs = r.fixed64ms();
        return true;
      case 9:
        if (wire !== 2) return false;
        keyValue(r.sub(), s.attributes);
        return true;
      case 15: {
        if (wire !== 2) return false;
        const st = r.sub();
        st.each((n, w) => {
          if (n !== 3 || w !== 0) return false;
          s.statusCode = st.varint();
          return true;
        });
        return true;
      }
      default:
        return false;
    }
  });
  if (s.traceId.length !== 32) throw new OtlpDecodeError('protobuf: span without a 16-byte trace_id');
  if (s.spanId.length !== 16) throw new OtlpDecodeError('protobuf: span without an 8-byte span_id');
  if (s.parentSpanId !== null && s.parentSpanId.length !== 16) throw new OtlpDecodeError('protobuf: parent_span_id is not 8 bytes');
  if (s.endMs < s.startMs) s.endMs = s.startMs;
  return s;
}

/**
 * Decodes a protobuf OTLP trace export into spans. Throws {@link OtlpDecodeError} for bytes that are
 * not a well-formed message (truncated fields, bad wire types, spans without ids).
 */
export function spansFromOtlpProto(body: Uint8Array): Span[] {
  const out: Span[] = [];
  const top = new Reader(body, 0, body.length);
  top.each((no, wire) => {
    if (no !== 1 || wire !== 2) return false;
    const rs = top.sub();
    // Resource (1) may come after scope_spans (2) on the wire: collect both, then build.
    const resAttrs: Record<string, AttrValue> = {};
    const scopeReaders: Reader[] = [];
    rs.each((n, w) => {
      if (n === 1 && w === 2) {
        const res = rs.sub();
        res.each((rn, rw) => {
          if (rn !== 1 || rw !== 2) return false;
          keyValue(res.sub(), resAttrs);
          return true;
        });
      } else if (n === 2 && w === 2) scopeReaders.push(rs.sub());
      else return false;
      return true;
    });
    const service = typeof resAttrs['service.name'] === 'string' ? resAttrs['service.name'] : '';
    for (const ss of scopeReaders) {
      let scope = '';
      const spans: Reader[] = [];
      ss.each((n, w) => {
        if (n === 1 && w === 2) {
          const sc = ss.sub();
          sc.each((sn, sw) => {
            if (sn !== 1 || sw !== 2) return false;
            scope = sc.string();
            return true;
          });
        } else if (n === 2 && w === 2) spans.push(ss.sub());
        else return false;
        return true;
      });
      for (const sp of spans) out.push(span(sp, service, scope));
    }
    return true;
  });
  return out;
}

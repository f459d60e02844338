/**
 * A minimal protobuf encoder of OTLP `ExportTraceServiceRequest` (opentelemetry-proto trace/v1) for
 * the trace benches: what `@opentelemetry/exporter-trace-otlp-proto` sends (resource with
 * `service.name`, one scope, spans with ids, name, kind, times, string attributes, status), so a
 * bench feeds the receiver the same bytes a traced target does without building SDK span objects.
 */
import type { Span } from '@redline/trace';

function varint(out: number[], v: number): void {
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
}

function tag(out: number[], field: number, wire: number): void {
  varint(out, (field << 3) | wire);
}

function bytesField(out: number[], field: number, b: ArrayLike<number>): void {
  tag(out, field, 2);
  varint(out, b.length);
  for (let i = 0; i < b.length; i++) out.push(b[i]!);
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

function fixed64Nanos(out: number[], field: number, ms: number): void {
  tag(out, field, 1);
  let n = BigInt(Math.round(ms * 1e6));
  for (let i = 0; i < 8; i++) {
    out.push(Number(n & 0xffn));
    n >>= 8n;
  }
}

function keyValue(key: string, value: string | number | boolean): number[] {
  const v: number[] = [];
  if (typeof value === 'string') bytesField(v, 1, utf8(value));
  else if (typeof value === 'boolean') {
    tag(v, 2, 0);
    v.push(value ? 1 : 0);
  } else if (Number.isInteger(value) && value >= 0) {
    tag(v, 3, 0);
    varint(v, value);
  } else {
    tag(v, 4, 1);
    const b = Buffer.alloc(8);
    b.writeDoubleLE(value);
    v.push(...b);
  }
  const kv: number[] = [];
  bytesField(kv, 1, utf8(key));
  bytesField(kv, 2, v);
  return kv;
}

function spanBytes(s: Span): number[] {
  const out: number[] = [];
  bytesField(out, 1, hex(s.traceId));
  bytesField(out, 2, hex(s.spanId));
  if (s.parentSpanId !== null) bytesField(out, 4, hex(s.parentSpanId));
  bytesField(out, 5, utf8(s.name));
  tag(out, 6, 0);
  varint(out, s.kind);
  fixed64Nanos(out, 7, s.startMs);
  fixed64Nanos(out, 8, s.endMs);
  for (const [k, v] of Object.entries(s.attributes)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') bytesField(out, 9, keyValue(k, v));
  if (s.statusCode !== 0) {
    const st: number[] = [];
    tag(st, 3, 0);
    varint(st, s.statusCode);
    bytesField(out, 15, st);
  }
  return out;
}

function lenPrefixed(field: number, parts: Buffer[]): Buffer[] {
  let n = 0;
  for (const p of parts) n += p.length;
  const head: number[] = [];
  tag(head, field, 2);
  varint(head, n);
  return [Buffer.from(head), ...parts];
}

/** Encodes spans of one service and scope as a protobuf OTLP trace export body. */
export function encodeOtlpProto(spans: readonly Span[], service = 'redline-target', scope = 'bench'): Buffer {
  const sc: number[] = [];
  bytesField(sc, 1, utf8(scope));
  const scopeHead: number[] = [];
  bytesField(scopeHead, 1, sc);
  const scopeParts: Buffer[] = [Buffer.from(scopeHead)];
  for (const s of spans) {
    const b: number[] = [];
    bytesField(b, 2, spanBytes(s));
    scopeParts.push(Buffer.from(b));
  }
  const resource: number[] = [];
  bytesField(resource, 1, keyValue('service.name', service));
  const resHead: number[] = [];
  bytesField(resHead, 1, resource);
  const rs = [Buffer.from(resHead), ...lenPrefixed(2, scopeParts)];
  return Buffer.concat(lenPrefixed(1, rs));
}

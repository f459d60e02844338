/**
 * The span model every analysis step works on, and its conversion from and to OTLP/JSON.
 * Times are epoch milliseconds with sub-millisecond precision, the clock the load engine uses.
 */

/** An attribute value as OTLP carries it, flattened to what analysis needs. */
export type AttrValue = string | number | boolean | Array<string | number | boolean>;

/** OTLP span kinds (SPAN_KIND_*): 0 unspecified, 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
export const SpanKind = { UNSPECIFIED: 0, INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 } as const;

/** One span. `parentSpanId` is null for a root. */
export interface Span {
  /** 32 lower-case hex digits. */
  traceId: string;
  /** 16 lower-case hex digits. */
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  attributes: Record<string, AttrValue>;
  /** `service.name` of the resource that sent it ('' when unknown). */
  service: string;
  /** Instrumentation scope name (e.g. `@opentelemetry/instrumentation-pg`). */
  scope: string;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  statusCode: number;
}

/** Why an OTLP payload was refused. */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError';
}

const HEX_ID = /^[0-9a-f]+$/;

/** Nanoseconds since the epoch (decimal string or number) → epoch ms without losing sub-ms digits. */
export function nanosToMs(v: unknown): number {
  if (typeof v === 'number') return v / 1e6;
  if (typeof v === 'bigint') return Number(v / 1000n) / 1000;
  if (typeof v === 'string' && /^\d+$/.test(v)) {
    // Above 2^53 a plain Number() would round to ~256 ns; split off the last six digits first.
    if (v.length <= 6) return Number(v) / 1e6;
    return Number(v.slice(0, -6)) + Number(v.slice(-6)) / 1e6;
  }
  throw new OtlpDecodeError(`timestamp is not a decimal count of nanoseconds: ${JSON.stringify(v)?.slice(0, 40)}`);
}

function msToNanos(ms: number): string {
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  return frac >= 1e6 ? `${whole + 1}000000` : `${whole}${String(frac).padStart(6, '0')}`;
}

/** OTLP/JSON ids are hex; some senders use base64 (the protobuf JSON mapping). Both are accepted. */
function idFrom(v: unknown, bytes: number, what: string): string {
  if (typeof v !== 'string' || v === '') throw new OtlpDecodeError(`${what} is missing`);
  const hex = v.toLowerCase();
  if (hex.length === bytes * 2 && HEX_ID.test(hex)) return hex;
  const b = Buffer.from(v, 'base64');
  if (b.length === bytes) return b.toString('hex');
  throw new OtlpDecodeError(`${what} is not ${bytes} bytes of hex: ${v.slice(0, 40)}`);
}

interface JsonAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number;
  arrayValue?: { values?: JsonAnyValue[] };
}

function anyValue(v: JsonAnyValue | undefined): AttrValue | undefined {
  if (v === undefined || v === null || typeof v !== 'object') return undefined;
  if (v.stringValue !== undefined) return String(v.stringValue);
  if (v.boolValue !== undefined) return Boolean(v.boolValue);
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return Number(v.doubleValue);
  if (v.arrayValue !== undefined) {
    const out: Array<string | number | boolean> = [];
    for (const x of v.arrayValue.values ?? []) {
      const a = anyValue(x);
      if (a !== undefined && !Array.isArray(a)) out.push(a);
    }
    return out;
  }
  return undefined;
}

function attributesFrom(list: unknown): Record<string, AttrValue> {
  const out: Record<string, AttrValue> = {};
  if (!Array.isArray(list)) return out;
  for (const kv of list as Array<{ key?: unknown; value?: JsonAnyValue }>) {
    if (typeof kv?.key !== 'string') continue;
    const v = anyValue(kv.value);
    if (v !== undefined) out[kv.key] = v;
  }
  return out;
}

/**
 * Reads an OTLP/JSON `ExportTraceServiceRequest` (as sent by `@opentelemetry/exporter-trace-otlp-http`
 * or saved in a run directory). Throws {@link OtlpDecodeError} when the shape is not OTLP; a span with
 * malformed ids or times fails the whole payload, as a collector would.
 */
export function spansFromOtlpJson(body: unknown): Span[] {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { resourceSpans?: unknown }).resourceSpans)) {
    throw new OtlpDecodeError('not an OTLP trace export: no resourceSpans array');
  }
  const out: Span[] = [];
  for (const rs of (body as { resourceSpans: unknown[] }).resourceSpans) {
    const r = rs as { resource?: { attributes?: unknown }; scopeSpans?: unknown[]; instrumentationLibrarySpans?: unknown[] };
    const resAttrs = attributesFrom(r.resource?.attributes);
    const service = typeof resAttrs['service.name'] === 'string' ? resAttrs['service.name'] : '';
    for (const ss of r.scopeSpans ?? r.instrumentationLibrarySpans ?? []) {
      const s = ss as { scope?: { name?: unknown }; instrumentationLibrary?: { name?: unknown }; spans?: unknown[] };
      const scopeName = s.scope?.name ?? s.instrumentationLibrary?.name;
      const scope = typeof scopeName === 'string' ? scopeName : '';
      if (!Array.isArray(s.spans)) continue;
      for (const raw of s.spans) {
        const sp = raw as Record<string, unknown>;
        const parent = sp.parentSpanId;
        const startMs = nanosToMs(sp.startTimeUnixNano);
        const endMs = nanosToMs(sp.endTimeUnixNano);
        out.push({
          traceId: idFrom(sp.traceId, 16, 'traceId'),
          spanId: idFrom(sp.spanId, 8, 'spanId'),
          parentSpanId: parent === undefined || parent === null || parent === '' ? null : idFrom(parent, 8, 'parentSpanId'),
          name: typeof sp.name === 'string' ? sp.name : '',
          kind: typeof sp.kind === 'number' ? sp.kind : 0,
          startMs,
          endMs: Math.max(startMs, endMs),
          attributes: attributesFrom(sp.attributes),
          service,
          scope,
          statusCode: Number((sp.status as { code?: unknown } | undefined)?.code ?? 0) || 0,
        });
      }
    }
  }
  return out;
}

function jsonValue(v: AttrValue): JsonAnyValue {
  if (Array.isArray(v)) return { arrayValue: { values: v.map((x) => jsonValue(x)) } };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
}

/** Writes spans as one OTLP/JSON `ExportTraceServiceRequest`, grouped by service and scope (what Jaeger and collectors read). */
export function spansToOtlpJson(spans: Iterable<Span>): { resourceSpans: unknown[] } {
  const byService = new Map<string, Map<string, Span[]>>();
  for (const s of spans) {
    let scopes = byService.get(s.service);
    if (!scopes) byService.set(s.service, (scopes = new Map()));
    let list = scopes.get(s.scope);
    if (!list) scopes.set(s.scope, (list = []));
    list.push(s);
  }
  const resourceSpans: unknown[] = [];
  for (const [service, scopes] of byService) {
    resourceSpans.push({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service || 'unknown_service' } }] },
      scopeSpans: [...scopes].map(([scope, list]) => ({
        scope: { name: scope },
        spans: list.map((s) => ({
          traceId: s.traceId,
          spanId: s.spanId,
          ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: msToNanos(s.startMs),
          endTimeUnixNano: msToNanos(s.endMs),
          attributes: Object.entries(s.attributes).map(([key, value]) => ({ key, value: jsonValue(value) })),
          status: { code: s.statusCode },
        })),
      })),
    });
  }
  return { resourceSpans };
}

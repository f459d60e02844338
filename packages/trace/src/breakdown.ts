/**
 * One request seen whole: the generator's measurement of it (coordinated-omission corrected) joined
 * with its server-side spans, cut into operations along the critical path.
 */
import { buildTree, criticalPath, type PathSegment } from './critical-path.js';
import { AFTER_HANDLER, BEFORE_HANDLER, SEND_DELAY, UNTRACED, operationOf, type Operation } from './operation.js';
import type { Span } from './span.js';

/** What the generator measured for one traced request. Times are epoch ms on the engine clock. */
export interface ClientRecord {
  /** 32 hex digits, as sent in `traceparent`. */
  traceId: string;
  /** Request name (metric name). */
  name: string;
  /** Coordinated-omission-corrected latency: `delayMs` + service time. */
  latencyMs: number;
  /** When the request was handed to the socket. */
  sentAtMs: number;
  /** When the response ended. */
  endAtMs: number;
  /** How long the request waited past its intended start (open models; 0 otherwise). */
  delayMs: number;
  /** HTTP status (0 for a network error). */
  status: number;
}

/** Time per operation of one request. */
export interface Part {
  op: Operation;
  ms: number;
}

/** How often one statement ran in one request. */
export interface StatementCount {
  key: string;
  count: number;
  /** Sum of its spans' durations (on or off the critical path). */
  totalMs: number;
  /** True when no two of its spans overlapped: issued one after the other. */
  sequential: boolean;
}

/** A request broken down along its critical path. */
export interface RequestBreakdown {
  record: ClientRecord;
  /** By operation key; the parts add up to `record.latencyMs`. */
  parts: Map<string, Part>;
  /** Database statements by normalised key, counted over all of the trace's spans. */
  statements: Map<string, StatementCount>;
  /** The server span the path starts from, or null when none arrived. */
  server: Span | null;
  /** Critical-path segments inside the server span, latest first. */
  path: PathSegment[];
  /** Spans adopted because their parent was missing. */
  adopted: number;
}

function add(parts: Map<string, Part>, op: Operation, ms: number): void {
  if (ms <= 0) return;
  const p = parts.get(op.key);
  if (p) p.ms += ms;
  else parts.set(op.key, { op, ms });
}

function countStatements(spans: readonly Span[]): Map<string, StatementCount> {
  const byKey = new Map<string, Span[]>();
  for (const s of spans) {
    const op = operationOf(s);
    if (op.kind !== 'db') continue;
    let list = byKey.get(op.key);
    if (!list) byKey.set(op.key, (list = []));
    list.push(s);
  }
  const out = new Map<string, StatementCount>();
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.startMs - b.startMs);
    let sequential = true;
    let totalMs = 0;
    let lastEnd = -Infinity;
    for (const s of list) {
      totalMs += s.endMs - s.startMs;
      // 1 ms of slack: instrumentations stamp many start times from Date.now() (whole ms) and end
      // times from the monotonic clock, so a query that began right after the previous one ended can
      // appear to start up to a millisecond before it.
      if (s.startMs < lastEnd - 1) sequential = false;
      lastEnd = Math.max(lastEnd, s.endMs);
    }
    out.set(key, { key, count: list.length, totalMs, sequential });
  }
  return out;
}

/**
 * Breaks one request down. The client's window is `[sentAt − delay, endAt]`: the backlog delay,
 * then the time before the server span started (accept queue, event loop, network), the server
 * span's critical path, and the time after it ended. `skewMs` (target clock − generator clock) is
 * subtracted from span times first. The parts add up to the client's latency exactly; a server
 * span that sticks out of the client's window is clipped to it.
 */
export function breakdownRequest(record: ClientRecord, spans: readonly Span[], skewMs = 0): RequestBreakdown {
  const parts = new Map<string, Part>();
  const shifted = skewMs === 0 ? spans : spans.map((s) => ({ ...s, startMs: s.startMs - skewMs, endMs: s.endMs - skewMs }));
  const tree = buildTree(shifted);
  const statements = countStatements(shifted);
  add(parts, SEND_DELAY, record.delayMs);
  const sent = record.sentAtMs;
  const end = Math.max(sent, record.endAtMs);
  if (tree === null) {
    add(parts, UNTRACED, end - sent);
    return { record, parts, statements, server: null, path: [], adopted: 0 };
  }
  const server = tree.root;
  const sStart = Math.min(end, Math.max(sent, server.startMs));
  const sEnd = Math.max(sStart, Math.min(end, server.endMs));
  add(parts, BEFORE_HANDLER, sStart - sent);
  const path = criticalPath(tree);
  for (const seg of path) {
    const a = Math.max(seg.startMs, sStart);
    const b = Math.min(seg.endMs, sEnd);
    if (b > a) add(parts, operationOf(seg.span), b - a);
  }
  add(parts, AFTER_HANDLER, end - sEnd);
  return { record, parts, statements, server, path, adopted: tree.adopted };
}

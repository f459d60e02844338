/**
 * "Where the time goes": per request name, the critical paths of the kept traces aggregated per
 * operation, the slow tail compared with a baseline around the median, and statement counts per
 * request (k × the same statement).
 */
import { breakdownRequest, type ClientRecord, type RequestBreakdown } from './breakdown.js';
import { operationOf as defaultOperationOf, type OperationKind } from './operation.js';
import type { Span } from './span.js';

/** One operation's mean time per request in a group of traces. */
export interface OpShare {
  key: string;
  kind: OperationKind;
  /** Mean ms per request on the critical path. */
  meanMs: number;
  /** Share of the group's mean latency, 0–1. */
  share: number;
}

/** The tail minus the baseline, per operation. */
export interface OpDelta {
  key: string;
  kind: OperationKind;
  /** Tail mean − baseline mean, ms per request (negative when the tail spends less there). */
  deltaMs: number;
}

/** A statement's per-request count and cost. */
export interface StatementProfile {
  key: string;
  /** Median number of executions per request (over traces that ran it). */
  countMedian: number;
  countMax: number;
  /** Share of traces that ran it where every execution was sequential. */
  sequentialShare: number;
  /** Mean ms per request spent in it (all executions, on or off the critical path). */
  meanMsPerRequest: number;
  /** Percentiles of a single execution's duration, ms. */
  p50Ms: number;
  p99Ms: number;
  /** Traces that ran it. */
  traces: number;
  /**
   * The application code that issued it most often (the preload's `code.*` span attributes; the
   * compiled script's path and 1-based line), or absent when no span carried them.
   */
  caller?: CodeLocation;
}

/** A place in the target's code: function, script path, 1-based line and column. */
export interface CodeLocation {
  functionName: string;
  file: string;
  line: number;
  column: number;
}

/** A downstream or statement's own latency, as `slow-query` / `slow-downstream` cite it. */
export interface OpLatency {
  key: string;
  kind: OperationKind;
  count: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The analysis of one request name. */
export interface NameAnalysis {
  name: string;
  /** Kept traces with at least a server span. */
  traced: number;
  /** Kept traces whose spans never arrived. */
  untraced: number;
  /** The client's p50 and p99 for this name, ms (the tail is what lies at or above p99). */
  p50Ms: number;
  p99Ms: number;
  baseline: { count: number; meanLatencyMs: number; ops: OpShare[] };
  tail: { count: number; meanLatencyMs: number; ops: OpShare[] };
  /** Tail − baseline per operation, largest first; sums to tail − baseline mean latency. */
  delta: OpDelta[];
  /** "tail − median = 212 ms: pg-pool connect +160 ms, …" */
  headline: string;
  statements: StatementProfile[];
  /** Own latency of every db / downstream / pool operation seen, slowest p99 first (p50 over the baseline traces, p99 over all kept ones). */
  latencies: OpLatency[];
  /** Trace id of the slowest kept request. */
  slowestTraceId: string | null;
}

/** The whole analysis as written to result.json (`traces`). */
export interface TraceAnalysis {
  byName: Record<string, NameAnalysis>;
  /** Estimated target clock − generator clock, ms; null when the clocks agree within tolerance. */
  clockSkewMs: number | null;
  /** Share of traces whose server span lay outside the client's own window (before any correction). */
  outsideWindowShare: number;
}

/** Client percentiles per request name, from the generator's histograms. */
export type NamePercentiles = Record<string, { p50Ms: number; p99Ms: number }>;

/** Skew below this (ms) is the spans' and the engine's rounding, not a clock difference. */
const SKEW_TOLERANCE_MS = 2;

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

function median(values: number[]): number {
  return quantile([...values].sort((a, b) => a - b), 0.5);
}

/**
 * Estimates the target's clock offset. A server span must lie inside the client's window, so an
 * offset d (target clock − generator clock) is consistent with a trace when
 * `server.end − clientEnd ≤ d ≤ server.start − sent`. Over the traces, d must be at least the 90th
 * percentile of the left bounds and at most the 10th percentile of the right ones (robust to a few
 * odd traces). When 0 lies in that range (within SKEW_TOLERANCE_MS) the clocks agree; otherwise the
 * skew is the consistent offset nearest to 0. A range that is empty says nothing about skew.
 */
export function estimateSkew(pairs: ReadonlyArray<{ record: ClientRecord; server: Span }>): { skewMs: number | null; outsideShare: number } {
  if (pairs.length === 0) return { skewMs: null, outsideShare: 0 };
  const lows: number[] = [];
  const highs: number[] = [];
  let outside = 0;
  for (const { record, server } of pairs) {
    const lo = server.endMs - record.endAtMs;
    const hi = server.startMs - record.sentAtMs;
    lows.push(lo);
    highs.push(hi);
    if (lo > SKEW_TOLERANCE_MS || hi < -SKEW_TOLERANCE_MS) outside++;
  }
  const outsideShare = outside / pairs.length;
  lows.sort((a, b) => a - b);
  highs.sort((a, b) => a - b);
  const lo = quantile(lows, 0.9);
  const hi = quantile(highs, 0.1);
  if (lo > hi) return { skewMs: null, outsideShare };
  const d = Math.min(hi, Math.max(lo, 0));
  return { skewMs: Math.abs(d) > SKEW_TOLERANCE_MS ? d : null, outsideShare };
}

function meanShares(group: readonly RequestBreakdown[]): { meanLatencyMs: number; ops: OpShare[]; byKey: Map<string, OpShare> } {
  const byKey = new Map<string, OpShare>();
  let latency = 0;
  for (const b of group) {
    latency += b.record.latencyMs;
    for (const p of b.parts.values()) {
      const o = byKey.get(p.op.key);
      if (o) o.meanMs += p.ms;
      else byKey.set(p.op.key, { key: p.op.key, kind: p.op.kind, meanMs: p.ms, share: 0 });
    }
  }
  const n = Math.max(1, group.length);
  const meanLatencyMs = latency / n;
  for (const o of byKey.values()) {
    o.meanMs /= n;
    o.share = meanLatencyMs > 0 ? o.meanMs / meanLatencyMs : 0;
  }
  const ops = [...byKey.values()].sort((a, b) => b.meanMs - a.meanMs);
  return { meanLatencyMs, ops, byKey };
}

function fmtMs(ms: number): string {
  const a = Math.abs(ms);
  return a >= 100 ? ms.toFixed(0) : a >= 10 ? ms.toFixed(1) : ms.toFixed(2);
}

/** `tail − median = 212 ms: pg-pool connect +160 ms, SELECT … +30 ms, …` (the three largest moves). */
export function headlineOf(tailMean: number, baseMean: number, delta: readonly OpDelta[]): string {
  const diff = tailMean - baseMean;
  const top = delta.filter((d) => Math.abs(d.deltaMs) >= Math.max(0.05, Math.abs(diff) * 0.03)).slice(0, 4);
  const parts = top.map((d) => `${d.key} ${d.deltaMs >= 0 ? '+' : '−'}${fmtMs(Math.abs(d.deltaMs))} ms`);
  return `tail − median = ${fmtMs(diff)} ms${parts.length ? `: ${parts.join(', ')}` : ''}`;
}

function statementProfiles(group: readonly RequestBreakdown[]): StatementProfile[] {
  const acc = new Map<string, { counts: number[]; seq: number; totalMs: number; durations: number[] }>();
  for (const b of group) {
    for (const s of b.statements.values()) {
      let a = acc.get(s.key);
      if (!a) acc.set(s.key, (a = { counts: [], seq: 0, totalMs: 0, durations: [] }));
      a.counts.push(s.count);
      if (s.sequential) a.seq++;
      a.totalMs += s.totalMs;
    }
  }
  return [...acc].map(([key, a]) => ({
    key,
    countMedian: median(a.counts),
    countMax: Math.max(...a.counts),
    sequentialShare: a.seq / a.counts.length,
    meanMsPerRequest: a.totalMs / Math.max(1, group.length),
    p50Ms: 0,
    p99Ms: 0,
    traces: a.counts.length,
  }));
}

function opLatencies(spansByTrace: ReadonlyMap<string, readonly Span[]>, group: readonly RequestBreakdown[], operationOf: (s: Span) => { kind: OperationKind; key: string }): OpLatency[] {
  const byKey = new Map<string, { kind: OperationKind; d: number[] }>();
  for (const b of group) {
    for (const s of spansByTrace.get(b.record.traceId) ?? []) {
      const op = operationOf(s);
      if (op.kind !== 'db' && op.kind !== 'downstream' && op.kind !== 'pool' && op.kind !== 'dns' && op.kind !== 'tls') continue;
      let e = byKey.get(op.key);
      if (!e) byKey.set(op.key, (e = { kind: op.kind, d: [] }));
      e.d.push(s.endMs - s.startMs);
    }
  }
  return [...byKey]
    .map(([key, e]) => {
      e.d.sort((a, b) => a - b);
      return { key, kind: e.kind, count: e.d.length, p50Ms: quantile(e.d, 0.5), p99Ms: quantile(e.d, 0.99), maxMs: e.d[e.d.length - 1] ?? 0 };
    })
    .sort((a, b) => b.p99Ms - a.p99Ms);
}

/** The most frequent `code.*` location per operation key among the group's spans. */
function callersOf(spansByTrace: ReadonlyMap<string, readonly Span[]>, group: readonly RequestBreakdown[], operationOf: (s: Span) => { kind: OperationKind; key: string }): Map<string, CodeLocation> {
  const counts = new Map<string, Map<string, { loc: CodeLocation; n: number }>>();
  for (const b of group) {
    for (const s of spansByTrace.get(b.record.traceId) ?? []) {
      const a = s.attributes;
      const fn = a['code.function.name'];
      const file = a['code.file.path'];
      if (typeof fn !== 'string' || typeof file !== 'string') continue;
      const line = Number(a['code.line.number'] ?? 0);
      const column = Number(a['code.column.number'] ?? 0);
      const key = operationOf(s).key;
      let m = counts.get(key);
      if (!m) counts.set(key, (m = new Map()));
      const id = `${fn}\u0000${file}\u0000${line}\u0000${column}`;
      const e = m.get(id);
      if (e) e.n++;
      else m.set(id, { loc: { functionName: fn, file, line, column }, n: 1 });
    }
  }
  const out = new Map<string, CodeLocation>();
  for (const [key, m] of counts) {
    let best: { loc: CodeLocation; n: number } | undefined;
    for (const e of m.values()) if (best === undefined || e.n > best.n) best = e;
    if (best) out.set(key, best.loc);
  }
  return out;
}

/** Options of {@link analyzeTraces}. */
export interface AnalyzeOptions {
  /** The generator's p50/p99 per request name; without it the kept records' own percentiles are used. */
  percentiles?: NamePercentiles;
  /** Maps a span to its operation (default: `operationOf` of this package); injectable for tests. */
  operationOf?: (s: Span) => { kind: OperationKind; key: string };
}

/**
 * Analyses kept traces. `records` are the generator's measurements of the kept requests; `spans`
 * every span received for them. The tail of a name is its records at or above the client's p99;
 * the baseline its records between p25 and p75 (the median's neighbourhood). With fewer than two
 * records in either group the nearest records by latency fill it, so short runs still compare.
 */
export function analyzeTraces(records: readonly ClientRecord[], spans: readonly Span[], opts: AnalyzeOptions = {}): TraceAnalysis {
  const spansByTrace = new Map<string, Span[]>();
  for (const s of spans) {
    let l = spansByTrace.get(s.traceId);
    if (!l) spansByTrace.set(s.traceId, (l = []));
    l.push(s);
  }
  // First pass without correction, to see whether the clocks agree.
  const first = records.map((r) => breakdownRequest(r, spansByTrace.get(r.traceId) ?? []));
  const pairs = first.filter((b) => b.server !== null).map((b) => ({ record: b.record, server: b.server! }));
  const { skewMs, outsideShare } = estimateSkew(pairs);
  const all = skewMs === null ? first : records.map((r) => breakdownRequest(r, spansByTrace.get(r.traceId) ?? [], skewMs));
  const byName: Record<string, NameAnalysis> = {};
  const groups = new Map<string, RequestBreakdown[]>();
  for (const b of all) {
    let g = groups.get(b.record.name);
    if (!g) groups.set(b.record.name, (g = []));
    g.push(b);
  }
  const opOf = opts.operationOf ?? defaultOperationOf;
  for (const [name, g] of groups) {
    const traced = g.filter((b) => b.server !== null);
    const sorted = [...traced].sort((a, b) => a.record.latencyMs - b.record.latencyMs);
    const lat = sorted.map((b) => b.record.latencyMs);
    const p = opts.percentiles?.[name] ?? { p50Ms: quantile(lat, 0.5), p99Ms: quantile(lat, 0.99) };
    let tail = sorted.filter((b) => b.record.latencyMs >= p.p99Ms);
    // Ties (a flat latency distribution) would make everything "tail": keep the slowest 1 % then.
    if (tail.length < 2 || tail.length > sorted.length / 2) tail = sorted.slice(-Math.min(sorted.length, Math.max(2, Math.ceil(sorted.length * 0.01))));
    const lo = quantile(lat, 0.25);
    const hi = quantile(lat, 0.75);
    const tailSet = new Set(tail);
    let base = sorted.filter((b) => b.record.latencyMs >= lo && b.record.latencyMs <= hi && !tailSet.has(b));
    if (base.length < 2) base = sorted.filter((b) => !tailSet.has(b)).slice(0, 2);
    const bs = meanShares(base);
    const ts = meanShares(tail);
    const keys = new Set([...bs.byKey.keys(), ...ts.byKey.keys()]);
    const delta: OpDelta[] = [...keys]
      .map((k) => ({ key: k, kind: (ts.byKey.get(k) ?? bs.byKey.get(k))!.kind, deltaMs: (ts.byKey.get(k)?.meanMs ?? 0) - (bs.byKey.get(k)?.meanMs ?? 0) }))
      .sort((a, b) => b.deltaMs - a.deltaMs);
    // p50 from the baseline (the kept set over-represents the tail), p99 and max from every kept trace.
    const baseLat = new Map(opLatencies(spansByTrace, base, opOf).map((l) => [l.key, l.p50Ms]));
    const latencies = opLatencies(spansByTrace, traced, opOf).map((l) => ({ ...l, p50Ms: baseLat.get(l.key) ?? l.p50Ms }));
    const callers = callersOf(spansByTrace, traced, opOf);
    const statements = statementProfiles(traced).map((s) => {
      const l = latencies.find((x) => x.key === s.key);
      const caller = callers.get(s.key);
      return { ...s, ...(l ? { p50Ms: l.p50Ms, p99Ms: l.p99Ms } : {}), ...(caller ? { caller } : {}) };
    });
    statements.sort((a, b) => b.meanMsPerRequest - a.meanMsPerRequest);
    const slowest = sorted[sorted.length - 1];
    byName[name] = {
      name,
      traced: traced.length,
      untraced: g.length - traced.length,
      p50Ms: p.p50Ms,
      p99Ms: p.p99Ms,
      baseline: { count: base.length, meanLatencyMs: bs.meanLatencyMs, ops: bs.ops },
      tail: { count: tail.length, meanLatencyMs: ts.meanLatencyMs, ops: ts.ops },
      delta,
      headline: headlineOf(ts.meanLatencyMs, bs.meanLatencyMs, delta),
      statements,
      latencies,
      slowestTraceId: slowest?.record.traceId ?? null,
    };
  }
  return { byName, clockSkewMs: skewMs, outsideWindowShare: outsideShare };
}

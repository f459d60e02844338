import { ErrorCodes, RedlineError, seededRandom } from '@redline/core';
import { CacheEntry, hashKey, type EvictionPolicy, type EvictionPolicyName } from './eviction/entry.js';
import { LruPolicy } from './eviction/lru.js';
import { WTinyLfuPolicy } from './eviction/w-tinylfu.js';
import type { KeyTrace, TraceEvent } from './trace.js';

/** Options of {@link simulateTrace}. */
export interface SimulateOptions {
  /** Policies to compare. Default both `lru` and `w-tinylfu`. */
  policies?: readonly EvictionPolicyName[];
  /**
   * Cache sizes in entries, at full (unsampled) scale; each is scaled by the trace's sample rate.
   * Default: 1 %, 2 %, 5 %, 10 %, 20 % and 50 % of the distinct keys (at full scale).
   */
  sizes?: readonly number[];
}

/** Hit counts of one policy at one size. */
export interface PolicyResult {
  hits: number;
  misses: number;
  /** hits / (hits + misses); 0 for an empty trace. */
  hitRatio: number;
}

/** One row of the hit-ratio curve. */
export interface SimulationRow {
  /** Requested size (entries, full scale). */
  size: number;
  /** Size actually simulated: `max(1, round(size × sampleRate))`. */
  simulatedSize: number;
  results: Partial<Record<EvictionPolicyName, PolicyResult>>;
}

/** Result of {@link simulateTrace}. */
export interface SimulationResult {
  sampleRate: number;
  /** `get` events replayed. */
  requests: number;
  /** Distinct keys in the trace (sampled). */
  distinctKeys: number;
  policies: EvictionPolicyName[];
  rows: SimulationRow[];
}

/**
 * Replays a key trace against each eviction policy at each size and returns the hit-ratio curve.
 * `get` is a hit when the key is resident, otherwise a miss that loads it (as `getOrSet` does);
 * `set` inserts without counting; `del` removes. TTLs are not simulated (capacity misses only).
 */
export function simulateTrace(trace: KeyTrace | readonly TraceEvent[], options: SimulateOptions = {}): SimulationResult {
  const events: readonly TraceEvent[] = Array.isArray(trace) ? trace : (trace as KeyTrace).events;
  const sampleRate = Array.isArray(trace) ? 1 : (trace as KeyTrace).sampleRate;
  const policies = [...(options.policies ?? ['lru', 'w-tinylfu'])] as EvictionPolicyName[];
  if (policies.length === 0) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'simulateTrace: policies must name at least one of "lru", "w-tinylfu"');
  for (const p of policies) {
    if (p !== 'lru' && p !== 'w-tinylfu') throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `simulateTrace: unknown policy ${JSON.stringify(p)}; expected "lru" or "w-tinylfu"`);
  }
  const distinct = new Set<string>();
  let requests = 0;
  for (const e of events) {
    distinct.add(e.k);
    if (e.op === 'get') requests++;
  }
  let sizes = options.sizes;
  if (sizes === undefined) {
    const full = distinct.size / sampleRate;
    sizes = [...new Set([0.01, 0.02, 0.05, 0.1, 0.2, 0.5].map((f) => Math.max(1, Math.round(full * f))))];
  }
  if (sizes.length === 0) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'simulateTrace: sizes must list at least one size');
  for (const s of sizes) {
    if (!Number.isInteger(s) || s < 1) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `simulateTrace: sizes must be integers >= 1, got ${String(s)}`);
  }
  const hashes = new Map<string, number>();
  for (const k of distinct) hashes.set(k, hashKey(k));
  const rows: SimulationRow[] = sizes.map((size) => {
    const simulatedSize = Math.max(1, Math.round(size * sampleRate));
    const results: SimulationRow['results'] = {};
    for (const p of policies) results[p] = replay(events, p, simulatedSize, hashes);
    return { size, simulatedSize, results };
  });
  return { sampleRate, requests, distinctKeys: distinct.size, policies, rows };
}

function replay(events: readonly TraceEvent[], policyName: EvictionPolicyName, size: number, hashes: Map<string, number>): PolicyResult {
  const bounds = { maxEntries: size, maxWeight: Infinity };
  const policy: EvictionPolicy = policyName === 'lru' ? new LruPolicy(bounds) : new WTinyLfuPolicy(bounds, size);
  const map = new Map<string, CacheEntry>();
  const onEvict = (e: CacheEntry): void => {
    map.delete(e.key);
  };
  let hits = 0;
  let misses = 0;
  for (const ev of events) {
    const e = map.get(ev.k);
    if (ev.op === 'del') {
      if (e !== undefined) {
        policy.remove(e);
        map.delete(ev.k);
      }
      continue;
    }
    if (e !== undefined) {
      if (ev.op === 'get') hits++;
      policy.access(e);
      continue;
    }
    if (ev.op === 'get') misses++;
    const entry = new CacheEntry(ev.k, undefined, hashes.get(ev.k)!, 0, Infinity, Infinity, undefined, false);
    map.set(ev.k, entry);
    policy.add(entry);
    policy.evict(onEvict);
  }
  const total = hits + misses;
  return { hits, misses, hitRatio: total === 0 ? 0 : hits / total };
}

/** Renders a simulation as a plain-text table: one row per size, hit ratio per policy, and the W-TinyLFU − LRU gap. */
export function renderSimulationTable(result: SimulationResult): string {
  const header = ['size', ...(result.sampleRate < 1 ? ['simulated'] : []), ...result.policies.map(policyLabel)];
  const both = result.policies.includes('lru') && result.policies.includes('w-tinylfu');
  if (both) header.push('W-TinyLFU − LRU');
  const body = result.rows.map((row) => {
    const cells = [String(row.size), ...(result.sampleRate < 1 ? [String(row.simulatedSize)] : [])];
    for (const p of result.policies) cells.push(percent(row.results[p]?.hitRatio ?? 0));
    if (both) {
      const gap = ((row.results['w-tinylfu']?.hitRatio ?? 0) - (row.results.lru?.hitRatio ?? 0)) * 100;
      cells.push(`${gap >= 0 ? '+' : ''}${gap.toFixed(1)} pp`);
    }
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const fmt = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [
    `hit ratio by L1 size — ${result.requests} gets, ${result.distinctKeys} distinct keys${result.sampleRate < 1 ? `, key sample rate ${result.sampleRate}` : ''}`,
    fmt(header),
    fmt(header.map((_, i) => '-'.repeat(widths[i]!))),
    ...body.map(fmt),
  ];
  return `${lines.join('\n')}\n`;
}

function policyLabel(p: EvictionPolicyName): string {
  return p === 'lru' ? 'LRU' : 'W-TinyLFU';
}

function percent(ratio: number): string {
  return `${(ratio * 100).toFixed(1)} %`;
}

/** Options of {@link generateZipfTrace}. */
export interface ZipfTraceOptions {
  /** Distinct keys in the popular set (integer ≥ 1). */
  keys: number;
  /** Total `get` events (integer ≥ 1). */
  events: number;
  /** Zipf exponent (> 0), e.g. 0.9. */
  alpha: number;
  /** Seed for reproducibility. Default 1. */
  seed?: number;
  /** Periodic one-time scans: after every `every` Zipf events, `length` never-repeated keys are read in a row. */
  scan?: { every: number; length: number };
}

/** Generates a synthetic `get` trace: Zipf-distributed keys, optionally interleaved with one-time scans. */
export function generateZipfTrace(options: ZipfTraceOptions): TraceEvent[] {
  const { keys, events, alpha } = options;
  if (!Number.isInteger(keys) || keys < 1) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `generateZipfTrace: keys must be an integer >= 1, got ${String(keys)}`);
  if (!Number.isInteger(events) || events < 1) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `generateZipfTrace: events must be an integer >= 1, got ${String(events)}`);
  if (!(alpha > 0)) throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `generateZipfTrace: alpha must be > 0, got ${String(alpha)}`);
  const scan = options.scan;
  if (scan !== undefined && !(Number.isInteger(scan.every) && scan.every >= 1 && Number.isInteger(scan.length) && scan.length >= 1)) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'generateZipfTrace: scan.every and scan.length must be integers >= 1');
  }
  const cdf = new Float64Array(keys);
  let sum = 0;
  for (let i = 0; i < keys; i++) cdf[i] = sum += 1 / (i + 1) ** alpha;
  const random = seededRandom(options.seed ?? 1);
  const out: TraceEvent[] = [];
  let scanId = 0;
  let zipfCount = 0;
  let lastScanAt = 0;
  while (out.length < events) {
    if (scan !== undefined && zipfCount > lastScanAt && zipfCount % scan.every === 0) {
      lastScanAt = zipfCount;
      for (let j = 0; j < scan.length && out.length < events; j++) out.push({ t: out.length, k: `scan-${scanId++}`, op: 'get' });
      if (out.length >= events) break;
    }
    const u = random() * sum;
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    out.push({ t: out.length, k: `k${lo}`, op: 'get' });
    zipfCount++;
  }
  return out;
}

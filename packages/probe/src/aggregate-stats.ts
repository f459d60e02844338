import type { PoolLeak, StatsSeries, ThreadpoolCaller } from '@redline/core';
import type { PoolInfoMessage, PoolLeakChannelMessage, StatsChannelMessage, ThreadpoolCallersMessage } from './protocol.cjs';

/** The second of the run clock an epoch-ms instant falls in (second t covers (t-1, t]); 0 or less is before the run. */
function secondOf(epochMs: number, runStartEpochMs: number): number {
  return Math.ceil((epochMs - runStartEpochMs) / 1000);
}

const round = (x: number): number => Math.round(x * 1e4) / 1e4;

function metaOf(meta: Record<string, unknown> | undefined): Record<string, string | number> | undefined {
  if (meta === undefined) return undefined;
  const out: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) out[k] = v;
  }
  return out;
}

/**
 * Turns the stats messages of one channel into one series per name on the run clock. Messages before
 * the run start are dropped; when two land in the same second (an extra `flush()`), counters named in
 * `additive` are summed and everything else takes the later message's value.
 */
export function aggregateStats(
  messages: readonly StatsChannelMessage[],
  channel: string,
  runStartEpochMs: number,
  infos: readonly PoolInfoMessage[] = [],
  additive: ReadonlySet<string> = new Set(['acquireRequests', 'acquires', 'acquireErrors', 'releases']),
): StatsSeries[] {
  const byName = new Map<string, { meta?: Record<string, string | number>; seconds: Map<number, Record<string, number>> }>();
  for (const { channel: c, message: m } of messages) {
    if (c !== channel) continue;
    const t = secondOf(m.at, runStartEpochMs);
    if (t <= 0) continue;
    let entry = byName.get(m.name);
    if (entry === undefined) {
      entry = { seconds: new Map() };
      byName.set(m.name, entry);
    }
    const meta = metaOf(m.meta);
    if (meta !== undefined) entry.meta = meta;
    const previous = entry.seconds.get(t);
    const values: Record<string, number> = {};
    for (const [k, v] of Object.entries(m.values)) {
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      values[k] = round(previous !== undefined && additive.has(k) ? (previous[k] ?? 0) + v : v);
    }
    entry.seconds.set(t, values);
  }
  const out: StatsSeries[] = [];
  for (const [name, entry] of byName) {
    const series: StatsSeries = { name, samples: [...entry.seconds.entries()].sort((a, b) => a[0] - b[0]).map(([t, values]) => ({ t, values })) };
    if (entry.meta !== undefined) series.meta = entry.meta;
    const limit = infos.find((i) => i.name === name && typeof i.serverMaxConnections === 'number')?.serverMaxConnections;
    if (limit !== undefined) series.serverMaxConnections = limit;
    out.push(series);
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * One {@link PoolLeak} per leaked acquisition: the `held` event gives when and where, a later
 * `returned` event for the same pool and id gives the final hold time. `mapStack` source-maps stacks.
 */
export function collectLeaks(messages: readonly PoolLeakChannelMessage[], runStartEpochMs: number, mapStack: (stack: string) => string = (s) => s): PoolLeak[] {
  const out = new Map<string, PoolLeak>();
  for (const { message: m } of messages) {
    const key = `${m.name}\u0000${m.id}`;
    if (m.phase === 'held') {
      out.set(key, { pool: m.name, t: Math.max(0, secondOf(m.at, runStartEpochMs)), heldMs: round(m.heldMs), returned: false, stack: mapStack(m.stack) });
    } else {
      const leak = out.get(key);
      if (leak !== undefined) {
        leak.heldMs = round(m.heldMs);
        leak.returned = true;
      }
    }
  }
  return [...out.values()];
}

/** Most distinct thread-pool callers kept in a run's result. */
const MAX_THREADPOOL_CALLERS = 16;

/**
 * Merges the probe's thread-pool caller samples over the run: one entry per operation and stack
 * (source-mapped by `mapStack`), with its sampled count and the first and last second it was seen;
 * most sampled first, at most 16. Samples before the run start (warm-up) are left out.
 */
export function collectThreadpoolCallers(messages: readonly ThreadpoolCallersMessage[], runStartEpochMs: number, mapStack: (stack: string) => string = (s) => s): ThreadpoolCaller[] {
  const byKey = new Map<string, ThreadpoolCaller>();
  for (const m of messages) {
    const t = secondOf(m.endEpochMs, runStartEpochMs);
    if (t <= 0) continue;
    for (const c of m.callers) {
      const key = `${c.resource}\u0000${c.stack}`;
      const entry = byKey.get(key);
      if (entry !== undefined) {
        entry.count += c.count;
        entry.firstS = Math.min(entry.firstS, t);
        entry.lastS = Math.max(entry.lastS, t);
      } else {
        byKey.set(key, { op: c.op, resource: c.resource, stack: c.stack, count: c.count, firstS: t, lastS: t });
      }
    }
  }
  return [...byKey.values()]
    .sort((a, b) => b.count - a.count)
    .slice(0, MAX_THREADPOOL_CALLERS)
    .map((c) => ({ ...c, stack: mapStack(c.stack) }));
}

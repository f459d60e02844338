import type { Evidence, Finding, HotFrame, StatsSeries } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { meanOf, median, round, secondLatencies, type RuleContext } from '../timeline.js';

/** What one watched pool did over the loaded window, from its per-second stats. */
export interface PoolPressure {
  name: string;
  driver: string;
  /** `host:port/database` when known. */
  where: string;
  max: number;
  /** Largest size the pool reached. */
  sizeMax: number;
  /** Mean clients in use, time-weighted. */
  inUseMean: number;
  /** Mean waiters, time-weighted, and the largest count seen. */
  waitingMean: number;
  waitingMax: number;
  /** Acquire requests per second while any arrived (demand), acquisitions per second (served). */
  requestRate: number;
  acquireRate: number;
  /** Mean acquire wait per acquisition, ms, and the median of the per-second p99. */
  waitMeanMs: number;
  waitP99Ms: number;
  /** Mean hold time per acquisition, ms. */
  holdMeanMs: number;
  /** pg and mysql2: queries per hold and ms per hold spent running them. */
  queriesPerHold: number | null;
  queryMsPerHold: number | null;
  /** Little's law: clients busy at once if every acquire request were served at once. */
  neededSize: number;
  /** The server's connection limit for ordinary clients, when the probe read it. */
  serverMaxConnections: number | null;
  /** Share of the active seconds in which requests waited. */
  waitingFraction: number;
  window: { startS: number; endS: number };
}

/** Mean of `key` weighted by `weightKey` over the seconds; 0 when no weight. */
function weighted(samples: StatsSeries['samples'], key: string, weightKey: string): number {
  let sum = 0;
  let w = 0;
  for (const s of samples) {
    const weight = s.values[weightKey] ?? 0;
    sum += (s.values[key] ?? 0) * weight;
    w += weight;
  }
  return w > 0 ? sum / w : 0;
}

/**
 * Acquisitions per second the load asks for. The pool sees only the requests that reached it: with a
 * capped number of requests in flight (closed models, or an open model's maxVUs) a starved pool
 * throttles its own demand. An open model's intended rate times acquisitions per request says what
 * the load wanted; the larger of the two counts.
 */
function demandRate(ctx: RuleContext, secs: StatsSeries['samples'], seen: number): number {
  const intended = median(ctx.timeseries.flatMap((p) => (p.intendedRate !== null && p.intendedRate > 0 ? [p.intendedRate] : [])));
  // Acquisitions per completed request, both over the same seconds: the pool's, without its first
  // (a pool is made at its first use, mid-second, so that second misses acquisitions its requests made).
  const steady = secs.length > 2 ? secs.slice(1) : secs;
  const inWindow = new Set(steady.map((s) => s.t));
  const completed = ctx.timeseries.reduce((n, p) => n + (inWindow.has(p.t) ? p.requests : 0), 0);
  const acquires = steady.reduce((n, s) => n + (s.values.acquires ?? 0), 0);
  if (!Number.isFinite(intended) || completed === 0 || acquires === 0) return seen;
  return Math.max(seen, intended * (acquires / completed));
}

/** Sums up each watched pool over the loaded window (pools without a second in it are left out). */
export function poolPressures(ctx: RuleContext): PoolPressure[] {
  const out: PoolPressure[] = [];
  for (const series of ctx.result.target?.pools ?? []) {
    const secs = series.samples.filter((s) => s.t > ctx.active.startS && s.t <= ctx.active.endS);
    if (secs.length === 0) continue;
    const v = (s: (typeof secs)[number], k: string): number => s.values[k] ?? 0;
    // Waiting counts only in seconds in which every client was handed out at some moment: waits in a
    // pool with free slots are connection set-up or a late event loop, not a pool too small.
    const exhausted = (s: (typeof secs)[number]): boolean => v(s, 'inUseMax') >= v(s, 'max') && v(s, 'max') > 0;
    const waitingSecs = secs.filter((s) => exhausted(s) && (v(s, 'waitingMean') >= Thresholds.POOL_WAITING_MIN || v(s, 'waitMeanMs') >= Thresholds.POOL_WAIT_MIN_MS));
    const meta = series.meta ?? {};
    const host = typeof meta.host === 'string' ? meta.host : undefined;
    const where = host === undefined ? '' : `${host}${meta.port !== undefined ? `:${meta.port}` : ''}${typeof meta.database === 'string' ? `/${meta.database}` : ''}`;
    const queried = secs.some((s) => s.values.queriesPerHold !== undefined);
    const holdMeanMs = weighted(secs, 'holdMeanMs', 'releases');
    // Demand: acquire requests per second while callers were arriving. The window also holds the
    // drain after the load stops, where a queued pool still serves but nobody new asks.
    const requestRate = meanOf(secs.map((s) => v(s, 'acquireRequests')).filter((n) => n > 0));
    out.push({
      name: series.name,
      driver: typeof meta.driver === 'string' ? meta.driver : 'pool',
      where,
      max: typeof meta.max === 'number' ? meta.max : Math.max(...secs.map((s) => v(s, 'max'))),
      sizeMax: Math.max(...secs.map((s) => v(s, 'size'))),
      inUseMean: meanOf(secs.map((s) => v(s, 'inUseMean'))),
      waitingMean: meanOf(secs.map((s) => v(s, 'waitingMean'))),
      waitingMax: Math.max(...secs.map((s) => v(s, 'waitingMax'))),
      requestRate,
      acquireRate: meanOf(secs.map((s) => v(s, 'acquires'))),
      waitMeanMs: weighted(secs, 'waitMeanMs', 'acquires'),
      waitP99Ms: median(secs.map((s) => v(s, 'waitP99Ms'))),
      holdMeanMs,
      queriesPerHold: queried ? weighted(secs, 'queriesPerHold', 'releases') : null,
      queryMsPerHold: queried ? weighted(secs, 'queryMsPerHold', 'releases') : null,
      neededSize: (demandRate(ctx, secs, requestRate) * holdMeanMs) / 1000,
      serverMaxConnections: series.serverMaxConnections ?? null,
      waitingFraction: waitingSecs.length / secs.length,
      window: { startS: Math.max(0, (waitingSecs[0]?.t ?? secs[0]!.t) - 1), endS: (waitingSecs.at(-1) ?? secs.at(-1)!).t },
    });
  }
  return out;
}

/** The pools whose callers waited in at least SUSTAINED_FRACTION of the loaded seconds, worst first. */
export function waitingPools(ctx: RuleContext): PoolPressure[] {
  return poolPressures(ctx)
    .filter((p) => p.waitingFraction >= Thresholds.SUSTAINED_FRACTION && p.waitMeanMs >= Thresholds.POOL_WAIT_MIN_MS)
    .sort((a, b) => b.waitMeanMs * b.acquireRate - a.waitMeanMs * a.acquireRate);
}

/** "pg pool "name" (127.0.0.1:5432/app, max 4)". */
export function describePool(p: PoolPressure): string {
  const where = p.where !== '' && !p.name.includes(p.where) ? `${p.where}, ` : '';
  return `${p.driver} pool "${p.name}" (${where}max ${p.max})`;
}

/** What a held client does, from the pg query timing: null when unknown or mostly querying. */
export function idleHoldNote(p: PoolPressure): string | null {
  if (p.queryMsPerHold === null || p.holdMeanMs <= 0) return null;
  const idleMs = Math.max(0, p.holdMeanMs - p.queryMsPerHold);
  if (idleMs / p.holdMeanMs < Thresholds.POOL_IDLE_HOLD_SHARE) return null;
  return `a held client runs queries for only ${round(p.queryMsPerHold, 1)} ms of its ${round(p.holdMeanMs, 1)} ms hold (${round(p.queriesPerHold ?? 0, 1)} queries): for ${round(idleMs, 1)} ms the code holds it while awaiting something else (a downstream call, a timer, slow processing)`;
}

/** The sizing advice from Little's law, with the database's own limit when known. */
function sizingAdvice(p: PoolPressure): string {
  const needed = Math.ceil(p.neededSize);
  const rate = p.holdMeanMs > 0 ? (p.neededSize * 1000) / p.holdMeanMs : p.requestRate;
  const law = `Little's law: ${round(rate, 1)} acquisitions/s asked for × ${round(p.holdMeanMs, 1)} ms held ≈ ${round(p.neededSize, 1)} clients busy at once`;
  if (p.serverMaxConnections !== null && needed > p.serverMaxConnections) {
    const mysql = p.driver === 'mysql2';
    return `${law}, more than the ${p.serverMaxConnections} connections the database allows ordinary clients (${mysql ? 'max_connections' : 'max_connections minus reserved'}, shared by every process and replica): a bigger pool cannot fix this — hold each client for less time, or put a connection pooler (${mysql ? 'ProxySQL' : 'PgBouncer'}) in front and raise the database's limit.`;
  }
  const limit = p.serverMaxConnections !== null ? ` (the database allows ${p.serverMaxConnections}; keep the sum over all processes below it)` : '';
  return `${law}: raise max from ${p.max} to at least ${needed}${limit}, or hold each client for less time.`;
}

/** The source-mapped acquiring stack of a leak of this pool as a frame, when there is one. */
function leakFrames(ctx: RuleContext, pool: string): HotFrame[] {
  const leak = ctx.result.target?.poolLeaks?.find((l) => l.pool === pool);
  const frame = leak === undefined ? null : firstAppFrame(leak.stack);
  return frame === null ? [] : [frame];
}

/** The first frame of a V8 stack outside node_modules and node internals, as a HotFrame (shares 0). */
export function firstAppFrame(stack: string): HotFrame | null {
  for (const line of stack.split('\n')) {
    const m = /^\s*at (?:(.*?) \()?(?:file:\/\/)?(\/[^()]*?):(\d+):(\d+)\)?\s*$/.exec(line);
    if (m === null) continue;
    const file = m[2]!;
    // Redline's own in-target code (the pool watcher, the probe's require hook) is never the caller.
    if (file.includes('/node_modules/') || /\/packages\/(?:pool|probe|flow|trace)\//.test(file)) continue;
    return { functionName: m[1] ?? '(anonymous)', file, line: Number(m[3]), column: Number(m[4]), area: 'app', selfShare: 0, totalShare: 0 };
  }
  return null;
}

/**
 * Requests wait for a pool client: in at least SUSTAINED_FRACTION of the loaded seconds a watched
 * pool had every client in use at some moment and had waiters (mean ≥ POOL_WAITING_MIN) or a mean
 * acquire wait ≥ POOL_WAIT_MIN_MS, and the mean wait over the window is at least POOL_WAIT_MIN_MS and
 * POOL_WAIT_MIN_SHARE of the median p50 latency. High severity when the wait is at least
 * POOL_WAIT_HIGH_SHARE of the median p50 latency. Names the pool, its size, the hold time and what a
 * held client does, and sizes the pool by Little's law against the database's connection limit.
 */
export function poolWaitRule(ctx: RuleContext): Finding | null {
  const p = waitingPools(ctx)[0];
  if (p === undefined) return null;
  const latencyP50 = median(secondLatencies(ctx.timeseries, 'p50'));
  const waitShare = latencyP50 > 0 ? Math.min(1, p.waitMeanMs / latencyP50) : 0;
  if (waitShare < Thresholds.POOL_WAIT_MIN_SHARE) return null;
  const rps = meanOf(ctx.timeseries.map((x) => x.requests));
  const holdPerRequestMs = rps > 0 ? (p.holdMeanMs * p.acquireRate) / rps : p.holdMeanMs;
  const idle = idleHoldNote(p);
  const evidence: Evidence[] = [
    { metric: 'pool.wait_ms.mean', value: round(p.waitMeanMs, 1), threshold: Thresholds.POOL_WAIT_MIN_MS, comparison: '>=', unit: 'ms' },
    { metric: 'pool.waiting.mean', value: round(p.waitingMean, 1), threshold: Thresholds.POOL_WAITING_MIN, comparison: '>=', unit: 'count' },
    { metric: 'pool.in_use.mean', value: round(p.inUseMean, 2), threshold: p.max, comparison: '<=', unit: 'count' },
    { metric: 'pool.hold_ms.mean', value: round(p.holdMeanMs, 1), threshold: 0, comparison: '>', unit: 'ms' },
    { metric: 'pool.needed_size', value: round(p.neededSize, 2), threshold: p.max, comparison: '>', unit: 'count' },
    { metric: 'pool.wait_share_of_p50', value: round(waitShare, 3), threshold: Thresholds.POOL_WAIT_HIGH_SHARE, comparison: '>=', unit: 'ratio' },
  ];
  if (p.serverMaxConnections !== null) evidence.push({ metric: 'pool.server_max_connections', value: p.serverMaxConnections, threshold: Math.ceil(p.neededSize), comparison: '>=', unit: 'count' });
  const parts = [sizingAdvice(p)];
  if (idle !== null) parts.push(`Better: ${idle}; release the client before that work (or use pool.query() for single statements).`);
  if (p.driver === 'pg') parts.push('pg waits for a client forever by default: set connectionTimeoutMillis so overload fails fast instead of queueing without bound.');
  return {
    category: 'pool-wait',
    severity: waitShare >= Thresholds.POOL_WAIT_HIGH_SHARE ? 'high' : 'medium',
    confidence: round(Math.min(0.97, 0.6 + 0.3 * p.waitingFraction + (waitShare >= Thresholds.POOL_WAIT_HIGH_SHARE ? 0.05 : 0))),
    title: `Requests wait for a pool client: ${describePool(p)} had ${round(p.inUseMean, 1)} of ${p.max} clients in use and ${round(p.waitingMean, 1)} callers waiting on average (up to ${p.waitingMax}); acquire wait ${round(p.waitMeanMs, 1)} ms mean, ${Math.round(waitShare * 100)}% of p50 latency; each request holds a client ${round(holdPerRequestMs, 1)} ms${idle === null ? '' : ', mostly without a query running'}`,
    window: p.window,
    evidence,
    frames: leakFrames(ctx, p.name),
    recommendation: parts.join(' '),
  };
}

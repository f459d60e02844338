import type { Finding } from '@redline/core';
import { Thresholds } from '../thresholds.js';
import { cpuCores, meanOf, median, responsibleCode, round, secondLatencies, sustained, type RuleContext } from '../timeline.js';
import { describePool, idleHoldNote, waitingPools } from './pool-wait.js';

/** Plain names for the resource types `process.getActiveResourcesInfo()` reports. */
const RESOURCE_LABELS: Record<string, string> = {
  TCPSocketWrap: 'sockets',
  TCPWrap: 'sockets',
  TLSWrap: 'TLS sockets',
  PipeWrap: 'pipes',
  Timeout: 'timers',
  Immediate: 'immediates',
  FSReqCallback: 'file-system requests',
  FSReqPromise: 'file-system requests',
  FileHandle: 'file handles',
  GetAddrInfoReqWrap: 'DNS lookups',
  ConnectWrap: 'connects in progress',
  WriteWrap: 'pending writes',
  ShutdownWrap: 'socket shutdowns',
};

/** A resource type that piles up while load runs: its mean count in the window over its count without load. */
export interface ResourcePile {
  type: string;
  label: string;
  meanCount: number;
  /** Lowest count in samples before the loaded window (0 when there are none). */
  baselineCount: number;
  growth: number;
}

/**
 * The resource types whose mean count under load exceeds their count without load by at least
 * WAIT_MIN_PILE, largest first. Samples before the load give the baseline (not those after it, where
 * keep-alive connections linger); without any, the baseline is 0.
 */
export function resourcePiles(ctx: RuleContext): ResourcePile[] {
  const types = new Set<string>();
  for (const s of ctx.allSamples) for (const k of Object.keys(s.activeResources)) types.add(k);
  // Only seconds before the load are a baseline: after it, keep-alive connections of the load stay
  // open for a while and would hide the very sockets that piled up.
  const outside = ctx.allSamples.filter((s) => s.t <= ctx.active.startS);
  const piles: ResourcePile[] = [];
  for (const type of types) {
    const baselineCount = outside.length === 0 ? 0 : Math.min(...outside.map((s) => s.activeResources[type] ?? 0));
    const meanCount = meanOf(ctx.samples.map((s) => s.activeResources[type] ?? 0));
    const growth = meanCount - baselineCount;
    if (growth >= Thresholds.WAIT_MIN_PILE) piles.push({ type, label: RESOURCE_LABELS[type] ?? type, meanCount, baselineCount, growth });
  }
  return piles.sort((a, b) => b.growth - a.growth);
}

function advice(piles: ResourcePile[]): string {
  const top = piles[0]?.label;
  const timers = piles.find((p) => p.label === 'timers')?.growth ?? 0;
  // Incoming sockets pile up in every slow server; timers as many as them mean each waiting request holds one.
  if (timers >= 0.5 * (piles[0]?.growth ?? 0) && timers > 0) {
    return 'Requests wait with timers pending: typically a pool or queue with too few slots, held too long (pool waiters with acquire timeouts), or retry/back-off timers. Raise the pool size, hold each connection for less time (release before slow work), and put a bound and a timeout on the wait.';
  }
  if (top === 'file-system requests' || top === 'file handles') {
    return 'Requests wait on file-system work queued in the libuv thread pool (4 threads by default): cache what is read repeatedly, stream large files, or raise UV_THREADPOOL_SIZE.';
  }
  if (top === 'DNS lookups') return 'Requests wait on DNS lookups (run on the libuv thread pool): cache resolutions or connect by address, and keep connections alive.';
  return 'Requests wait on calls to something outside the process (open sockets pile up): check the downstream service\'s latency, give each call a timeout, keep connections alive with a bounded pool, and cache or batch downstream answers; more CPU will not help.';
}

function poolAdvice(pool: ReturnType<typeof waitingPools>[number]): string {
  const idle = idleHoldNote(pool);
  return `Requests queue for a client of ${describePool(pool)}: see the pool-wait finding for its sizing${idle === null ? '' : `; ${idle}`}.`;
}

/**
 * Waiting on something outside: CPU stays low (below WAIT_MAX_CPU_CORES; ELU below WAIT_MAX_ELU, or
 * below ELU_BUSY when a CPU profile was taken, since profiling inflates ELU) while
 * requests take long (median p50 ≥ WAIT_MIN_LATENCY_MS) and most of that time is not CPU time
 * (wait share ≥ WAIT_MIN_WAIT_SHARE). Names the resource types that pile up.
 */
export function waitingExternalRule(ctx: RuleContext): Finding | null {
  if (ctx.samples.length === 0 || ctx.timeseries.length === 0) return null;
  const eluCeiling = ctx.profile !== undefined ? Thresholds.ELU_BUSY : Thresholds.WAIT_MAX_ELU;
  const idle = sustained(ctx.samples, (s) => s.elu < eluCeiling && cpuCores(s) < Thresholds.WAIT_MAX_CPU_CORES);
  if (idle.window === null || idle.fraction < Thresholds.SUSTAINED_FRACTION) return null;
  const latencyP50 = median(secondLatencies(ctx.timeseries, 'p50'));
  if (!(latencyP50 >= Thresholds.WAIT_MIN_LATENCY_MS)) return null;
  const rps = meanOf(ctx.timeseries.map((p) => p.requests));
  const cpuMsPerRequest = rps > 0 ? (meanOf(ctx.samples.map(cpuCores)) * 1000) / rps : 0;
  const waitShare = Math.max(0, 1 - cpuMsPerRequest / latencyP50);
  if (waitShare < Thresholds.WAIT_MIN_WAIT_SHARE) return null;
  const third = Math.max(1, Math.floor(ctx.timeseries.length / 3));
  const earlyP50 = median(secondLatencies(ctx.timeseries.slice(0, third), 'p50'));
  const lateP50 = median(secondLatencies(ctx.timeseries.slice(-third), 'p50'));
  const rising = lateP50 >= 2 * earlyP50;
  const piles = resourcePiles(ctx);
  // Measured facts first: callers queued on a watched pool, work queued on the libuv thread pool.
  const pool = waitingPools(ctx)[0];
  const tpDelay = median(ctx.samples.flatMap((s) => (s.threadpoolDelayMs === undefined ? [] : [s.threadpoolDelayMs.mean])));
  const facts: string[] = [];
  if (pool !== undefined) facts.push(`${round(pool.waitingMean, 1)} callers waiting for a client of ${describePool(pool)}`);
  if (tpDelay >= Thresholds.THREADPOOL_DELAY_MS) facts.push(`thread-pool work queued ${round(tpDelay, 1)} ms`);
  const resourceText = piles.slice(0, 3).map((p) => `${Math.round(p.meanCount)} ${p.label} (${p.type}${p.baselineCount > 0 ? `, ${p.baselineCount} without load` : ''})`).join(', ');
  const pileText = [...facts, ...(resourceText === '' ? [] : [resourceText])].join('; ') || 'no resource type piles up';
  const code = responsibleCode(ctx, ctx.active);
  return {
    category: 'waiting-external',
    severity: rising || latencyP50 >= 5 * Thresholds.WAIT_MIN_LATENCY_MS ? 'high' : 'medium',
    confidence: round(Math.min(0.95, 0.45 + 0.35 * waitShare + (piles.length > 0 ? 0.1 : 0) + (rising ? 0.05 : 0))),
    title: `Waiting on something outside: p50 latency ${Math.round(latencyP50)} ms${rising ? ` and rising (from ${Math.round(earlyP50)} ms)` : ''} while CPU and ELU stay low; ${pileText}`,
    window: ctx.active,
    evidence: [
      { metric: 'http.latency.p50', value: round(latencyP50), threshold: Thresholds.WAIT_MIN_LATENCY_MS, comparison: '>=', unit: 'ms' },
      { metric: 'target.wait_share', value: round(waitShare, 3), threshold: Thresholds.WAIT_MIN_WAIT_SHARE, comparison: '>=', unit: 'ratio' },
      { metric: 'target.elu', value: round(meanOf(idle.matched.map((s) => s.elu))), threshold: eluCeiling, comparison: '<', unit: 'ratio' },
      { metric: 'target.cpu', value: round(meanOf(idle.matched.map(cpuCores))), threshold: Thresholds.WAIT_MAX_CPU_CORES, comparison: '<', unit: 'cores' },
      ...piles.slice(0, 3).map((p) => ({
        metric: `target.active_resources.${p.type}`,
        value: round(p.meanCount, 1),
        threshold: p.baselineCount + Thresholds.WAIT_MIN_PILE,
        comparison: '>=' as const,
        unit: 'count',
      })),
    ],
    frames: code.frames,
    recommendation: pool !== undefined ? poolAdvice(pool) : tpDelay >= Thresholds.THREADPOOL_DELAY_MS ? 'Requests wait for the libuv thread pool (4 threads by default): see the threadpool-saturated finding for the work that fills it.' : advice(piles),
  };
}

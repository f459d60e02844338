import type { TargetReport } from '@redline/core';
import { mapStackTrace, SourceMapResolver } from '@redline/doctor';
import { aggregateStats, collectLeaks, collectThreadpoolCallers, type TargetHandle } from '@redline/probe/host';

/** Channel names the probe forwards (kept here so the CLI does not import @redline/pool). */
const POOL_STATS = 'redline:pool:stats';
const FLOW_STATS = 'redline:flow:stats';

/**
 * The target-report fields that come from in-target stats channels: watched pools, flow limiters,
 * pool leaks and the callers of thread-pool work (stacks source-mapped). Empty fields are left out so runs without pools look as before.
 */
export function channelFields(handle: TargetHandle, runStartEpochMs: number): Pick<TargetReport, 'pools' | 'flows' | 'poolLeaks' | 'threadpoolCallers'> {
  const out: Pick<TargetReport, 'pools' | 'flows' | 'poolLeaks' | 'threadpoolCallers'> = {};
  const stats = handle.stats();
  const pools = aggregateStats(stats, POOL_STATS, runStartEpochMs, handle.poolInfos());
  if (pools.length > 0) out.pools = pools;
  const flows = aggregateStats(stats, FLOW_STATS, runStartEpochMs);
  if (flows.length > 0) out.flows = flows;
  const resolver = new SourceMapResolver();
  const leaks = collectLeaks(handle.poolLeaks(), runStartEpochMs, (s) => mapStackTrace(s, resolver));
  if (leaks.length > 0) out.poolLeaks = leaks;
  const callers = collectThreadpoolCallers(handle.threadpoolCallers(), runStartEpochMs, (s) => mapStackTrace(s, resolver));
  if (callers.length > 0) out.threadpoolCallers = callers;
  return out;
}

import type { Redis } from 'ioredis';
import { ErrorCodes, RedlineError, type ResolvedRunConfig, type RunResult, type RunStatus } from '@redline/core';
import { writeRunDir } from '@redline/load';
import { writeReport } from '@redline/report';
import { DistributedMerge } from './merge-live.js';
import { KEY_TTL_S, runKeys, type InstanceInfo, type StreamMessage } from './protocol.js';

/** Options of the coordinator of one distributed run. */
export interface CoordinatorOptions {
  redis: Redis;
  runId: string;
  instances: number;
  /** Merged run directory; default `.redline/runs/<stamp>-<name>` under `cwd`. */
  outDir?: string;
  cwd: string;
  /** How long to wait for every instance to join. */
  meetTimeoutMs: number;
  /** An instance silent this long is marked lost; a second waits at most this long for stragglers. */
  lagMs: number;
  report?: boolean;
  onEvent?: (message: string) => void;
}

/** What the coordinator produced. */
export interface CoordinatorOutcome {
  result: RunResult;
  runDir: string;
  reportPath: string | null;
}

/**
 * Claims the coordinator's role for a run (SET NX): true for the first caller. `redline coordinate`
 * and instance 0 both try; whoever comes first merges.
 */
export async function claimCoordinator(redis: Redis, runId: string, who: string): Promise<boolean> {
  return (await redis.set(runKeys(runId).coordinator, who, 'EX', KEY_TTL_S, 'NX')) === 'OK';
}

async function waitForMeeting(o: CoordinatorOptions): Promise<{ members: InstanceInfo[]; startAt: number }> {
  const k = runKeys(o.runId);
  const deadline = Date.now() + o.meetTimeoutMs;
  for (;;) {
    const refused = Object.entries(await o.redis.hgetall(k.refused))[0];
    if (refused) throw new RedlineError(ErrorCodes.INSTANCE_MISMATCH, `run "${o.runId}" cannot start: instance ${refused[0]} was refused: ${refused[1]}`);
    const members = Object.values(await o.redis.hgetall(k.meet)).map((v) => JSON.parse(v) as InstanceInfo);
    const start = await o.redis.get(k.start);
    if (members.length >= o.instances && start !== null) return { members, startAt: Number(start) };
    if (Date.now() > deadline) throw new RedlineError(ErrorCodes.TIMEOUT, `run "${o.runId}": only ${members.length} of ${o.instances} instances joined within ${Math.round(o.meetTimeoutMs / 1000)} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Coordinates a distributed run: waits for the meeting, reads every instance's per-second snapshots
 * from the run's Redis stream, merges them (see DistributedMerge), evaluates thresholds across all
 * instances every second and tells every instance to stop when an abortOnFail threshold fails.
 * Instances that die or fall silent are marked lost; if Redis itself is lost for `lagMs`, the merge
 * ends with what arrived. Writes one merged run directory that report, compare and capacity read.
 */
export async function coordinateRun(o: CoordinatorOptions): Promise<CoordinatorOutcome> {
  const k = runKeys(o.runId);
  const { members, startAt } = await waitForMeeting(o);
  // Epoch ms on both sides: the engine clock is performance.timeOrigin + now().
  const merge = new DistributedMerge(members, o.lagMs, Math.max(Date.now(), startAt + 1000));
  o.onEvent?.(`coordinating run ${o.runId}: ${members.length} instances`);
  let lastId = '0';
  let status: RunStatus = 'completed';
  let lostRedisAfter: number | null = null;
  let failingSince: number | null = null;
  const reportedLag = new Set<number>();
  let lastCheck = 0;
  while (!merge.finished) {
    let entries: Array<[string, string[]]> = [];
    try {
      const res = (await o.redis.xread('COUNT', 1000, 'BLOCK', 500, 'STREAMS', k.stream, lastId)) as Array<[string, Array<[string, string[]]>]> | null;
      entries = res?.[0]?.[1] ?? [];
      failingSince = null;
    } catch (err) {
      failingSince ??= Date.now();
      if (Date.now() - failingSince > o.lagMs) {
        lostRedisAfter = merge.mergedSeconds;
        o.onEvent?.(`lost Redis (${(err as Error).message}) after second ${lostRedisAfter}; merging what arrived`);
        merge.loseAll();
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    const now = Date.now();
    for (const [id, fields] of entries) {
      lastId = id;
      const m = fields[1];
      if (m !== undefined) merge.add(JSON.parse(m) as StreamMessage, now);
    }
    // What has been read lives on in the merge: Redis keeps only the unread part of the stream, so
    // its memory is bounded by the seconds in flight, not by the length of the run.
    if (entries.length) await o.redis.xtrim(k.stream, 'MINID', lastId).catch(() => undefined);
    merge.flush(now);
    if (now - lastCheck < 1000) continue;
    lastCheck = now;
    for (const st of merge.markSilent(now)) o.onEvent?.(`instance ${st.info.instance} (${st.info.host}) sent nothing for ${Math.round(o.lagMs / 1000)} s after second ${st.lastIndex}: marked lost`);
    for (const st of merge.lagging(3)) {
      if (reportedLag.has(st.info.instance)) continue;
      reportedLag.add(st.info.instance);
      o.onEvent?.(`instance ${st.info.instance} (${st.info.host}) is lagging: at second ${st.lastIndex}`);
    }
    if (status === 'completed' && merge.shouldAbort(now - startAt)) {
      status = 'aborted';
      o.onEvent?.('an abortOnFail threshold failed across the instances: stopping every instance');
      await o.redis.set(k.control, 'abort', 'EX', KEY_TTL_S).catch(() => undefined);
    }
  }
  const config = members.sort((a, b) => a.instance - b.instance)[0]!.config as unknown as ResolvedRunConfig;
  const result = merge.result({ config, status, startedAt: new Date(startAt), runId: o.runId, lostRedisAfter });
  const runDir = await writeRunDir(result, o.outDir, o.cwd);
  let reportPath: string | null = null;
  if (o.report !== false) reportPath = await writeReport(runDir);
  return { result, runDir, reportPath };
}

import { join } from 'node:path';
import { ErrorCodes, RESULT_FILE, RedlineError, parseDuration, writeJsonAtomic } from '@redline/core';
import { executionShare, type LoadPlan, type SegmentSpec } from '@redline/load';
import type { Redis } from 'ioredis';
import { intFlag } from '../args.js';
import type { SessionOptions, SessionOutcome } from '../session.js';
import { claimCoordinator, coordinateRun, type CoordinatorOutcome } from './coordinator.js';
import { RunInstance } from './instance.js';
import { connectCoordinator } from './redis.js';

/** `redline run` flags of distributed runs (parsed with the command's other options). */
export const DISTRIBUTED_OPTIONS = {
  'execution-segment': { type: 'string' },
  'execution-segment-sequence': { type: 'string' },
  coordinator: { type: 'string' },
  instances: { type: 'string' },
  'run-id': { type: 'string' },
  'instance-index': { type: 'string' },
  'no-coordinate': { type: 'boolean' },
  'merged-out': { type: 'string' },
  'meet-timeout': { type: 'string' },
  'lag-timeout': { type: 'string' },
} as const;

export const DISTRIBUTED_HELP = `Distributed (docs/distributed.md):
  --execution-segment S          run only this share of the load, e.g. 1/4:2/4 (k6's striped segments)
  --execution-segment-sequence Q all instances' segments, e.g. 0,1/4,2/4,3/4,1
  --coordinator redis://H:P      meet other instances, start together, merge results live over Redis
  --instances N                  how many instances the run has (with --coordinator)
  --run-id ID                    the run's name, the same on every instance
  --instance-index I             this instance's index 0..N-1 (default: order of joining)
  --no-coordinate                never merge on this instance (leave it to "redline coordinate")
  --merged-out DIR               where the coordinating instance writes the merged run directory
  --meet-timeout D               how long to wait for every instance (default 60s)
  --lag-timeout D                an instance silent this long is marked lost (default 10s)`;

/** Validated distributed-run settings. */
export interface DistributedFlags {
  segment?: SegmentSpec;
  coordinator?: { url: string; instances: number; runId: string; index?: number; coordinate: boolean; mergedOut?: string; meetTimeoutMs: number; lagMs: number };
}

/** Checks the distributed flags before anything starts (exit 2 on a bad one). */
export function distributedFlags(v: Record<string, unknown>): DistributedFlags {
  const out: DistributedFlags = {};
  const segment = v['execution-segment'];
  const sequence = v['execution-segment-sequence'];
  if (sequence !== undefined && segment === undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline run: --execution-segment-sequence needs --execution-segment (this instance\'s segment of it)');
  if (segment !== undefined) {
    out.segment = { segment: String(segment), ...(sequence !== undefined ? { sequence: String(sequence) } : {}) };
    executionShare(out.segment);
  }
  const coordOnly = (['instances', 'run-id', 'instance-index', 'no-coordinate', 'merged-out', 'meet-timeout', 'lag-timeout'] as const).filter((f) => v[f] !== undefined);
  if (v.coordinator === undefined) {
    if (coordOnly.length) throw new RedlineError(ErrorCodes.USAGE, `redline run: ${coordOnly.map((f) => `--${f}`).join(', ')} need${coordOnly.length > 1 ? '' : 's'} --coordinator redis://HOST:PORT`);
    return out;
  }
  const instances = intFlag('instances', v.instances);
  if (instances === undefined) throw new RedlineError(ErrorCodes.USAGE, 'redline run: --coordinator needs --instances N (how many instances the run has)');
  if (v['run-id'] === undefined || !/^[A-Za-z0-9._-]{1,100}$/.test(String(v['run-id']))) {
    throw new RedlineError(ErrorCodes.USAGE, `redline run: --coordinator needs --run-id ID made of letters, digits, ".", "_" and "-" (got ${v['run-id'] === undefined ? 'none' : `"${String(v['run-id'])}"`})`);
  }
  const index = intFlag('instance-index', v['instance-index'], 0);
  if (index !== undefined && index >= instances) throw new RedlineError(ErrorCodes.USAGE, `invalid --instance-index ${index}: expected 0..${instances - 1} for --instances ${instances}`);
  out.coordinator = {
    url: String(v.coordinator),
    instances,
    runId: String(v['run-id']),
    ...(index !== undefined ? { index } : {}),
    coordinate: !v['no-coordinate'],
    ...(v['merged-out'] !== undefined ? { mergedOut: String(v['merged-out']) } : {}),
    meetTimeoutMs: v['meet-timeout'] !== undefined ? parseDuration(String(v['meet-timeout']), '--meet-timeout') : 60_000,
    lagMs: v['lag-timeout'] !== undefined ? parseDuration(String(v['lag-timeout']), '--lag-timeout') : 10_000,
  };
  return out;
}

/** A distributed run's side of `redline run`: hooks for the session, and what to do after it. */
export interface DistributedRun {
  /** Session options to merge in (segment, start instant, stream, abort watch, joining in `plan`). */
  session(plan: SessionOptions['plan']): Pick<SessionOptions, 'plan' | 'load' | 'onLoad'>;
  /** After the session: reports the end; the coordinating instance waits for the merged result. */
  finish(outcome: SessionOutcome): Promise<CoordinatorOutcome | null>;
  /** Closes the Redis connections (always call). */
  close(): void;
}

/**
 * Sets up a distributed run: connects to Redis (REDLINE_ERR_COORDINATOR_UNREACHABLE, exit 2, when
 * it cannot) before any target starts; the instance joins once its plan is resolved.
 */
export async function startDistributed(f: NonNullable<DistributedFlags['coordinator']>, segment: SegmentSpec | undefined, scenarioFile: string, cwd: string, onEvent: (m: string) => void): Promise<DistributedRun> {
  const redis = await connectCoordinator(f.url);
  const clients: Redis[] = [redis];
  const instance = new RunInstance({
    redis,
    runId: f.runId,
    instances: f.instances,
    ...(f.index !== undefined ? { index: f.index } : {}),
    ...(segment ? { segment } : {}),
    meetTimeoutMs: f.meetTimeoutMs,
    lossAfterMs: f.lagMs,
    onEvent,
  });
  let coordinating: Promise<CoordinatorOutcome> | null = null;
  return {
    session: (plan) => ({
      plan: async (target): Promise<LoadPlan> => {
        const p = await plan(target);
        await instance.join(p, scenarioFile);
        if (f.coordinate && instance.index === 0 && (await claimCoordinator(redis, f.runId, `instance 0 pid ${process.pid}`))) {
          // XREAD BLOCK holds its connection, so the merge gets its own.
          const own = await connectCoordinator(f.url);
          clients.push(own);
          coordinating = coordinateRun({ redis: own, runId: f.runId, instances: f.instances, cwd, ...(f.mergedOut ? { outDir: f.mergedOut } : {}), meetTimeoutMs: f.meetTimeoutMs + 5000, lagMs: f.lagMs, onEvent: (m) => onEvent(`coordinator: ${m}`) });
          coordinating.catch(() => undefined);
        }
        return p;
      },
      load: {
        // Read when the load starts, after `plan` joined and the segment is known.
        get segment() {
          return instance.segment;
        },
        startAt: () => instance.awaitStart(),
        onIntervals: (index, snaps) => instance.publish(index, snaps),
      },
      onLoad: (run) => instance.watchAbort(run),
    }),
    finish: async (outcome) => {
      const lost = await instance.finish({ status: outcome.result.status, durationMs: outcome.result.summary.durationMs, runDir: outcome.writeError ? null : outcome.runDir });
      if (lost && !outcome.writeError) {
        outcome.result.warnings = [...(outcome.result.warnings ?? []), lost];
        await writeJsonAtomic(join(outcome.runDir, RESULT_FILE), outcome.result);
      }
      return coordinating ? await coordinating : null;
    },
    close: () => {
      for (const c of clients) c.disconnect();
    },
  };
}

import { ErrorCodes, RedlineError, type Finding, type LeakSuspect, type RunResult, type Severity } from '@redline/core';
import { topAllocationFrames, type HeapProfile } from './heap-profile.js';
import { ProfileModel } from './profile-model.js';
import { buildContext, cpuCores, driverCpuShare, median, type RuleContext } from './timeline.js';
import { Thresholds } from './thresholds.js';
import { cpuSaturatedRule } from './rules/cpu-saturated.js';
import { errorsRule } from './rules/errors.js';
import { eventLoopBlockedRule } from './rules/event-loop-blocked.js';
import { gcPressureRule } from './rules/gc-pressure.js';
import { generatorLimitedRule } from './rules/generator-limited.js';
import { memoryLeakRule } from './rules/memory-leak.js';
import { noProblemFinding } from './rules/no-problem.js';
import { targetExitedRule } from './rules/target-exited.js';
import { waitingExternalRule } from './rules/waiting-external.js';
import { poolWaitRule } from './rules/pool-wait.js';
import { poolLeakRule } from './rules/pool-leak.js';
import { threadpoolSaturatedRule } from './rules/threadpool-saturated.js';
import { nPlusOneRule } from './rules/n-plus-one.js';
import { slowQueryRule } from './rules/slow-query.js';
import { slowDownstreamRule } from './rules/slow-downstream.js';
import { serverQueueingRule } from './rules/server-queueing.js';
import { connectionChurnRule } from './rules/connection-churn.js';
import { cacheHeadersRule, edgeExpirySpikeRule } from './rules/edge-cache.js';
import { http2StreamLimitRule } from './rules/http2-stream-limit.js';
import { compressionCpuRule } from './rules/compression-cpu.js';
import { serverKeepAliveRule } from './rules/server-keepalive.js';
import type { TracesFile } from '@redline/trace';

/** Options of {@link diagnose}. */
export interface DiagnoseOptions {
  /** The CPU profile of the target; its `startEpochMs` must be on the epoch clock to window it by the run's seconds. */
  profile?: ProfileModel;
  /** A sampling heap profile of the target; names the allocation-heavy functions in GC and leak findings. */
  heapProfile?: HeapProfile;
  /** Paths inside this directory are shown relative to it in allocation frames. */
  appRoot?: string;
  /** The run's trace analysis (`traces.json`); enables the trace-based rules. */
  traces?: TracesFile;
  /** What grew between the run's heap snapshots (`diffHeapSnapshots`); names the leak's holder. */
  leakSuspects?: LeakSuspect[];
}

/** A diagnosis rule: reads the context, returns a finding or null. */
export type Rule = (ctx: RuleContext) => Finding | null;

/** The rules `diagnose` runs, in no particular order (findings are sorted afterwards). */
export const RULES: readonly Rule[] = [
  targetExitedRule,
  eventLoopBlockedRule,
  cpuSaturatedRule,
  gcPressureRule,
  memoryLeakRule,
  waitingExternalRule,
  poolWaitRule,
  poolLeakRule,
  threadpoolSaturatedRule,
  generatorLimitedRule,
  errorsRule,
  nPlusOneRule,
  slowQueryRule,
  slowDownstreamRule,
  serverQueueingRule,
  connectionChurnRule,
  edgeExpirySpikeRule,
  cacheHeadersRule,
  http2StreamLimitRule,
  compressionCpuRule,
  serverKeepAliveRule,
];

const SEVERITY_RANK: Record<Severity, number> = { high: 0, medium: 1, low: 2, info: 3 };

/** Sorts findings by severity (high first), then by confidence (highest first). */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity] || b.confidence - a.confidence);
}

function demote(f: Finding | undefined, why: string): void {
  if (f === undefined || f.severity !== 'high') return;
  f.severity = 'medium';
  f.title = `${f.title} (${why})`;
}

/** The categories that name a cause inside the target (errors and the generator are what one sees of them). */
const CAUSES: readonly Finding['category'][] = ['event-loop-blocked', 'cpu-saturated', 'gc-pressure', 'memory-leak', 'waiting-external', 'pool-wait', 'pool-leak', 'threadpool-saturated', 'n-plus-one', 'slow-query', 'slow-downstream', 'server-queueing'];

/** Puts a symptom one severity below its cause (unless it already ranks lower) and says why. */
function rankBelow(symptom: Finding | undefined, cause: Finding, why: string): void {
  if (symptom === undefined || SEVERITY_RANK[symptom.severity] > SEVERITY_RANK[cause.severity]) return;
  symptom.severity = lowerThan(cause.severity);
  symptom.title = `${symptom.title} (${why})`;
}

/** Trace findings name what the waiting is for: they explain a `waiting-external` finding. */
const TRACE_CAUSES: readonly Finding['category'][] = ['n-plus-one', 'slow-query', 'slow-downstream', 'server-queueing'];

function lowerThan(s: Severity): Severity {
  return s === 'high' ? 'medium' : s === 'medium' ? 'low' : 'info';
}

/**
 * Several rules see the same busy main thread. One cause explains the others: a growing heap drives
 * GC, GC and long synchronous calls use the CPU. The explained findings stay, one severity lower, so
 * the top finding is the cause. Errors that are mostly timeouts are what a slow target looks like from
 * outside: with a cause found they rank below it. A generator that fell behind while itself idle was
 * starved of CPU by the target or other processes: with a cause found that is context, not the answer.
 */
function arbitrate(found: Finding[], ctx: RuleContext): void {
  const by = (c: Finding['category']): Finding | undefined => found.find((f) => f.category === c);
  const leak = by('memory-leak');
  const gc = by('gc-pressure');
  const loop = by('event-loop-blocked');
  const cpu = by('cpu-saturated');
  if (leak?.severity === 'high') {
    demote(gc, 'driven by the growing heap');
    demote(loop, 'GC of the growing heap');
    demote(cpu, 'GC of the growing heap');
  } else if (gc?.severity === 'high') {
    demote(loop, 'GC pauses count here');
    demote(cpu, 'much of it is GC');
  } else if (loop?.severity === 'high' && cpu !== undefined) {
    demote(cpu, 'the CPU goes to the blocking calls above');
  }
  // What the waiting is on outranks the generic waiting finding; a saturated thread pool burns the
  // process's CPU in its own threads, so "CPU saturated" would send the user to the idle main thread.
  const wait = by('waiting-external');
  const pool = by('pool-wait');
  const threadpool = by('threadpool-saturated');
  if (pool !== undefined) rankBelow(wait, pool, 'what piles up is the pool wait above');
  if (threadpool !== undefined) {
    rankBelow(cpu, threadpool, 'the CPU goes to the libuv thread pool, not the main thread');
    rankBelow(wait, threadpool, 'the wait is the thread-pool queue above');
    // A late loop in a process that gets under half a core is starved by its own thread pool (and
    // other processes), not blocked by its own synchronous work.
    const loopCpu = loop === undefined ? Infinity : median(ctx.samples.filter((s) => s.t > loop.window.startS && s.t <= loop.window.endS).map(cpuCores));
    if (loopCpu < Thresholds.WAIT_MAX_CPU_CORES) rankBelow(loop, threadpool, 'the process had under half a core: starved, not blocked');
  }
  // A busy event loop makes requests wait before the handler: queueing is then its symptom.
  const queueing = by('server-queueing');
  const busyLoop = [loop, cpu].find((f) => f !== undefined && f.severity === 'high');
  if (queueing !== undefined && busyLoop !== undefined) {
    queueing.severity = lowerThan(queueing.severity === 'high' ? 'medium' : queueing.severity);
    queueing.title = `${queueing.title} (the event loop was busy: see ${busyLoop.category})`;
  }
  // The function that issues the N+1 queries (or the slow query) is where the driver's per-query
  // work runs: when the busy loop or CPU is blamed on that same function, the queries are the cause.
  for (const q of [by('n-plus-one'), by('slow-query')]) {
    const caller = q?.frames[0];
    if (q === undefined || caller === undefined) continue;
    for (const busy of [loop, cpu]) {
      const top = busy?.frames[0];
      if (busy !== undefined && top !== undefined && top.functionName === caller.functionName && top.file === caller.file) {
        rankBelow(busy, q, `${caller.functionName} is busy issuing the queries of ${q.category} above`);
        // Requests then wait before the handler for that same busy loop.
        if (queueing !== undefined) rankBelow(queueing, q, `the event loop was busy issuing the queries of ${q.category} above`);
      }
    }
  }
  // Without a calling function to match (a driver that issues queries from its own callbacks), the
  // profile still tells: when much of the busy CPU runs inside the database driver, the CPU goes to
  // the round trips of the N+1 queries, and batching them is what frees it.
  const nPlus = by('n-plus-one');
  if (nPlus !== undefined && nPlus.severity === 'high') {
    for (const busy of [loop, cpu]) {
      if (busy === undefined || SEVERITY_RANK[busy.severity] > SEVERITY_RANK[nPlus.severity]) continue;
      const share = driverCpuShare(ctx, busy.window);
      if (share < Thresholds.DRIVER_CPU_SHARE) continue;
      const why = `${Math.round(share * 100)}% of the busy CPU runs in the database driver, issuing the queries of n-plus-one above`;
      rankBelow(busy, nPlus, why);
      if (queueing !== undefined) rankBelow(queueing, nPlus, why);
    }
  }
  // A pool whose clients are held for the N+1 queries themselves waits because of them: batching the
  // queries shortens the hold; a bigger pool would only move the queue to the database.
  const nPlusOne = by('n-plus-one');
  const holdMs = pool?.evidence.find((e) => e.metric === 'pool.hold_ms.mean')?.value;
  const queriesMs = nPlusOne?.evidence.find((e) => e.metric === 'trace.statement_ms_per_request')?.value;
  if (pool !== undefined && nPlusOne !== undefined && holdMs !== undefined && queriesMs !== undefined && holdMs > 0 && queriesMs >= holdMs / 2) {
    rankBelow(pool, nPlusOne, 'the clients are held for the N+1 queries above');
  }
  const traced = found.filter((f) => TRACE_CAUSES.includes(f.category) && f.severity === 'high');
  if (traced.length > 0) demote(by('waiting-external'), `explained by ${traced[0]!.category} below`);
  const causes = found.filter((f) => CAUSES.includes(f.category) && (f.severity === 'high' || f.severity === 'medium'));
  const cause = sortFindings([...causes])[0];
  if (cause === undefined) return;
  const errors = by('errors');
  const s = ctx.result.summary;
  // Timeouts and requests still unanswered when the run ended (`interrupted`) are both a slow target.
  const timeouts = (s.errorsByKind.timeout ?? 0) + (s.errorsByKind.interrupted ?? 0);
  if (errors !== undefined && s.errors > 0 && timeouts / s.errors >= Thresholds.ERRORS_TIMEOUT_SHARE && SEVERITY_RANK[errors.severity] <= SEVERITY_RANK[cause.severity]) {
    errors.severity = lowerThan(cause.severity);
    errors.title = `${errors.title} (timeouts: a symptom of ${cause.category} above)`;
  }
  const gen = by('generator-limited');
  const g = ctx.result.generator;
  const generatorBusy = g.eluMax >= Thresholds.ELU_BUSY || g.cpuCoresMean >= Thresholds.CPU_SATURATED_CORES;
  if (gen !== undefined && !generatorBusy && SEVERITY_RANK[gen.severity] <= SEVERITY_RANK[cause.severity]) {
    gen.severity = lowerThan(cause.severity);
    gen.title = `${gen.title} (the generator was idle: the machine was short of CPU)`;
  }
}

/**
 * Diagnoses a run: runs every rule over the aligned timeline (load time series, target samples and,
 * when given, the CPU profile), lets the root cause outrank its symptoms, and returns the findings by
 * severity then confidence. When nothing reaches medium severity a `no-problem` finding with its
 * evidence is included. Throws REDLINE_ERR_INVALID_ARGUMENT when `result` is not a run result.
 */
export function diagnose(result: RunResult, opts: DiagnoseOptions = {}): Finding[] {
  if (typeof result !== 'object' || result === null || result.kind !== 'run' || !Array.isArray(result.timeseries) || typeof result.summary !== 'object') {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'diagnose needs a run result (result.json with kind "run")');
  }
  if (opts.profile !== undefined && !(opts.profile instanceof ProfileModel)) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'diagnose: profile must be a ProfileModel from createProfileModel()');
  }
  const allocations = opts.heapProfile === undefined ? [] : topAllocationFrames(opts.heapProfile, { limit: 5, ...(opts.appRoot === undefined ? {} : { appRoot: opts.appRoot }) });
  const ctx = buildContext(result, opts.profile, allocations, opts.traces, opts.appRoot, opts.leakSuspects);
  const found: Finding[] = [];
  for (const rule of RULES) {
    const f = rule(ctx);
    if (f !== null) found.push(f);
  }
  arbitrate(found, ctx);
  if (!found.some((f) => f.severity === 'high' || f.severity === 'medium')) found.push(noProblemFinding(ctx));
  return sortFindings(found);
}

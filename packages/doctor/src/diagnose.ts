import { ErrorCodes, RedlineError, type Finding, type RunResult, type Severity } from '@redline/core';
import { topAllocationFrames, type HeapProfile } from './heap-profile.js';
import { ProfileModel } from './profile-model.js';
import { buildContext, type RuleContext } from './timeline.js';
import { cpuSaturatedRule } from './rules/cpu-saturated.js';
import { errorsRule } from './rules/errors.js';
import { eventLoopBlockedRule } from './rules/event-loop-blocked.js';
import { gcPressureRule } from './rules/gc-pressure.js';
import { generatorLimitedRule } from './rules/generator-limited.js';
import { memoryLeakRule } from './rules/memory-leak.js';
import { noProblemFinding } from './rules/no-problem.js';
import { targetExitedRule } from './rules/target-exited.js';
import { waitingExternalRule } from './rules/waiting-external.js';

/** Options of {@link diagnose}. */
export interface DiagnoseOptions {
  /** The CPU profile of the target; its `startEpochMs` must be on the epoch clock to window it by the run's seconds. */
  profile?: ProfileModel;
  /** A sampling heap profile of the target; names the allocation-heavy functions in GC and leak findings. */
  heapProfile?: HeapProfile;
  /** Paths inside this directory are shown relative to it in allocation frames. */
  appRoot?: string;
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
  generatorLimitedRule,
  errorsRule,
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

/**
 * Several rules see the same busy main thread. One cause explains the others: a growing heap drives
 * GC, GC and long synchronous calls use the CPU. The explained findings stay, one severity lower, so
 * the top finding is the cause.
 */
function arbitrate(found: Finding[]): void {
  const by = (c: Finding['category']): Finding | undefined => found.find((f) => f.category === c);
  const leak = by('memory-leak');
  const gc = by('gc-pressure');
  const loop = by('event-loop-blocked');
  const cpu = by('cpu-saturated');
  if (leak?.severity === 'high') {
    demote(gc, 'driven by the growing heap');
    demote(loop, 'GC of the growing heap');
    demote(cpu, 'GC of the growing heap');
    return;
  }
  if (gc?.severity === 'high') {
    demote(loop, 'GC pauses count here');
    demote(cpu, 'much of it is GC');
    return;
  }
  if (loop?.severity === 'high' && cpu !== undefined) demote(cpu, 'the CPU goes to the blocking calls above');
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
  const ctx = buildContext(result, opts.profile, allocations);
  const found: Finding[] = [];
  for (const rule of RULES) {
    const f = rule(ctx);
    if (f !== null) found.push(f);
  }
  arbitrate(found);
  if (!found.some((f) => f.severity === 'high' || f.severity === 'medium')) found.push(noProblemFinding(ctx));
  return sortFindings(found);
}

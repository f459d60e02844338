import { readRunResult, resolveRunFile, type Finding, type LeakSuspect, type RunResult } from '@redline/core';
import { diffHeapSnapshots } from './heap-diff.js';
import { readHeapSnapshot } from './heap-snapshot.js';
import { Thresholds } from './thresholds.js';
import { loadCpuProfile, type CpuProfile } from './cpu-profile.js';
import { mergeThreadProfiles } from './thread-merge.js';
import { diagnose } from './diagnose.js';
import { loadHeapProfile } from './heap-profile.js';
import { createProfileModel, type ProfileModel } from './profile-model.js';
import { readTracesFile } from '@redline/trace';

/** Options of {@link loadRunProfile} and {@link diagnoseRunDir}. */
export interface RunProfileOptions {
  /** Resolve frames through source maps (default true). */
  sourceMaps?: boolean;
  /** Show paths inside this directory relative to it (absolute path; e.g. the target's cwd). */
  appRoot?: string;
}

/**
 * Loads the main-thread CPU profile a probed run wrote (`result.target.profiles.cpuprofile`) as a
 * ProfileModel on the run's epoch clock, or null when the run has none. The clock comes from the
 * probe's `$redline.startEpochMs`; without it, from `target.profileWindow.startS` after `startedAt`.
 * Throws REDLINE_ERR_BAD_RUN_DIR when the named file is not a regular file inside the run directory,
 * REDLINE_ERR_BAD_DATA_FILE when it is malformed.
 */
export async function loadRunProfile(runDir: string, result: RunResult, opts: RunProfileOptions = {}): Promise<ProfileModel | null> {
  const file = result.target?.profiles.cpuprofile;
  if (file === undefined) return null;
  const profile = await loadCpuProfile(await resolveRunFile(runDir, file, 'target.profiles.cpuprofile'));
  let startEpochMs = profile.$redline?.startEpochMs;
  const window = result.target?.profileWindow;
  if (startEpochMs === undefined && window !== null && window !== undefined) {
    const started = Date.parse(result.startedAt);
    if (Number.isFinite(started)) startEpochMs = started + window.startS * 1000;
  }
  // Worker threads' profiles join the main one, each under a `thread <label>` node.
  const threadFiles = result.target?.profiles.threads ?? {};
  const threads: Record<string, CpuProfile> = {};
  for (const [label, f] of Object.entries(threadFiles)) {
    threads[label] = await loadCpuProfile(await resolveRunFile(runDir, f, `target.profiles.threads.${label}`));
  }
  if (startEpochMs !== undefined && profile.$redline?.startEpochMs === undefined) profile.$redline = { ...profile.$redline, startEpochMs };
  return createProfileModel(mergeThreadProfiles(profile, threads), {
    ...(startEpochMs === undefined ? {} : { startEpochMs }),
    ...(opts.sourceMaps === undefined ? {} : { sourceMaps: opts.sourceMaps }),
    ...(opts.appRoot === undefined ? {} : { appRoot: opts.appRoot }),
  });
}

/**
 * Reads a run directory and diagnoses it with its CPU profile and heap profile when there are ones. Returns the result
 * as read (its `findings` untouched), the new findings, and the profile model. Throws
 * REDLINE_ERR_BAD_RUN_DIR for a directory that is not a run and REDLINE_ERR_BAD_DATA_FILE for a
 * broken profile.
 */
export async function diagnoseRunDir(runDir: string, opts: RunProfileOptions = {}): Promise<{ result: RunResult; findings: Finding[]; profile: ProfileModel | null }> {
  const result = await readRunResult(runDir);
  const profile = await loadRunProfile(runDir, result, opts);
  const heapFile = result.target?.profiles.heapprofile;
  const heapProfile = heapFile === undefined ? undefined : await loadHeapProfile(await resolveRunFile(runDir, heapFile, 'target.profiles.heapprofile'));
  const traces = await readTracesFile(runDir);
  const leakSuspects = await loadLeakSuspects(runDir, result, opts);
  const findings = diagnose(result, {
    ...(leakSuspects === null ? {} : { leakSuspects }),
    ...(traces === null ? {} : { traces }),
    ...(profile === null ? {} : { profile }),
    ...(heapProfile === undefined ? {} : { heapProfile }),
    ...(opts.appRoot === undefined ? {} : { appRoot: opts.appRoot }),
  });
  return { result, findings, profile };
}

/**
 * Diffs the heap snapshots a run took (`target.heapSnapshots.taken`, two or more), or null when it
 * has fewer. Snapshots are read one at a time and only their graphs kept. Throws
 * REDLINE_ERR_BAD_RUN_DIR / REDLINE_ERR_BAD_DATA_FILE for a named file that is not a snapshot.
 */
export async function loadLeakSuspects(runDir: string, result: RunResult, opts: RunProfileOptions = {}): Promise<LeakSuspect[] | null> {
  const taken = result.target?.heapSnapshots?.taken ?? [];
  if (taken.length < 2) return null;
  const snapshots = [];
  for (const [k, snap] of taken.entries()) snapshots.push(await readHeapSnapshot(await resolveRunFile(runDir, snap.file, `target.heapSnapshots.taken[${k}].file`)));
  return diffHeapSnapshots(snapshots, {
    minAddedBytes: Thresholds.LEAK_SUSPECT_MIN_BYTES,
    ...(opts.sourceMaps === undefined ? {} : { sourceMaps: opts.sourceMaps }),
    ...(opts.appRoot === undefined ? {} : { appRoot: opts.appRoot }),
  });
}

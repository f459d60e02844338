import { ErrorCodes, RedlineError } from '@redline/core';
import type { ScenarioDefinition } from './scenario.js';

/** Command-line flags that change a scenario file's load (k6: flags override the script). */
export interface LoadFlags {
  /** `--rate`: replaces the load model with a constant arrival rate. */
  rate?: string | number;
  /** `--vus`: replaces the load model with constant VUs. */
  vus?: number;
  /** `--duration`: the length of a duration-based load model. */
  duration?: string;
  /** `--profile`: a named profile from the rate or VUs (the flag's or the file's). */
  profile?: string;
  /** `--max-vus`: the VU cap of an open (arrival-rate) model. */
  maxVUs?: number;
  /** `--header`: merged over the file's `headers` (the flag wins for the same name). */
  headers?: Record<string, string>;
  /** `--threshold`: added to the file's thresholds. */
  thresholds?: Record<string, string[]>;
}

/** Fields that make up a load model; a `--rate`/`--vus`/`--profile` flag replaces all of them. */
export const LOAD_MODEL_FIELDS = [
  'executor',
  'vus',
  'duration',
  'iterations',
  'maxDuration',
  'rate',
  'timeUnit',
  'preAllocatedVUs',
  'maxVUs',
  'stages',
  'startVUs',
  'startRate',
  'profile',
] as const;

function usage(message: string): RedlineError {
  return new RedlineError(ErrorCodes.USAGE, message);
}

function isOpenModel(def: ScenarioDefinition): boolean {
  return def.executor !== undefined ? def.executor.endsWith('arrival-rate') : def.rate !== undefined || def.startRate !== undefined;
}

/**
 * Applies command-line flags to a scenario definition loaded from `source`, in k6's order of
 * precedence (flags over the file). `--header` and `--threshold` add to every scenario. `--rate`,
 * `--vus` or `--profile` replace the load model of a single-scenario file (the workload — requests
 * or `exec`, data, thresholds — is kept); `--duration` alone sets the length of a duration-based
 * model; `--max-vus` alone sets the cap of an open model. A flag that cannot apply (a file with a
 * `scenarios` block, `--duration` on a staged model) is a REDLINE_ERR_USAGE error, never ignored.
 * Returns a new definition; `def` is not changed.
 */
export function applyLoadFlags(def: ScenarioDefinition, flags: LoadFlags, source: string): ScenarioDefinition {
  const out: ScenarioDefinition = { ...def };
  if (flags.headers && Object.keys(flags.headers).length > 0) {
    const merged: Record<string, string> = {};
    const given = new Set(Object.keys(flags.headers).map((h) => h.toLowerCase()));
    for (const [k, v] of Object.entries(def.headers ?? {})) if (!given.has(k.toLowerCase())) merged[k] = v;
    out.headers = { ...merged, ...flags.headers };
  }
  if (flags.thresholds) {
    const t = { ...(def.thresholds ?? {}) };
    for (const [metric, list] of Object.entries(flags.thresholds)) t[metric] = [...(t[metric] ?? []), ...list];
    out.thresholds = t;
  }
  const loadFlags = (['rate', 'vus', 'duration', 'profile', 'maxVUs'] as const).filter((k) => flags[k] !== undefined);
  if (loadFlags.length === 0) return out;
  const flagName = (k: (typeof loadFlags)[number]): string => (k === 'maxVUs' ? '--max-vus' : `--${k}`);
  const named = loadFlags.map(flagName).join(', ');
  if (def.scenarios) {
    throw usage(`${named} cannot be applied to ${source}: it defines several scenarios under "scenarios"; change their load in the file`);
  }
  if (flags.rate !== undefined && flags.vus !== undefined) throw usage('give either --rate (open model) or --vus (closed model), not both');

  if (flags.rate !== undefined || flags.vus !== undefined || flags.profile !== undefined) {
    // Replace the load model; the base level comes from the flags, else from the file.
    const rate = flags.rate ?? (flags.vus === undefined ? def.rate : undefined);
    const vus = flags.vus ?? (rate === undefined ? def.vus : undefined);
    if (rate === undefined && vus === undefined) throw usage(`--profile needs a base level: give --rate or --vus (${source} has neither "rate" nor "vus")`);
    for (const k of LOAD_MODEL_FIELDS) delete out[k];
    out.duration = flags.duration ?? def.duration ?? '10s';
    if (rate !== undefined) {
      out.rate = rate;
      if (def.timeUnit !== undefined && flags.rate === undefined) out.timeUnit = def.timeUnit;
      const maxVUs = flags.maxVUs ?? (flags.rate === undefined ? def.maxVUs : undefined);
      if (maxVUs !== undefined) out.maxVUs = maxVUs;
    } else {
      if (flags.maxVUs !== undefined) throw usage('--max-vus applies to the open model (--rate); with --vus the VU count is fixed');
      out.vus = vus!;
    }
    if (flags.profile !== undefined) out.profile = flags.profile as ScenarioDefinition['profile'];
    return out;
  }

  if (flags.duration !== undefined) {
    if (def.stages !== undefined) {
      throw usage(`--duration cannot be applied to ${source}: its length comes from its "stages"; give --rate or --vus with --duration to replace the load model`);
    }
    if (def.duration === undefined && (def.iterations !== undefined || def.executor === 'per-vu-iterations' || def.executor === 'shared-iterations')) {
      throw usage(`--duration cannot be applied to ${source}: it runs a number of iterations, not for a time; give --rate or --vus with --duration to replace the load model`);
    }
    out.duration = flags.duration;
  }
  if (flags.maxVUs !== undefined) {
    if (!isOpenModel(def)) throw usage(`--max-vus cannot be applied to ${source}: it is a closed model (VUs), and --max-vus caps an open (arrival-rate) model`);
    out.maxVUs = flags.maxVUs;
  }
  return out;
}

import { z } from 'zod';
import {
  ErrorCodes,
  RedlineError,
  checkTimerMs,
  parseDuration,
  parseRate,
  parseSize,
  type ResolvedRunConfig,
  type ResolvedScenarioConfig,
  type ResolvedStage,
} from '@redline/core';
import { EXECUTOR_NAMES, type ExecutorName } from './executors/names.js';
import { expandProfile, PROFILE_NAMES } from './profiles.js';
import { assertScenarioHeaders } from './scenario-headers.js';
import type { RequestSpec } from './request.js';
import type { SetupFn, TeardownFn } from './lifecycle.js';
import type { IterationContext } from './script-context.js';
import { defaultWorkerCount } from './worker-count.js';

/** A duration: `"30s"`, `"1m30s"`, `"500ms"`, or a number of seconds. */
export type Duration = string | number;

/** A ramp stage: reach `target` (VUs, or iterations per time unit) over `duration`. */
export interface Stage {
  duration: Duration;
  target: number;
}

/** One threshold: an expression string, or an object with abort options (k6 style). */
export type ThresholdInput = string | { threshold: string; abortOnFail?: boolean; delayAbortEval?: Duration };

/** A data file shared across VUs (and workers), loaded once. */
export interface DataSource {
  file: string;
  /** `sequential` hands rows out in order across all VUs (wrapping around); `random` picks uniformly. */
  order?: 'sequential' | 'random';
  /** Inferred from the extension (`.csv`, `.jsonl`/`.ndjson`, `.json`: an array of rows) when omitted. */
  format?: 'csv' | 'jsonl' | 'json';
  /**
   * With `--execution-segment`, each instance gets only its share of the rows (striped as the
   * iterations are), so every row is used by exactly one instance (default true). `false`: every
   * instance reads every row.
   */
  split?: boolean;
}

/** The iteration function of a scripted scenario. */
export type IterationFn = (ctx: IterationContext) => unknown;

/** One load model with its workload. Fields follow k6's executor options. */
export interface ScenarioSpec {
  executor?: ExecutorName;
  /** Closed models: concurrent virtual users. */
  vus?: number;
  duration?: Duration;
  /** `per-vu-iterations` (per VU) / `shared-iterations` (in total). */
  iterations?: number;
  maxDuration?: Duration;
  /** Open models: iterations per `timeUnit` (default 1s). Accepts `"2k/s"` style strings. */
  rate?: number | string;
  timeUnit?: Duration;
  preAllocatedVUs?: number;
  maxVUs?: number;
  /** Ramping models. */
  stages?: Stage[];
  startVUs?: number;
  startRate?: number;
  /** A named profile expanded from `vus` or `rate` and `duration`. */
  profile?: (typeof PROFILE_NAMES)[number];
  /** Offset from the start of the run. */
  startTime?: Duration;
  /** Time in-flight iterations get to finish once the scenario ends. */
  gracefulStop?: Duration;
  tags?: Record<string, string>;
  /** Static requests (fast path). Mixed round-robin, or by `weight` when any request has one. */
  requests?: RequestSpec[];
  /** Scripted iteration. */
  exec?: IterationFn;
  /**
   * Scripted requests: largest response body kept per request (bytes or `"10mb"`, default 10 MiB);
   * a larger body fails the request as `body_too_large`. Per-request `maxBodySize` overrides it.
   */
  maxBodySize?: number | string;
  /** Scripted requests: read response bodies off the wire but keep none (`text()` is `""`), like k6's `discardResponseBodies`. */
  discardResponseBodies?: boolean;
}

/** What a scenario module default-exports. Top-level ScenarioSpec fields define a single scenario. */
export interface ScenarioDefinition extends ScenarioSpec {
  name?: string;
  baseUrl?: string;
  /** Headers added to every request. */
  headers?: Record<string, string>;
  /** Request timeout, default 30s. */
  timeout?: Duration;
  /** Accept self-signed TLS certificates. */
  insecure?: boolean;
  /** TLS files (PEM), relative to the scenario file: trusted CA, client certificate and key (mTLS). */
  tls?: { ca?: string; cert?: string; key?: string };
  /**
   * HTTP version: `h1` (default) or `h2` (h2 over TLS via ALPN for https, h2c with prior knowledge
   * for http); `grpc` sends static requests as gRPC unary calls over HTTP/2 (what quick mode's
   * `--grpc` builds: path `/pkg.Service/Method`, body a length-prefixed message); `ws` sends each
   * static request's body as a message on the VU's WebSocket (URLs `ws://`/`wss://`, or http(s))
   * and times it until the server's next message (an echo or a reply).
   */
  protocol?: 'h1' | 'h2' | 'grpc' | 'ws';
  /** HTTP/2: connections per origin per worker thread (default 1). */
  connections?: number;
  /** HTTP/2: most concurrent streams per connection (default 100; the server's limit applies when lower). */
  maxStreams?: number;
  /** HTTP proxy (`http://[user:password@]host:port`) every HTTP/1.1 connection tunnels through with CONNECT. */
  proxy?: string;
  thresholds?: Record<string, ThresholdInput[]>;
  data?: Record<string, DataSource>;
  scenarios?: Record<string, ScenarioSpec>;
  tags?: Record<string, string>;
  /**
   * Runs once in the runner before any VU starts (k6's `setup()`); its return value, which must be
   * structured-cloneable, reaches every VU in every worker as `ctx.data` (a copy per VU). A throw,
   * a timeout or uncloneable data ends the run before any load (REDLINE_ERR_SETUP_FAILED).
   */
  setup?: SetupFn;
  /** Runs once in the runner after the run, also after an abort or Ctrl-C, with setup's data. A failure is a warning; the results stand. */
  teardown?: TeardownFn;
  /** Limit of `setup()` (default 60s). */
  setupTimeout?: Duration;
  /** Limit of `teardown()` (default 60s). */
  teardownTimeout?: Duration;
}

/** What a scenario factory receives: the script environment (k6's `__ENV`). */
export interface ScenarioInit {
  /**
   * The runner's environment variables overlaid with `-e KEY=VALUE` flags (those win), plus
   * `REDLINE_TARGET_URL`/`REDLINE_TARGET_PORT` with `--target`. Read-only.
   */
  env: Readonly<Record<string, string>>;
}

/** A scenario module's default export: a definition, or a function of the script environment that returns one. */
export type ScenarioExport = ScenarioDefinition | ((init: ScenarioInit) => ScenarioDefinition);

/**
 * Identity function that gives scenario files type checking and completion. Pass a definition, or a
 * function `({ env }) => definition` to shape the load from `-e KEY=VALUE` flags; the function is
 * called once in the runner and once in each worker thread with the same `env`, so it must not
 * have side effects.
 */
export function defineScenario<T extends ScenarioDefinition>(definition: T): T;
export function defineScenario<T extends ScenarioDefinition>(factory: (init: ScenarioInit) => T): (init: ScenarioInit) => T;
export function defineScenario<T extends ScenarioDefinition>(definition: T | ((init: ScenarioInit) => T)): T | ((init: ScenarioInit) => T) {
  return definition;
}

const durationSchema = z.union([z.string(), z.number().nonnegative()], { message: 'expected a duration such as "30s" or a number of seconds' });
const requestSchema = z.strictObject({
  method: z.string().regex(/^[A-Za-z]+$/, 'expected an HTTP method such as GET').optional(),
  url: z.string({ message: 'expected a URL string' }),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.unknown().optional(),
  name: z.string().optional(),
  weight: z.number().positive().optional(),
});
const positiveInt = z.number({ message: 'expected a positive integer' }).int('expected a positive integer').positive('expected a positive integer');
const nonNegInt = z.number({ message: 'expected a non-negative integer' }).int('expected a non-negative integer').nonnegative('expected a non-negative integer');
const stageSchema = z.strictObject({ duration: durationSchema, target: z.number({ message: 'expected a number' }).nonnegative() });
const scenarioFields = {
  executor: z.enum(EXECUTOR_NAMES, { message: `expected one of ${EXECUTOR_NAMES.join(', ')}` }).optional(),
  vus: positiveInt.optional(),
  duration: durationSchema.optional(),
  iterations: positiveInt.optional(),
  maxDuration: durationSchema.optional(),
  rate: z.union([z.number().positive('expected a positive rate'), z.string()], { message: 'expected a positive rate' }).optional(),
  timeUnit: durationSchema.optional(),
  preAllocatedVUs: nonNegInt.optional(),
  maxVUs: positiveInt.optional(),
  stages: z.array(stageSchema).min(1, 'expected at least one stage').optional(),
  startVUs: nonNegInt.optional(),
  startRate: z.number().nonnegative().optional(),
  profile: z.enum(PROFILE_NAMES, { message: `expected one of ${PROFILE_NAMES.join(', ')}` }).optional(),
  startTime: durationSchema.optional(),
  gracefulStop: durationSchema.optional(),
  tags: z.record(z.string(), z.string()).optional(),
  requests: z.array(requestSchema).min(1, 'expected at least one request').optional(),
  exec: z.custom<IterationFn>((v) => typeof v === 'function', 'expected a function (ctx) => ...').optional(),
  maxBodySize: z.union([z.number().int().positive('expected a positive number of bytes'), z.string()], { message: 'expected bytes or a size such as "10mb"' }).optional(),
  discardResponseBodies: z.boolean().optional(),
};
const thresholdSchema = z.union([
  z.string(),
  z.strictObject({ threshold: z.string(), abortOnFail: z.boolean().optional(), delayAbortEval: durationSchema.optional() }),
]);
const definitionSchema = z.strictObject({
  ...scenarioFields,
  name: z.string().min(1).optional(),
  baseUrl: z.string().optional(),
  headers: z.record(z.string(), z.string()).optional(),
  timeout: durationSchema.optional(),
  insecure: z.boolean().optional(),
  tls: z.strictObject({ ca: z.string().optional(), cert: z.string().optional(), key: z.string().optional() }).optional(),
  protocol: z.enum(['h1', 'h2', 'grpc', 'ws'], { message: 'expected "h1", "h2", "grpc" or "ws"' }).optional(),
  connections: positiveInt.optional(),
  maxStreams: positiveInt.optional(),
  proxy: z.string().min(1).optional(),
  thresholds: z.record(z.string(), z.array(thresholdSchema)).optional(),
  data: z
    .record(z.string(), z.strictObject({ file: z.string(), order: z.enum(['sequential', 'random']).optional(), format: z.enum(['csv', 'jsonl', 'json']).optional(), split: z.boolean().optional() }))
    .optional(),
  scenarios: z.record(z.string(), z.strictObject(scenarioFields)).optional(),
  setup: z.custom<SetupFn>((v) => typeof v === 'function', 'expected a function (ctx) => data').optional(),
  teardown: z.custom<TeardownFn>((v) => typeof v === 'function', 'expected a function (data, ctx) => ...').optional(),
  setupTimeout: durationSchema.optional(),
  teardownTimeout: durationSchema.optional(),
});

function invalid(source: string, path: PropertyKey[], message: string): RedlineError {
  const where = path.length ? path.map(String).join('.') : '(root)';
  return new RedlineError(ErrorCodes.INVALID_SCENARIO, `${source}: ${where}: ${message}`, { details: { source, path: path.map(String) } });
}

/** A validated run: the resolved config plus the live parts (iteration functions) by scenario. */
export interface LoadPlan {
  config: ResolvedRunConfig;
  definition: ScenarioDefinition;
  /** Scripted iteration by scenario name (absent for static scenarios). */
  exec: Map<string, IterationFn>;
  /** Static requests by scenario name (absent for scripted scenarios). */
  requests: Map<string, RequestSpec[]>;
  /** The script environment (`ctx.env`); not written to the result. */
  env: Readonly<Record<string, string>>;
}

/** Options that come from outside the scenario (CLI flags, API callers). */
export interface PlanOverrides {
  name?: string;
  source?: string | null;
  /** Worker threads; default cores − 1, at least 1 (see `defaultWorkerCount`). */
  workers?: number;
  /** Core count the default worker count is computed from (default `os.availableParallelism()`). */
  cores?: number;
  timeoutMs?: number;
  gracefulStopMs?: number;
  tags?: Record<string, string>;
  /** The script environment handed to iterations as `ctx.env`. */
  env?: Readonly<Record<string, string>>;
  /** Transport choices from the command line; each replaces the scenario's own field. */
  transport?: Pick<ScenarioDefinition, 'insecure' | 'tls' | 'protocol' | 'connections' | 'maxStreams' | 'proxy'>;
}

/**
 * The most iterations per second one engine thread is allowed to be asked for: about 5× the fast
 * path's measured peak on one core (103,000 req/s, BENCHMARKS.md). A higher rate cannot be held,
 * and only preallocates VUs (a million VUs is ~4.7 GB) before anything is sent.
 */
export const MAX_RATE_PER_ENGINE = 500_000;

const TOP_LEVEL_ONLY = new Set([
  'name',
  'baseUrl',
  'headers',
  'timeout',
  'insecure',
  'tls',
  'protocol',
  'connections',
  'maxStreams',
  'thresholds',
  'data',
  'proxy',
  'scenarios',
  'setup',
  'teardown',
  'setupTimeout',
  'teardownTimeout',
]);

/** An absolute request URL (ws:// and wss:// for `protocol: 'ws'`). */
const ABSOLUTE_URL = /^(https?|wss?):\/\//i;

/**
 * Validates a scenario definition and resolves it into a plan: defaults applied, profiles
 * expanded, durations in ms, rates per second. Throws REDLINE_ERR_INVALID_SCENARIO naming the
 * source, the field path and what was expected.
 */
export function resolvePlan(definition: unknown, source: string, overrides: PlanOverrides = {}): LoadPlan {
  const parsed = definitionSchema.safeParse(definition);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    let message = issue.message;
    if (issue.code === 'unrecognized_keys') message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    const err = invalid(source, issue.path, message);
    const last = issue.path.at(-1);
    // Unknown load models and profiles get their own codes: they are the typos users make most.
    if (last === 'executor') throw new RedlineError(ErrorCodes.UNKNOWN_EXECUTOR, err.message, { details: err.details ?? {} });
    if (last === 'profile') throw new RedlineError(ErrorCodes.UNKNOWN_PROFILE, err.message, { details: err.details ?? {} });
    throw err;
  }
  const def = applyTransportOverrides(definition as ScenarioDefinition, overrides.transport);
  assertScenarioHeaders(def, source);
  const specs: Array<[string, ScenarioSpec, PropertyKey[]]> = [];
  if (def.scenarios) {
    const stray = Object.keys(def).filter((k) => !TOP_LEVEL_ONLY.has(k) && k !== 'tags' && (def as Record<string, unknown>)[k] !== undefined);
    if (stray.length) throw invalid(source, [stray[0]!], 'load-model fields go inside each entry of "scenarios" when "scenarios" is used');
    for (const [name, spec] of Object.entries(def.scenarios)) specs.push([name, spec, ['scenarios', name]]);
    if (specs.length === 0) throw invalid(source, ['scenarios'], 'expected at least one scenario');
  } else {
    specs.push([def.name ?? 'default', def, []]);
  }
  const timeoutMs = overrides.timeoutMs ?? (def.timeout !== undefined ? durationAt(def.timeout, source, ['timeout']) : 30_000);
  if (!(timeoutMs > 0)) throw invalid(source, ['timeout'], 'expected a positive duration');
  checkTimerMs(timeoutMs, 'request timeout');
  const gracefulStopMs = checkTimerMs(overrides.gracefulStopMs ?? 5000, 'graceful stop');
  for (const field of ['setupTimeout', 'teardownTimeout'] as const) {
    if (def[field] !== undefined && !(durationAt(def[field], source, [field]) > 0)) throw invalid(source, [field], 'expected a positive duration');
  }
  const workers = overrides.workers ?? defaultWorkerCount(overrides.cores);
  const exec = new Map<string, IterationFn>();
  const requests = new Map<string, RequestSpec[]>();
  const scenarios: ResolvedScenarioConfig[] = specs.map(([name, spec, path]) => {
    const resolved = resolveScenario(name, spec, path, source);
    if (spec.exec && spec.requests) throw invalid(source, [...path, 'exec'], 'give either "exec" (scripted) or "requests" (static), not both');
    if (!spec.exec && !spec.requests) throw invalid(source, path.length ? path : ['requests'], 'expected "requests" (static requests) or "exec" (an iteration function)');
    if (spec.exec) exec.set(name, spec.exec);
    else {
      if (!def.baseUrl && spec.requests!.some((r) => !ABSOLUTE_URL.test(r.url))) {
        const i = spec.requests!.findIndex((r) => !ABSOLUTE_URL.test(r.url));
        throw invalid(source, [...path, 'requests', i, 'url'], `relative URL "${spec.requests![i]!.url}" needs "baseUrl"`);
      }
      const wsAt = def.protocol === 'ws' ? -1 : spec.requests!.findIndex((r) => /^wss?:\/\//i.test(r.url));
      if (wsAt >= 0) {
        const where = invalid(source, [...path, 'requests', wsAt, 'url'], `WebSocket URL "${spec.requests![wsAt]!.url}" needs protocol: 'ws' (each request a message) or ctx.ws in a script`);
        throw new RedlineError(ErrorCodes.BAD_URL, where.message, { details: where.details ?? {} });
      }
      requests.set(name, spec.requests!.map((r) => ({ ...r, headers: { ...(def.headers ?? {}), ...(r.headers ?? {}) } })));
    }
    checkRunLength(resolved, source, path);
    checkRate(resolved, Math.max(1, workers), source, path);
    return resolved;
  });
  const thresholds: Record<string, string[]> = {};
  for (const [metric, list] of Object.entries(def.thresholds ?? {})) thresholds[metric] = list.map((t) => (typeof t === 'string' ? t : t.threshold));
  return {
    config: {
      name: overrides.name ?? def.name ?? (specs.length === 1 ? specs[0]![0] : 'run'),
      source: overrides.source ?? null,
      scenarios,
      thresholds,
      workers,
      timeoutMs,
      gracefulStopMs,
      tags: { ...(def.tags ?? {}), ...(overrides.tags ?? {}) },
    },
    definition: def,
    exec,
    requests,
    env: overrides.env ?? {},
  };
}

/** The definition with command-line transport choices applied (a new object; the input is not changed). */
function applyTransportOverrides(def: ScenarioDefinition, t: PlanOverrides['transport']): ScenarioDefinition {
  if (!t) return def;
  const out: ScenarioDefinition = { ...def };
  if (t.insecure !== undefined) out.insecure = t.insecure;
  if (t.tls !== undefined) out.tls = { ...(def.tls ?? {}), ...t.tls };
  if (t.protocol !== undefined) out.protocol = t.protocol;
  if (t.connections !== undefined) out.connections = t.connections;
  if (t.maxStreams !== undefined) out.maxStreams = t.maxStreams;
  if (t.proxy !== undefined) out.proxy = t.proxy;
  return out;
}

function durationAt(value: Duration, source: string, path: PropertyKey[]): number {
  try {
    return checkTimerMs(parseDuration(value));
  } catch (err) {
    throw invalid(source, path, (err as Error).message);
  }
}

/** Every scenario's end (start offset + length + graceful stop) must fit in one Node.js timer. */
function checkRunLength(s: ResolvedScenarioConfig, source: string, path: PropertyKey[]): void {
  const grace = (s.options as { gracefulStopMs?: number }).gracefulStopMs ?? 0;
  try {
    checkTimerMs(scenarioEndMs(s) + grace, 'the scenario (start time + length + graceful stop)');
  } catch (err) {
    const field = (s.options as { stages?: unknown }).stages !== undefined ? 'stages' : 'duration';
    throw new RedlineError(ErrorCodes.BAD_DURATION, invalid(source, [...path, field], (err as Error).message).message);
  }
}

/** Rejects an open-model rate no generator of `engines` threads can hold, before any VU is allocated. */
function checkRate(s: ResolvedScenarioConfig, engines: number, source: string, path: PropertyKey[]): void {
  const o = s.options as { rate?: number; startRate?: number; timeUnitMs?: number; stages?: ResolvedStage[] };
  if (o.timeUnitMs === undefined) return;
  const peak = (Math.max(o.rate ?? 0, o.startRate ?? 0, ...(o.stages ?? []).map((st) => st.target)) * 1000) / o.timeUnitMs;
  const ceiling = MAX_RATE_PER_ENGINE * engines;
  if (peak > ceiling) {
    const n = (v: number): string => Math.round(v).toLocaleString('en-US');
    throw new RedlineError(
      ErrorCodes.BAD_RATE,
      invalid(
        source,
        [...path, 'rate'],
        `${n(peak)} iterations/s cannot be generated: the ceiling is ${n(MAX_RATE_PER_ENGINE)}/s per engine thread × ${engines} (one thread peaks near 100,000 req/s); lower the rate or add --workers`,
      ).message,
    );
  }
}

function rateAt(value: number | string, source: string, path: PropertyKey[]): number {
  try {
    return parseRate(value);
  } catch (err) {
    throw invalid(source, path, (err as Error).message);
  }
}

function require<T>(value: T | undefined, source: string, path: PropertyKey[], what: string): T {
  if (value === undefined) throw invalid(source, path, `required by this executor: ${what}`);
  return value;
}

function resolveScenario(name: string, spec: ScenarioSpec, path: PropertyKey[], source: string): ResolvedScenarioConfig {
  const at = (field: string): PropertyKey[] => [...path, field];
  let executor: ExecutorName | undefined = spec.executor;
  if (spec.profile) {
    const durationMs = durationAt(require(spec.duration, source, at('duration'), 'duration'), source, at('duration'));
    if (spec.rate !== undefined) {
      const timeUnitMs = spec.timeUnit !== undefined ? durationAt(spec.timeUnit, source, at('timeUnit')) : 1000;
      const base = rateAt(spec.rate, source, at('rate'));
      const { startTarget, stages } = expandProfile(spec.profile, base, durationMs, false);
      const peak = Math.max(startTarget, ...stages.map((s) => s.target));
      return finish('ramping-arrival-rate', {
        startRate: startTarget,
        timeUnitMs,
        stages,
        preAllocatedVUs: spec.preAllocatedVUs ?? Math.min(spec.maxVUs ?? Infinity, Math.max(1, Math.ceil(peak / 10))),
        maxVUs: spec.maxVUs ?? Math.max(100, Math.ceil(peak * 2)),
        profile: spec.profile,
      });
    }
    const base = require(spec.vus, source, at('vus'), 'vus or rate (the base level of the profile)');
    const { startTarget, stages } = expandProfile(spec.profile, base, durationMs, true);
    return finish('ramping-vus', { startVUs: startTarget, stages, profile: spec.profile });
  }
  executor ??= spec.stages ? (spec.rate !== undefined || spec.startRate !== undefined ? 'ramping-arrival-rate' : 'ramping-vus') : spec.rate !== undefined ? 'constant-arrival-rate' : spec.iterations !== undefined ? 'shared-iterations' : 'constant-vus';
  const stages = (): ResolvedStage[] =>
    require(spec.stages, source, at('stages'), 'stages').map((s, i) => ({ durationMs: durationAt(s.duration, source, [...path, 'stages', i, 'duration']), target: s.target }));
  const duration = (): number => durationAt(require(spec.duration, source, at('duration'), 'duration'), source, at('duration'));
  const maxDuration = (): number => (spec.maxDuration !== undefined ? durationAt(spec.maxDuration, source, at('maxDuration')) : 600_000);
  const timeUnitMs = spec.timeUnit !== undefined ? durationAt(spec.timeUnit, source, at('timeUnit')) : 1000;
  if (!(timeUnitMs > 0)) throw invalid(source, at('timeUnit'), 'expected a positive duration');
  switch (executor) {
    case 'constant-vus':
      return finish(executor, { vus: spec.vus ?? 1, durationMs: duration() });
    case 'ramping-vus':
      return finish(executor, { startVUs: spec.startVUs ?? 1, stages: stages() });
    case 'per-vu-iterations':
      return finish(executor, { vus: spec.vus ?? 1, iterations: spec.iterations ?? 1, maxDurationMs: maxDuration() });
    case 'shared-iterations': {
      const vus = spec.vus ?? 1;
      const iterations = spec.iterations ?? 1;
      if (iterations < vus) throw invalid(source, at('iterations'), `must be at least vus (${vus})`);
      return finish(executor, { vus, iterations, maxDurationMs: maxDuration() });
    }
    case 'constant-arrival-rate': {
      const rate = rateAt(require(spec.rate, source, at('rate'), 'rate'), source, at('rate'));
      // Preallocation is an internal default: it never exceeds the cap the user set.
      const pre = spec.preAllocatedVUs ?? Math.min(spec.maxVUs ?? Infinity, Math.max(1, Math.ceil((rate * 1000) / timeUnitMs / 10)));
      const maxVUs = spec.maxVUs ?? Math.max(pre, 100, Math.ceil(((rate * 1000) / timeUnitMs) * 2));
      if (maxVUs < pre) throw invalid(source, at('maxVUs'), `must be at least preAllocatedVUs (${pre})`);
      return finish(executor, { rate, timeUnitMs, durationMs: duration(), preAllocatedVUs: pre, maxVUs });
    }
    case 'ramping-arrival-rate': {
      const st = stages();
      const startRate = spec.startRate ?? (spec.rate !== undefined ? rateAt(spec.rate, source, at('rate')) : 0);
      const peakPerSec = (Math.max(startRate, ...st.map((s) => s.target)) * 1000) / timeUnitMs;
      const pre = spec.preAllocatedVUs ?? Math.min(spec.maxVUs ?? Infinity, Math.max(1, Math.ceil(peakPerSec / 10)));
      const maxVUs = spec.maxVUs ?? Math.max(pre, 100, Math.ceil(peakPerSec * 2));
      if (maxVUs < pre) throw invalid(source, at('maxVUs'), `must be at least preAllocatedVUs (${pre})`);
      return finish(executor, { startRate, timeUnitMs, stages: st, preAllocatedVUs: pre, maxVUs });
    }
    default:
      throw new RedlineError(ErrorCodes.UNKNOWN_EXECUTOR, `${source}: ${[...path, 'executor'].join('.')}: unknown executor "${String(executor)}": expected one of ${EXECUTOR_NAMES.join(', ')}`);
  }

  function finish(exe: ExecutorName, options: Record<string, unknown>): ResolvedScenarioConfig {
    Object.assign(options, bodyOptions(spec, source, path));
    return {
      name,
      executor: exe,
      startMs: spec.startTime !== undefined ? durationAt(spec.startTime, source, at('startTime')) : 0,
      tags: { ...(spec.tags ?? {}) },
      options: spec.gracefulStop !== undefined ? { ...options, gracefulStopMs: durationAt(spec.gracefulStop, source, at('gracefulStop')) } : options,
      mode: spec.exec ? 'script' : 'static',
    };
  }
}

/** Resolved body options of a scripted scenario (only the ones given, so static configs stay as they were). */
function bodyOptions(spec: ScenarioSpec, source: string, path: PropertyKey[]): { maxBodyBytes?: number; discardResponseBodies?: boolean } {
  const out: { maxBodyBytes?: number; discardResponseBodies?: boolean } = {};
  if (spec.maxBodySize !== undefined) {
    try {
      out.maxBodyBytes = parseSize(spec.maxBodySize, 'maxBodySize');
    } catch (err) {
      throw invalid(source, [...path, 'maxBodySize'], (err as Error).message);
    }
    if (!(out.maxBodyBytes > 0)) throw invalid(source, [...path, 'maxBodySize'], 'expected a positive size');
  }
  if (spec.discardResponseBodies !== undefined) out.discardResponseBodies = spec.discardResponseBodies;
  return out;
}

/** Planned end of a resolved scenario in ms from run start (excluding graceful stop). */
export function scenarioEndMs(s: ResolvedScenarioConfig): number {
  const o = s.options as { durationMs?: number; maxDurationMs?: number; stages?: ResolvedStage[] };
  const length = o.durationMs ?? (o.stages ? o.stages.reduce((a, st) => a + st.durationMs, 0) : (o.maxDurationMs ?? 0));
  return s.startMs + length;
}

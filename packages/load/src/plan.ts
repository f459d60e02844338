import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ErrorCodes, RedlineError, checkTimerMs, parseDuration, parseRate } from '@redline/core';
import { assertValidHeaders } from './header-validation.js';
import { applyLoadFlags, type LoadFlags } from './load-flags.js';
import { assertProfileName } from './profiles.js';
import { parseTargetUrl } from './request.js';
import { resolvePlan, type LoadPlan, type PlanOverrides, type ScenarioDefinition } from './scenario.js';
import { importScenarioModule, resolveScenarioExport } from './scenario-loader.js';

/** Quick-mode options, for the autocannon/wrk habit. */
export interface QuickOptions {
  url: string;
  /** Open model: requests per second (`"2k/s"` accepted). */
  rate?: string | number;
  /** Closed model: concurrent connections/VUs. */
  vus?: number;
  duration?: string | number;
  method?: string;
  headers?: Record<string, string>;
  /** Request body, or `@file` to read it from a file. */
  body?: string;
  timeout?: string | number;
  profile?: string;
  /** Open model only: VU/connection cap. */
  maxVUs?: number;
  thresholds?: Record<string, string[]>;
  /** Transport: TLS verification, PEM files (paths), HTTP version, HTTP/2 connections and streams. */
  transport?: PlanOverrides['transport'];
}

/** Builds a plan from quick-mode flags. Validates URL, rate, duration and profile up front. */
export async function quickPlan(q: QuickOptions, overrides: PlanOverrides = {}): Promise<LoadPlan> {
  // A ws:// or wss:// URL runs the WebSocket fast path: the body is the message, echoed or answered.
  const ws = /^wss?:\/\//i.test(q.url);
  const url = parseTargetUrl(ws ? q.url.replace(/^ws/i, 'http') : q.url);
  if (q.rate !== undefined && q.vus !== undefined) throw new RedlineError(ErrorCodes.USAGE, 'give either --rate (open model) or --vus (closed model), not both');
  const rate = q.rate !== undefined ? parseRate(q.rate) : undefined;
  const durationMs = checkTimerMs(parseDuration(q.duration ?? '10s'), '--duration');
  if (!(durationMs > 0)) throw new RedlineError(ErrorCodes.BAD_DURATION, `invalid duration "${String(q.duration)}": must be greater than zero`);
  if (q.timeout !== undefined) checkTimerMs(parseDuration(q.timeout), '--timeout');
  if (q.vus !== undefined && !(Number.isInteger(q.vus) && q.vus > 0)) throw new RedlineError(ErrorCodes.USAGE, `invalid --vus "${q.vus}": expected a positive integer`);
  if (q.profile !== undefined) assertProfileName(q.profile);
  let body: string | Buffer | undefined;
  if (q.body !== undefined) {
    if (q.body.startsWith('@')) {
      const file = resolve(q.body.slice(1));
      try {
        body = await readFile(file);
      } catch {
        throw new RedlineError(ErrorCodes.BAD_DATA_FILE, `cannot read body file ${q.body.slice(1)}`);
      }
    } else body = q.body;
  }
  assertValidHeaders(q.headers, 'invalid --header');
  const headers = { ...(q.headers ?? {}) };
  if (body !== undefined && q.body?.endsWith('.json') && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  const definition: ScenarioDefinition = {
    name: overrides.name ?? url.host,
    requests: [{ method: ws ? 'GET' : (q.method ?? (body !== undefined ? 'POST' : 'GET')), url: url.href, headers, body: body ?? null, ...(ws ? { name: `WS ${url.pathname}` } : {}) }],
    duration: durationMs / 1000,
    ...(q.timeout !== undefined ? { timeout: q.timeout } : {}),
    ...(q.thresholds ? { thresholds: q.thresholds } : {}),
    ...(q.transport ?? {}),
  };
  if (rate !== undefined) {
    definition.rate = rate;
    if (q.maxVUs !== undefined) definition.maxVUs = q.maxVUs;
  } else definition.vus = q.vus ?? 10;
  if (q.profile !== undefined) definition.profile = q.profile as ScenarioDefinition['profile'];
  if (ws) return resolvePlan({ ...definition, protocol: 'ws' }, 'command line', { ...overrides, transport: { ...(overrides.transport ?? {}), protocol: 'ws' }, source: null });
  return resolvePlan(definition, 'command line', { ...overrides, source: null });
}

/**
 * Loads, validates and resolves a scenario file (`.ts`, `.mts`, `.js`, `.mjs`). A factory export is
 * called with `overrides.env`; command-line `flags` are applied over the file (see `applyLoadFlags`).
 */
export async function planFromFile(file: string, overrides: PlanOverrides = {}, cwd = process.cwd(), flags: LoadFlags = {}): Promise<LoadPlan> {
  const abs = resolve(cwd, file);
  const exported = await importScenarioModule(file, cwd);
  const def = resolveScenarioExport(exported, overrides.env ?? {}, file);
  const withFlags = def !== null && typeof def === 'object' ? applyLoadFlags(withTargetBaseUrl(def as ScenarioDefinition, overrides.env), flags, file) : def;
  return resolvePlan(withFlags, file, { ...overrides, source: abs });
}

/** With `--target`, relative URLs resolve against the launched target when the scenario names no `baseUrl`. */
function withTargetBaseUrl(def: ScenarioDefinition, env: Readonly<Record<string, string>> | undefined): ScenarioDefinition {
  const target = env?.REDLINE_TARGET_URL;
  return def.baseUrl === undefined && target ? { ...def, baseUrl: target } : def;
}

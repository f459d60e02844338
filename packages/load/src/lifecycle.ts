import { ErrorCodes, RedlineError, parseDuration } from '@redline/core';
import { engineNow } from './engine-clock.js';
import type { Duration, ScenarioDefinition } from './scenario.js';
import { VuHttpClient, type HttpClient, type ScriptHost } from './script-context.js';
import { TransportSelector, type TransportConfig } from './transports/select.js';
import type { Connection } from './transports/transport.js';

/** What `setup()` and `teardown()` receive: an HTTP client whose requests are not part of the measured load. */
export interface LifecycleContext {
  http: HttpClient;
  /** The script environment, as `ctx.env` in iterations. */
  env: Readonly<Record<string, string>>;
  /** Waits; accepts ms or a duration string (`"1s"`). */
  sleep(duration: number | string): Promise<void>;
}

/** `setup(ctx)`: runs once in the runner before any VU starts; its return value is handed to every VU as `ctx.data`. */
export type SetupFn = (ctx: LifecycleContext) => unknown;
/** `teardown(data, ctx)`: runs once in the runner after the run (also after an abort or Ctrl-C) with setup's data. */
export type TeardownFn = (data: unknown, ctx: LifecycleContext) => unknown;

/** Default limit of `setup()` and `teardown()` each, as k6's `setupTimeout`/`teardownTimeout`. */
export const DEFAULT_LIFECYCLE_TIMEOUT_MS = 60_000;

/** Where the runner's `setup`/`teardown` calls get their transport and settings. */
export interface LifecycleOptions {
  transport: TransportConfig;
  env: Readonly<Record<string, string>>;
  /** Request timeout of the run (ms). */
  timeoutMs: number;
}

/** The setup/teardown timeouts of a definition in ms (validated by resolvePlan). */
export function lifecycleTimeouts(def: Pick<ScenarioDefinition, 'setupTimeout' | 'teardownTimeout'>): { setupMs: number; teardownMs: number } {
  const ms = (d: Duration | undefined): number => (d === undefined ? DEFAULT_LIFECYCLE_TIMEOUT_MS : parseDuration(d));
  return { setupMs: ms(def.setupTimeout), teardownMs: ms(def.teardownTimeout) };
}

/**
 * Runs `setup()` (when the definition has one) and returns its data, checked to be
 * structured-cloneable (it crosses into worker threads). Throws REDLINE_ERR_SETUP_FAILED when
 * setup throws, outlives `setupTimeout`, or returns data that cannot be cloned.
 */
export async function runSetup(def: ScenarioDefinition, opts: LifecycleOptions): Promise<unknown> {
  const setup = def.setup;
  if (!setup) return undefined;
  const { setupMs } = lifecycleTimeouts(def);
  let data: unknown;
  try {
    data = await callWithClient(def, opts, setupMs, 'setup', (ctx) => setup(ctx));
  } catch (err) {
    if (err instanceof LifecycleTimeout) {
      throw new RedlineError(ErrorCodes.SETUP_FAILED, `setup() did not finish within ${setupMs} ms (setupTimeout); no load was sent`, { details: { reason: 'timeout' } });
    }
    throw new RedlineError(ErrorCodes.SETUP_FAILED, `setup() failed: ${firstLine(err)}; no load was sent`, { cause: err, details: { reason: 'threw' } });
  }
  try {
    structuredClone(data);
  } catch (err) {
    throw new RedlineError(
      ErrorCodes.SETUP_FAILED,
      `setup() returned data that cannot be handed to VUs: ${firstLine(err)}; return plain data (objects, arrays, strings, numbers, Maps, Dates), not functions, symbols or sockets; no load was sent`,
      { cause: err, details: { reason: 'not_cloneable' } },
    );
  }
  return data;
}

/**
 * Runs `teardown(data)` when the definition has one. Never throws: a failure (or timeout) is
 * returned as a message for the result's warnings, because the run's measurements stand.
 */
export async function runTeardown(def: ScenarioDefinition, data: unknown, opts: LifecycleOptions): Promise<string | null> {
  const teardown = def.teardown;
  if (!teardown) return null;
  const { teardownMs } = lifecycleTimeouts(def);
  try {
    await callWithClient(def, opts, teardownMs, 'teardown', (ctx) => teardown(data, ctx));
    return null;
  } catch (err) {
    if (err instanceof LifecycleTimeout) return `teardown() did not finish within ${teardownMs} ms (teardownTimeout)`;
    return `teardown() failed: ${firstLine(err)}`;
  }
}

class LifecycleTimeout extends Error {}

/** Calls `fn` with a fresh HTTP client and closes every connection afterwards; rejects with LifecycleTimeout after `limitMs`. */
async function callWithClient<T>(def: ScenarioDefinition, opts: LifecycleOptions, limitMs: number, what: string, fn: (ctx: LifecycleContext) => T): Promise<Awaited<T>> {
  const transports = new TransportSelector(opts.transport);
  const connections = new Set<Connection>();
  const sleeps = new Set<NodeJS.Timeout>();
  const host: ScriptHost = {
    transportFor: (origin) => transports.for(origin),
    baseUrl: def.baseUrl,
    defaultHeaders: def.headers ?? {},
    insecure: opts.transport.insecure,
    originOptions: { insecure: opts.transport.insecure, tls: opts.transport.tls, version: opts.transport.version },
    track: (c) => connections.add(c),
    untrack: (c) => connections.delete(c),
    onExchangeStart: () => undefined,
    onExchange: () => undefined,
    onCheck: () => undefined,
    feeds: new Map(),
    sleep: (ms) =>
      new Promise((resolve) => {
        const t = setTimeout(() => {
          sleeps.delete(t);
          resolve();
        }, Math.max(0, ms));
        sleeps.add(t);
      }),
  };
  const http = new VuHttpClient(host);
  const ctx: LifecycleContext = { http, env: opts.env, sleep: (d) => host.sleep(typeof d === 'number' ? d : parseDuration(d)) };
  // The engine's timeout sweep does not run here, so requests of setup/teardown get their own.
  const sweep = setInterval(() => {
    const now = engineNow();
    for (const c of connections) if (c.busy && now - c.startedAt > opts.timeoutMs) c.abort('timeout', `no response within ${opts.timeoutMs} ms`);
  }, Math.max(5, Math.min(100, opts.timeoutMs / 4)));
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      (async () => fn(ctx))(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new LifecycleTimeout(`${what} timed out`)), limitMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    clearInterval(sweep);
    for (const t of sleeps) clearTimeout(t);
    http.close();
    transports.close();
  }
}

function firstLine(err: unknown): string {
  const msg = (err as Error)?.message ?? String(err);
  return msg.split('\n')[0] ?? msg;
}

import diagnosticsChannel from 'node:diagnostics_channel';
import Module from 'node:module';
import type { PoolInfoMessage, PoolLeakChannelMessage, StatsChannelMessage } from './protocol.cjs';

/** Channels whose messages the probe forwards to the runner. */
export const FORWARDED_STATS_CHANNELS = ['redline:pool:stats', 'redline:flow:stats'] as const;
const LEAK_CHANNEL = 'redline:pool:leak';
/** Most distinct stats names forwarded per channel (a process that creates pools in a loop stays bounded). */
const MAX_NAMES = 32;
/** Most leak events forwarded per process. */
const MAX_LEAKS = 200;

type Send = (message: StatsChannelMessage | PoolLeakChannelMessage | PoolInfoMessage) => void;
type PoolLib = typeof import('@redline/pool');
type AnyFn = (this: unknown, ...args: unknown[]) => unknown;

/** Options of {@link startPoolForwarding}. */
export interface PoolForwardingOptions {
  /** Watch the pg (pg-pool) and tarn pools the target creates, without code changes. */
  autoWatch: boolean;
  /** Leak threshold for auto-watched pools, ms (0: off). */
  leakMs: number;
}

/**
 * Forwards `redline:pool:stats`, `redline:flow:stats` and `redline:pool:leak` messages published in
 * this thread to the runner, and with `autoWatch` hooks `require` so every `pg-pool` / `tarn` pool the
 * target creates is watched on first use. Returns the function that stops forwarding (the require hook
 * stays: unpatching a shared prototype under a running service is riskier than leaving it).
 */
export function startPoolForwarding(send: Send, opts: PoolForwardingOptions): () => void {
  const names = new Map<string, Set<string>>();
  let leaks = 0;
  const unsubscribes: Array<() => void> = [];
  for (const channel of FORWARDED_STATS_CHANNELS) {
    const seen = new Set<string>();
    names.set(channel, seen);
    const onMessage = (raw: unknown): void => {
      try {
        const m = raw as StatsChannelMessage['message'];
        if (typeof m?.name !== 'string' || typeof m.at !== 'number' || typeof m.values !== 'object' || m.values === null) return;
        if (!seen.has(m.name)) {
          if (seen.size >= MAX_NAMES) return;
          seen.add(m.name);
        }
        send({ type: 'stats', channel, message: { name: m.name, at: m.at, values: m.values, ...(m.meta ? { meta: m.meta } : {}), ...(typeof m.intervalMs === 'number' ? { intervalMs: m.intervalMs } : {}) } });
      } catch {
        // never throw into the publisher
      }
    };
    diagnosticsChannel.subscribe(channel, onMessage);
    unsubscribes.push(() => diagnosticsChannel.unsubscribe(channel, onMessage));
  }
  const onLeak = (raw: unknown): void => {
    try {
      if (leaks >= MAX_LEAKS) return;
      leaks += 1;
      const m = raw as PoolLeakChannelMessage['message'];
      send({ type: 'pool-leak', message: { name: m.name, at: m.at, phase: m.phase, id: m.id, acquiredAt: m.acquiredAt, heldMs: m.heldMs, stack: String(m.stack).slice(0, 8192), ...(m.meta ? { meta: m.meta } : {}) } });
    } catch {
      // never throw into the publisher
    }
  };
  diagnosticsChannel.subscribe(LEAK_CHANNEL, onLeak);
  unsubscribes.push(() => diagnosticsChannel.unsubscribe(LEAK_CHANNEL, onLeak));
  if (opts.autoWatch) installAutoWatch(send, opts.leakMs);
  return () => {
    for (const u of unsubscribes) u();
  };
}

let installed = false;

/**
 * Hooks `Module.prototype.require` (as require-in-the-middle does for OpenTelemetry) to patch the pool
 * class of `pg-pool` and `tarn` when the target loads them. pg loads pg-pool with `require` even when
 * the service imports pg as ESM, so ESM services are covered too. The patched method watches each
 * pool the first time it is used, then steps aside.
 */
function installAutoWatch(send: Send, leakMs: number): void {
  if (installed) return;
  installed = true;
  let lib: PoolLib | undefined;
  import('@redline/pool').then(
    (m) => {
      lib = m;
    },
    () => undefined,
  );
  const watched = new WeakSet<object>();
  const patchedClasses = new WeakSet<object>();
  const patch = (cls: unknown, method: string, onWatched?: (pool: object, name: string) => void): void => {
    const proto = (cls as { prototype?: Record<string, unknown> } | undefined)?.prototype;
    if (!proto || patchedClasses.has(proto) || typeof proto[method] !== 'function') return;
    patchedClasses.add(proto);
    const original = proto[method] as AnyFn;
    const patched: AnyFn = function (this: unknown, ...args: unknown[]): unknown {
      const self = this as Record<string, unknown>;
      if (lib !== undefined && typeof this === 'object' && this !== null && !watched.has(this)) {
        watched.add(this);
        try {
          const watch = lib.watchPool(this, leakMs > 0 ? { leakMs } : {});
          onWatched?.(this, watch.name);
          // watchPool may have put a wrapper on the instance (pg): go through it for this call too.
          if (self[method] !== patched) return (self[method] as AnyFn).apply(this, args);
        } catch {
          // not a pool watchPool understands: leave it alone
        }
      }
      return original.apply(this, args);
    };
    proto[method] = patched;
  };
  const mod = Module as unknown as { prototype: { require: AnyFn } };
  const originalRequire = mod.prototype.require;
  mod.prototype.require = function (this: unknown, ...args: unknown[]): unknown {
    const exported = originalRequire.apply(this, args);
    try {
      const id = args[0];
      if (id === 'pg-pool') patch(exported, 'connect', (pool, name) => readPgServerLimit(pool, name, send));
      else if (id === 'tarn') patch((exported as { Pool?: unknown } | undefined)?.Pool, 'acquire');
    } catch {
      // never break the target's require
    }
    return exported;
  };
}

/**
 * Reads the server's connection limit once per pg pool, over a separate short-lived client built
 * from the pool's own options (so it neither waits for nor occupies one of the pool's clients).
 */
function readPgServerLimit(pool: object, name: string, send: Send): void {
  const p = pool as { Client?: new (options: unknown) => PgClient; options?: unknown };
  if (typeof p.Client !== 'function') return;
  let client: PgClient | undefined;
  const timer = setTimeout(() => client?.end().catch(() => undefined), 5000);
  timer.unref();
  void (async () => {
    try {
      client = new (p.Client as new (options: unknown) => PgClient)(p.options);
      await client.connect();
      const r = await client.query("SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int AS n");
      const n = Number(r.rows[0]?.n);
      send(Number.isFinite(n) ? { type: 'pool-info', name, serverMaxConnections: n } : { type: 'pool-info', name, error: 'no max_connections in the answer' });
    } catch (err) {
      send({ type: 'pool-info', name, error: err instanceof Error ? err.message : String(err) });
    } finally {
      clearTimeout(timer);
      await client?.end().catch(() => undefined);
    }
  })();
}

interface PgClient {
  connect(): Promise<unknown>;
  query(text: string): Promise<{ rows: Array<Record<string, unknown>> }>;
  end(): Promise<unknown>;
}

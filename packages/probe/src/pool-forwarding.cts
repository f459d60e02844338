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
  /** Watch the pg (pg-pool), mysql2, tarn (knex) and generic-pool pools the target creates, without code changes. */
  autoWatch: boolean;
  /** Leak threshold for auto-watched pools, ms (0: off). */
  leakMs: number;
}

/**
 * Forwards `redline:pool:stats`, `redline:flow:stats` and `redline:pool:leak` messages published in
 * this thread to the runner, and with `autoWatch` hooks `require` so every pg, mysql2, tarn (knex) and
 * generic-pool pool the target creates is watched on first use. Returns the function that stops forwarding (the require hook
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

type Patch = (cls: unknown, method: string, onWatched?: (pool: object, name: string) => void) => void;

/** What a required module is, from its id and its export (ids are checked first: cheap, and most requires are no pool). */
type Recognizer = (id: string, exported: unknown, patch: Patch, ctx: { send: Send; stash: Map<string, unknown> }) => void;

const protoOf = (cls: unknown): Record<string, unknown> | undefined => (typeof cls === 'function' ? ((cls as { prototype?: Record<string, unknown> }).prototype ?? undefined) : undefined);
const hasMethods = (proto: Record<string, unknown> | undefined, names: readonly string[]): boolean => proto !== undefined && names.every((n) => typeof proto[n] === 'function');
/** Ids that may name a pool module: `pg-pool`, `tarn`, `./Pool`, `./lib/Pool`, `./base/pool.js`, `./lib/pool.js`. */
const POOLISH = /(?:^|[/\\])(?:pg-pool|tarn|pool)(?:\.c?js)?$/i;

const recognizers: readonly Recognizer[] = [
  // pg loads pg-pool with require even when the service imports pg as ESM.
  (id, exported, patch, { send }) => {
    if (id === 'pg-pool') patch(exported, 'connect', (pool, name) => readPgServerLimit(pool, name, send));
  },
  // tarn (knex's pool): the `Pool` export of the tarn package, or of tarn's own `./Pool` module.
  (_id, exported, patch) => {
    const cls = typeof exported === 'function' ? exported : (exported as { Pool?: unknown } | undefined)?.Pool;
    if (hasMethods(protoOf(cls), ['acquire', 'release', 'numUsed', 'numFree', 'numPendingAcquires'])) patch(cls, 'acquire');
  },
  // generic-pool 3: its index requires `./lib/Pool`.
  (_id, exported, patch) => {
    if (hasMethods(protoOf(exported), ['acquire', 'release', 'destroy', 'drain', 'use', 'clear'])) patch(exported, 'acquire');
  },
  // mysql2 pools: `lib/base/pool.js` (3.x) or `lib/pool.js` (older), both reached by relative requires
  // inside mysql2, so an ESM import of mysql2 (or mysql2/promise) is covered too.
  (_id, exported, patch, { send, stash }) => {
    if (hasMethods(protoOf(exported), ['getConnection', 'releaseConnection', 'query', 'execute', 'end'])) {
      patch(exported, 'getConnection', (pool, name) => readMysqlServerLimit(pool, name, send, stash.get('mysql2:createConnection')));
    }
  },
];

/**
 * Hooks `Module.prototype.require` (as require-in-the-middle does for OpenTelemetry) to patch the pool
 * classes of `pg-pool`, `tarn` (and so knex), `generic-pool` and mysql2 when the target loads them, and
 * knex's client so its pool is named after the database it connects to. The patched method watches
 * each pool the first time it is used, then steps aside.
 */
function installAutoWatch(send: Send, leakMs: number): void {
  if (installed) return;
  installed = true;
  let lib: PoolLib | undefined;
  // knex makes its pool when the service calls knex(), usually at start-up, before this import ends.
  const knexClients: Array<Record<string, unknown>> = [];
  import('@redline/pool').then(
    (m) => {
      lib = m;
      for (const client of knexClients.splice(0)) watchKnexPool(client);
    },
    () => undefined,
  );
  const opts = leakMs > 0 ? { leakMs } : {};
  const watched = new WeakSet<object>();
  const patchedProtos = new WeakSet<object>();
  const ours = new WeakSet<AnyFn>();
  const stash = new Map<string, unknown>();
  const patch: Patch = (cls, method, onWatched) => {
    const proto = protoOf(cls);
    if (!proto || patchedProtos.has(proto) || typeof proto[method] !== 'function') return;
    patchedProtos.add(proto);
    // A subclass (mysql2's Pool over BasePool) inherits the patch already made on its base.
    if (ours.has(proto[method] as AnyFn)) return;
    const original = proto[method] as AnyFn;
    const patched: AnyFn = function (this: unknown, ...args: unknown[]): unknown {
      if (lib !== undefined && typeof this === 'object' && this !== null && !watched.has(this)) {
        watched.add(this);
        const self = this as Record<string, unknown>;
        const before = self[method];
        try {
          const watch = lib.watchPool(this, opts);
          onWatched?.(this, watch.name);
          // watchPool may have put a wrapper on the instance (pg, mysql2, generic-pool): go through it
          // for this call too. Not when the wrapper was there before (this call may come from it).
          if (self[method] !== before) return (self[method] as AnyFn).apply(this, args);
        } catch {
          // not a pool watchPool understands: leave it alone
        }
      }
      return original.apply(this, args);
    };
    ours.add(patched);
    proto[method] = patched;
  };
  function watchKnexPool(client: Record<string, unknown>): void {
    if (lib === undefined) {
      if (knexClients.length < 32) knexClients.push(client);
      return;
    }
    if (typeof client.pool !== 'object' || client.pool === null || watched.has(client.pool)) return;
    try {
      // watchPool({ client }) reads the connection config beside the pool, for the pool's name.
      lib.watchPool({ client }, opts);
      watched.add(client.pool);
    } catch {
      // not a tarn pool (an old knex): the tarn patch still watches it, unnamed
    }
  }
  const mod = Module as unknown as { prototype: { require: AnyFn } };
  const originalRequire = mod.prototype.require;
  mod.prototype.require = function (this: unknown, ...args: unknown[]): unknown {
    const exported = originalRequire.apply(this, args);
    try {
      const id = args[0];
      if (typeof id !== 'string') return exported;
      if (POOLISH.test(id)) for (const r of recognizers) r(id, exported, patch, { send, stash });
      else if (/create_connection(?:\.js)?$/.test(id) && typeof exported === 'function') stash.set('mysql2:createConnection', exported);
      else if (/(?:^|[/\\])client(?:\.js)?$/.test(id)) patchKnexClient(exported, watchKnexPool, ours);
    } catch {
      // never break the target's require
    }
    return exported;
  };
}

/** knex's Client (`lib/client.js`): after `initializePool` its tarn pool sits at `client.pool`, its config at `client.config`. */
function patchKnexClient(exported: unknown, onPool: (client: Record<string, unknown>) => void, ours: WeakSet<AnyFn>): void {
  const proto = protoOf(exported);
  if (!hasMethods(proto, ['initializePool', 'acquireConnection', 'releaseConnection', 'getPoolSettings'])) return;
  const original = proto!.initializePool as AnyFn;
  if (ours.has(original)) return;
  const patched: AnyFn = function (this: unknown, ...args: unknown[]): unknown {
    const out = original.apply(this, args);
    try {
      if (typeof this === 'object' && this !== null) onPool(this as Record<string, unknown>);
    } catch {
      // never break knex
    }
    return out;
  };
  ours.add(patched);
  proto!.initializePool = patched;
}

/**
 * Reads a mysql2 pool's server connection limit once (`@@max_connections`), over a separate
 * short-lived connection made with mysql2's own `createConnection` and the pool's connection options.
 */
function readMysqlServerLimit(pool: object, name: string, send: Send, createConnection: unknown): void {
  if (typeof createConnection !== 'function') return;
  const conn = (pool as { config?: { connectionConfig?: Record<string, unknown> } }).config?.connectionConfig;
  if (conn === undefined) return;
  const options: Record<string, unknown> = {};
  for (const k of ['host', 'port', 'user', 'password', 'database', 'socketPath', 'ssl']) if (conn[k] !== undefined && conn[k] !== null) options[k] = conn[k];
  options.connectTimeout = 5000;
  try {
    const c = (createConnection as (o: unknown) => MysqlConnection)(options);
    c.on('error', () => undefined);
    c.query('SELECT @@max_connections AS n', (err, rows) => {
      const n = Number(rows?.[0]?.n);
      send(err ? { type: 'pool-info', name, error: err.message } : Number.isFinite(n) ? { type: 'pool-info', name, serverMaxConnections: n } : { type: 'pool-info', name, error: 'no max_connections in the answer' });
      c.destroy();
    });
  } catch (err) {
    send({ type: 'pool-info', name, error: err instanceof Error ? err.message : String(err) });
  }
}

interface MysqlConnection {
  on(event: 'error', fn: (err: Error) => void): void;
  query(sql: string, cb: (err: Error | null, rows?: Array<Record<string, unknown>>) => void): void;
  destroy(): void;
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

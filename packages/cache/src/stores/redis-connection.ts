import { createRequire } from 'node:module';
import type { Redis, RedisOptions } from 'ioredis';
import { ErrorCodes, RedlineError } from '@redline/core';

/** How to reach Redis: an ioredis options object, a `redis://` URL, or an existing client. */
export type RedisConnection = RedisOptions | string | Redis;

type IoredisModule = typeof import('ioredis');

/**
 * Loads ioredis, an optional peer dependency, the first time a Redis tier or bus is created: an
 * in-memory cache (and the `redline` CLI, which depends on this package) never needs it installed.
 * `from` is the file to resolve from (tests point it elsewhere); Node's module cache makes repeated
 * calls cheap. Throws `REDLINE_ERR_MISSING_DEPENDENCY` when ioredis is not installed.
 */
export function loadIoredis(from: string | URL = import.meta.url): IoredisModule {
  try {
    return createRequire(from)('ioredis') as IoredisModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new RedlineError(
      ErrorCodes.MISSING_DEPENDENCY,
      '@redline/cache: a Redis tier or bus needs the ioredis package, an optional peer dependency that is not installed: run npm i ioredis',
      { cause: err },
    );
  }
}

/** True for an existing ioredis client (checked by shape, so a client from another copy of ioredis counts). */
export function isRedisClient(connection: RedisConnection): connection is Redis {
  return typeof connection === 'object' && connection !== null && typeof (connection as Redis).status === 'string' && typeof (connection as Redis).sendCommand === 'function';
}

/**
 * Creates an ioredis client tuned for a cache tier: each command times out after `commandTimeoutMs`,
 * in-flight commands are not retried across reconnects (the breaker decides when to retry), and
 * reconnects back off up to 2 s. Returns the client and whether the caller owns (must close) it.
 */
export function connectRedis(connection: RedisConnection, commandTimeoutMs: number): { client: Redis; owned: boolean } {
  if (isRedisClient(connection)) return { client: connection, owned: false };
  const { Redis: RedisClient } = loadIoredis();
  const base: RedisOptions = {
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
  };
  const client = typeof connection === 'string' ? new RedisClient(connection, base) : new RedisClient({ ...base, ...connection });
  return { client, owned: true };
}

/**
 * Throws at once when a client that was connected before is now reconnecting, so L2 calls fail in
 * microseconds during an outage instead of waiting out the command timeout. Before the first
 * connection, commands are queued (bounded by the command timeout) so start-up is not an error.
 */
export function assertUsable(client: Redis, everReady: boolean): void {
  if (everReady && client.status !== 'ready') {
    throw new Error(`redis connection is ${client.status}`);
  }
}

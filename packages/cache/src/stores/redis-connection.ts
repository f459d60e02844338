import { Redis, type RedisOptions } from 'ioredis';

/** How to reach Redis: an ioredis options object, a `redis://` URL, or an existing client. */
export type RedisConnection = RedisOptions | string | Redis;

/**
 * Creates an ioredis client tuned for a cache tier: each command times out after `commandTimeoutMs`,
 * in-flight commands are not retried across reconnects (the breaker decides when to retry), and
 * reconnects back off up to 2 s. Returns the client and whether the caller owns (must close) it.
 */
export function connectRedis(connection: RedisConnection, commandTimeoutMs: number): { client: Redis; owned: boolean } {
  if (connection instanceof Redis) return { client: connection, owned: false };
  const base: RedisOptions = {
    commandTimeout: commandTimeoutMs,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: (attempt: number) => Math.min(50 * 2 ** Math.min(attempt, 6), 2000),
  };
  const client = typeof connection === 'string' ? new Redis(connection, base) : new Redis({ ...base, ...connection });
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

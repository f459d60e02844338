import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { ErrorCodes, RedlineError } from '@redline/core';

type IoredisModule = typeof import('ioredis');

/** Loads ioredis (an optional peer dependency) on the first coordinated run. */
function loadIoredis(): IoredisModule {
  try {
    return createRequire(import.meta.url)('ioredis') as IoredisModule;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    throw new RedlineError(ErrorCodes.MISSING_DEPENDENCY, 'a coordinated run (--coordinator) needs the ioredis package, an optional peer dependency that is not installed: run npm i ioredis', { cause: err });
  }
}

/** The URL without a password, for messages. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.href;
  } catch {
    return url;
  }
}

/**
 * Connects to the coordinator's Redis. A first connection that fails is REDLINE_ERR_COORDINATOR_UNREACHABLE
 * (exit 2) after `connectTimeoutMs`, with no retries: nothing has run yet, so the user should fix the
 * address. Once connected, the client reconnects in the background and commands fail at once while
 * it is down (no offline queue), so a lost Redis never stalls the load.
 */
export async function connectCoordinator(url: string, connectTimeoutMs = 3000): Promise<Redis> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new RedlineError(ErrorCodes.USAGE, `invalid --coordinator "${url}": expected redis://HOST:PORT`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') throw new RedlineError(ErrorCodes.USAGE, `invalid --coordinator "${redactRedisUrl(url)}": expected a redis:// or rediss:// URL`);
  const { Redis: RedisClient } = loadIoredis();
  let lastError = '';
  const client = new RedisClient(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 5000,
    retryStrategy: () => null,
  });
  client.on('error', (e: Error) => {
    lastError = e.message;
  });
  try {
    await client.connect();
  } catch (err) {
    client.disconnect();
    const why = lastError || (err as Error).message;
    throw new RedlineError(ErrorCodes.COORDINATOR_UNREACHABLE, `cannot reach the coordinator ${redactRedisUrl(url)}: ${why} (is redis-server running there?)`, { cause: err });
  }
  // From here on a lost connection is retried in the background (the run goes on without it).
  client.options.retryStrategy = (attempt: number) => Math.min(100 * attempt, 1000);
  return client;
}

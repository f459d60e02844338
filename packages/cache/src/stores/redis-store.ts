import type { Redis } from 'ioredis';
import { ErrorCodes, RedlineError } from '@redline/core';
import { assertUsable, connectRedis, type RedisConnection } from './redis-connection.js';
import type { L2Store, LeaseLock } from './store.js';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** ioredis options, a `redis://` URL or an existing ioredis client (not closed by the store). */
  connection: RedisConnection;
  /** Prefix of every key this store writes; `clear('')` only touches keys under it. Default `rl:`. */
  keyPrefix?: string;
  /** Per-command timeout in ms (> 0). Default 100. */
  commandTimeoutMs?: number;
  /** Receives connection-level errors (they are otherwise absorbed). */
  onError?: (err: Error) => void;
}

const SET_WITH_TAGS = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local ttl = tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], ARGV[3])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1`;

const DELETE_BY_TAGS = `
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    redis.call('UNLINK', unpack(members, j, math.min(j + 499, #members)))
  end
  redis.call('UNLINK', KEYS[i])
end
return 1`;

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;

/** An {@link L2Store} on Redis, plus the ioredis client it uses (for sharing with the bus). */
export interface RedisStore extends L2Store {
  readonly client: Redis;
}

/**
 * Creates an L2 store on Redis (ioredis). Values are plain strings with `PX` expiry; tags are Redis
 * sets whose expiry follows their longest-lived member; locks use `SET NX PX` and compare-and-delete
 * Lua scripts. Commands fail fast while the connection is down (see the cache's circuit breaker).
 * Uses `SCAN` for `clear`, so it supports a single Redis node (not Cluster).
 */
export function createRedisStore(options: RedisStoreOptions): RedisStore {
  const keyPrefix = options.keyPrefix ?? 'rl:';
  const commandTimeoutMs = options.commandTimeoutMs ?? 100;
  if (typeof keyPrefix !== 'string') {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `createRedisStore: keyPrefix must be a string, got ${typeof keyPrefix}`);
  }
  if (!(Number.isFinite(commandTimeoutMs) && commandTimeoutMs > 0)) {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, `createRedisStore: commandTimeoutMs must be a number > 0, got ${String(options.commandTimeoutMs)}`);
  }
  const { client, owned } = connectRedis(options.connection, commandTimeoutMs);
  let everReady = client.status === 'ready';
  client.on('ready', () => {
    everReady = true;
  });
  // Without a listener ioredis prints every connection error to stderr.
  client.on('error', (err: Error) => options.onError?.(err));

  const dataKey = (key: string): string => keyPrefix + key;
  const tagKey = (tag: string): string => `${keyPrefix}__tag:${tag}`;
  const lockKey = (key: string): string => `${keyPrefix}__lock:${key}`;
  const usable = (): void => assertUsable(client, everReady);

  const lock: LeaseLock = {
    async acquire(key, token, leaseMs) {
      usable();
      return (await client.set(lockKey(key), token, 'PX', Math.ceil(leaseMs), 'NX')) === 'OK';
    },
    async renew(key, token, leaseMs) {
      usable();
      return Number(await client.eval(RENEW, 1, lockKey(key), token, String(Math.ceil(leaseMs)))) === 1;
    },
    async release(key, token) {
      usable();
      return Number(await client.eval(RELEASE, 1, lockKey(key), token)) === 1;
    },
  };

  const unlinkMatching = async (pattern: string): Promise<void> => {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  };

  return {
    name: 'redis',
    client,
    lock,
    async get(key) {
      usable();
      return (await client.get(dataKey(key))) ?? undefined;
    },
    async set(key, value, ttlMs, tags) {
      usable();
      const px = Math.max(1, Math.ceil(ttlMs));
      if (tags === undefined || tags.length === 0) {
        await client.set(dataKey(key), value, 'PX', px);
        return;
      }
      const full = dataKey(key);
      await client.eval(SET_WITH_TAGS, 1 + tags.length, full, ...tags.map(tagKey), value, String(px), full);
    },
    async delete(keys) {
      usable();
      if (keys.length > 0) await client.unlink(...keys.map(dataKey));
    },
    async deleteByTags(tags) {
      usable();
      if (tags.length > 0) await client.eval(DELETE_BY_TAGS, tags.length, ...tags.map(tagKey));
    },
    async clear(prefix) {
      usable();
      const glob = escapeGlob(prefix);
      await unlinkMatching(`${escapeGlob(keyPrefix)}${glob}*`);
      if (prefix !== '') await unlinkMatching(`${escapeGlob(keyPrefix)}__tag:${glob}*`);
    },
    async close() {
      if (owned && client.status !== 'end') {
        try {
          await client.quit();
        } catch {
          client.disconnect();
        }
      }
    },
  };
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

import type { Redis } from 'ioredis';
import { ErrorCodes, RedlineError } from '@redline/core';
import { assertUsable, connectRedis, isRedisClient, type RedisConnection } from '../stores/redis-connection.js';
import { parseBusMessage, type BusHandlers, type InvalidationBus } from './bus.js';

/** Options of {@link createRedisBus}. */
export interface RedisBusOptions {
  /** ioredis options or URL for the subscriber (a subscriber needs its own connection). */
  connection: RedisConnection;
  /** Client used to publish; default a second connection made from `connection`. */
  publisher?: Redis;
  /** Pub/sub channel. Default `redline:cache:bus`. */
  channel?: string;
  /** Per-command timeout in ms for publishes. Default 100. */
  commandTimeoutMs?: number;
}

/**
 * Creates an invalidation bus over Redis pub/sub. ioredis reconnects and resubscribes on its own;
 * the bus reports each resubscription through `onReconnect` so the cache can drop L1 entries whose
 * invalidations may have been missed while disconnected.
 */
export function createRedisBus(options: RedisBusOptions): InvalidationBus {
  const channel = options.channel ?? 'redline:cache:bus';
  const commandTimeoutMs = options.commandTimeoutMs ?? 100;
  if (typeof channel !== 'string' || channel === '') {
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'createRedisBus: channel must be a non-empty string');
  }
  if (isRedisClient(options.connection) && options.publisher === undefined) {
    // A client in subscriber mode cannot publish, so an existing client needs a separate publisher.
    throw new RedlineError(ErrorCodes.INVALID_ARGUMENT, 'createRedisBus: pass `publisher` when `connection` is an existing client');
  }
  const sub = connectRedis(options.connection, commandTimeoutMs);
  const pub =
    options.publisher !== undefined
      ? { client: options.publisher, owned: false }
      : connectRedis(options.connection, commandTimeoutMs);
  let pubEverReady = pub.client.status === 'ready';
  pub.client.on('ready', () => {
    pubEverReady = true;
  });
  let handlers: BusHandlers | undefined;
  let subscribedOnce = false;
  let lostSinceSubscribe = false;
  sub.client.on('error', (err: Error) => handlers?.onError(err));
  if (pub.owned) pub.client.on('error', (err: Error) => handlers?.onError(err));
  sub.client.on('close', () => {
    if (subscribedOnce) lostSinceSubscribe = true;
  });
  sub.client.on('ready', () => {
    // ioredis has re-issued SUBSCRIBE by the time it reports ready again.
    if (lostSinceSubscribe) {
      lostSinceSubscribe = false;
      handlers?.onReconnect();
    }
  });
  sub.client.on('message', (ch: string, text: string) => {
    if (ch !== channel || handlers === undefined) return;
    const message = parseBusMessage(text);
    if (message !== undefined) handlers.onMessage(message);
  });
  let closed = false;

  return {
    async publish(message) {
      assertUsable(pub.client, pubEverReady);
      await pub.client.publish(channel, JSON.stringify(message));
    },
    async subscribe(h) {
      handlers = h;
      await sub.client.subscribe(channel);
      subscribedOnce = true;
    },
    async close() {
      if (closed) return;
      closed = true;
      handlers = undefined;
      for (const c of [sub, pub]) {
        if (!c.owned || c.client.status === 'end') continue;
        try {
          await c.client.quit();
        } catch {
          c.client.disconnect();
        }
      }
    },
  };
}

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createCache, createRedisBus, createRedisStore, type Cache, type CacheOptions } from '@redline/cache';
import { startRedisServer, type RedisServer } from './redis-server.ts';

let redis: RedisServer;
const caches: Array<Cache<unknown>> = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  redis = await startRedisServer();
});

after(async () => {
  await Promise.allSettled(caches.map((c) => c.close()));
  await redis.stop();
  process.off('unhandledRejection', onUnhandled);
});

let seq = 0;
/** A cache instance with its own Redis connections (as a separate app instance would have). */
/** Promise.withResolvers (Node 22+) for Node 20. */
function withResolvers(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function instance(extra: Partial<CacheOptions> = {}, withBus = true): Cache<unknown> {
  const cache = createCache({
    name: `inst${++seq}`,
    l2: createRedisStore({ connection: { port: redis.port, host: '127.0.0.1' }, commandTimeoutMs: 200 }),
    ...(withBus ? { bus: createRedisBus({ connection: { port: redis.port, host: '127.0.0.1' } }) } : {}),
    ttl: '1m',
    ...extra,
  });
  caches.push(cache);
  return cache;
}

async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 5): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

describe('stampede protection against a real redis-server', () => {
  it('1,000 concurrent getOrSet on a cold key call the factory exactly once in one instance', async () => {
    const cache = instance({}, false);
    await cache.ready();
    let calls = 0;
    const factory = async (): Promise<string> => {
      calls++;
      await sleep(30);
      return 'computed';
    };
    const results = await Promise.all(Array.from({ length: 1000 }, () => cache.getOrSet('cold-1', factory)));
    assert.equal(calls, 1);
    assert.ok(results.every((r) => r === 'computed'));
    const s = cache.stats();
    assert.equal(s.factory.calls, 1);
    assert.equal(s.factory.waitersMerged, 999);
  });

  it('1,000 concurrent getOrSet per instance on 3 instances call the factory exactly once with the distributed lock', async () => {
    const instances = [instance({ lock: true }), instance({ lock: true }), instance({ lock: true })];
    await Promise.all(instances.map((c) => c.ready()));
    let calls = 0;
    const factory = async (): Promise<{ n: number }> => {
      calls++;
      await sleep(100);
      return { n: 42 };
    };
    const all = instances.flatMap((c) => Array.from({ length: 1000 }, () => c.getOrSet('cold-3', factory)));
    const results = await Promise.all(all);
    assert.equal(calls, 1);
    assert.ok(results.every((r) => r.n === 42));
    const stats = instances.map((c) => c.stats());
    assert.equal(stats.reduce((n, s) => n + s.lock.acquired, 0) >= 1, true);
    assert.equal(stats.reduce((n, s) => n + s.lock.waitHits, 0), 2, 'the two losing instances got the value from L2');
    assert.equal(stats.reduce((n, s) => n + s.lock.timeouts, 0), 0);
  });

  it('renews the lease while a factory outlives it, so a second instance still waits', async () => {
    const a = instance({ lock: { lease: 150, waitTimeout: '5s' } }, false);
    const b = instance({ lock: { lease: 150, waitTimeout: '5s' } }, false);
    let calls = 0;
    // B asks once A holds the lock (A's factory runs only then), not after a guessed delay: a busy
    // machine can take longer than any fixed sleep to get A's lock from Redis.
    const { promise: aHoldsLock, resolve: lockTaken } = withResolvers();
    const slow = async (): Promise<string> => {
      calls++;
      lockTaken();
      await sleep(600);
      return 'slow';
    };
    const first = a.getOrSet('long-lease', slow);
    await aHoldsLock;
    const second = b.getOrSet('long-lease', slow);
    assert.deepEqual(await Promise.all([first, second]), ['slow', 'slow']);
    assert.equal(calls, 1);
    assert.equal(b.stats().lock.waitHits, 1);
  });

  it('releases the lock when the factory fails, so another instance can compute', async () => {
    const a = instance({ lock: true }, false);
    const b = instance({ lock: true }, false);
    const { promise: aHoldsLock, resolve: lockTaken } = withResolvers();
    const failing = a.getOrSet('fails-then-works', async () => {
      lockTaken();
      await sleep(50);
      throw new Error('backend down');
    });
    await aHoldsLock;
    const fromB = b.getOrSet('fails-then-works', async () => 'from-b');
    await assert.rejects(failing, /backend down/);
    assert.equal(await fromB, 'from-b');
  });

  it('without the lock, 3 cold instances each call the factory (the lock is what makes it 1)', async () => {
    const instances = [instance({}, false), instance({}, false), instance({}, false)];
    let calls = 0;
    const factory = async (): Promise<number> => {
      calls++;
      await sleep(50);
      return 1;
    };
    await Promise.all(instances.flatMap((c) => Array.from({ length: 100 }, () => c.getOrSet('cold-nolock', factory))));
    assert.equal(calls, 3);
  });
});

describe('cross-instance invalidation over Redis pub/sub', () => {
  it('a delete on instance A removes the key from instance B L1 within 100 ms', async () => {
    const a = instance();
    const b = instance();
    await Promise.all([a.ready(), b.ready()]);
    await a.set('user:1', { name: 'Ada' });
    assert.deepEqual(await b.get('user:1'), { name: 'Ada' }, 'B reads through L2');
    assert.deepEqual(await b.get('user:1'), { name: 'Ada' });
    assert.equal(b.stats().hits.l1, 1, 'B now serves it from L1');
    const before = b.stats().evictions.invalidated;
    await a.delete('user:1');
    const lagMs = await waitUntil('B to drop user:1', () => b.stats().evictions.invalidated > before, 100, 1);
    assert.ok(lagMs <= 100);
    assert.equal(await b.get('user:1'), undefined);
    const bus = b.stats().bus!;
    assert.ok(bus.received >= 1);
    assert.ok(bus.lagMs.count >= 1 && bus.lagMs.maxMs < 100, `bus lag ${bus.lagMs.maxMs}ms`);
  });

  it('a set on A replaces the value B serves (B drops its L1 copy and re-reads L2)', async () => {
    const a = instance();
    const b = instance();
    await Promise.all([a.ready(), b.ready()]);
    await a.set('cfg', 1);
    assert.equal(await b.get('cfg'), 1);
    await a.set('cfg', 2);
    await waitUntil('B to see the new value', async () => (await b.get('cfg')) === 2, 100, 1);
  });

  it('deleteByTag on A removes tagged keys from L2 and from B L1', async () => {
    const a = instance();
    const b = instance();
    await Promise.all([a.ready(), b.ready()]);
    await a.set('p:1', 'one', { tags: ['products'] });
    await a.set('p:2', 'two', { tags: ['products'] });
    await a.set('u:1', 'user', { tags: ['users'] });
    assert.equal(await b.get('p:1'), 'one');
    assert.equal(await b.get('p:2'), 'two');
    const before = b.stats().evictions.invalidated;
    await a.deleteByTag('products');
    await waitUntil('B to drop both tagged keys', () => b.stats().evictions.invalidated >= before + 2, 100, 1);
    assert.equal(await b.get('p:1'), undefined);
    assert.equal(await a.get('p:2'), undefined);
    assert.equal(await b.get('u:1'), 'user');
  });
});

describe('Redis store', () => {
  it('clear() on a namespace removes only that namespace from Redis and from other instances', async () => {
    const a = instance();
    const b = instance();
    await Promise.all([a.ready(), b.ready()]);
    const aOrders = a.namespace('orders');
    const aUsers = a.namespace('users');
    await aOrders.set('1', 'o1', { tags: ['recent'] });
    await aUsers.set('1', 'u1', { tags: ['recent'] });
    assert.equal(await b.namespace('orders').get('1'), 'o1');
    await aOrders.clear();
    await waitUntil('B to drop the orders namespace', async () => (await b.namespace('orders').get('1')) === undefined, 100, 1);
    assert.equal(await b.namespace('users').get('1'), 'u1');
    // Tags are namespaced too: the users entry is still reachable by its own namespace's tag.
    await aUsers.deleteByTag('recent');
    assert.equal(await a.namespace('users').get('1'), undefined);
    await waitUntil('B to drop the tagged users entry', async () => (await b.namespace('users').get('1')) === undefined, 100, 1);
  });

  it('expires keys in Redis after ttl + grace', async () => {
    // The stale read must land inside the grace window (ttl … ttl + grace after the set) on Redis's
    // clock: 400 ms wide, so a stalled test process (80 ms was enough with 100 + 100) still lands in it.
    const a = instance({ ttl: 200, grace: 400 }, false);
    const b = instance({ ttl: 200, grace: 400 }, false);
    const setAt = Date.now();
    await a.set('short', 'lived');
    assert.equal(await b.get('short'), 'lived');
    await sleep(Math.max(0, 250 - (Date.now() - setAt)));
    const staleAt = Date.now() - setAt;
    assert.equal(await b.get('short', { allowStale: true }), 'lived', `stale but within grace (read ${staleAt} ms after the set)`);
    await sleep(Math.max(0, 650 - (Date.now() - setAt)));
    const c = instance({}, false);
    assert.equal(await c.get('short', { allowStale: true }), undefined, 'gone from Redis after ttl + grace');
  });
});

describe('Redis killed mid-test', () => {
  it('keeps serving from L1 and the factory, then resumes L2 and the bus after a restart', async () => {
    const opts: Partial<CacheOptions> = { circuitBreaker: { failureThreshold: 3, open: 200, maxOpen: 400 } };
    const a = instance(opts);
    const b = instance(opts);
    await Promise.all([a.ready(), b.ready()]);
    for (let i = 0; i < 20; i++) await a.set(`warm:${i}`, i);

    await redis.kill();
    // L1 keeps serving warm keys; cold keys come from the factory; nothing throws.
    let factoryCalls = 0;
    const deadline = performance.now() + 1500;
    let rounds = 0;
    while (performance.now() < deadline && rounds < 300) {
      rounds++;
      for (let i = 0; i < 20; i++) assert.equal(await a.get(`warm:${i}`), i);
      const v = await a.getOrSet(`cold:${rounds}`, () => {
        factoryCalls++;
        return rounds * 10;
      });
      assert.equal(v, rounds * 10);
      await a.set(`during:${rounds}`, rounds);
      await sleep(5);
    }
    assert.equal(factoryCalls, rounds);
    const down = a.stats().l2!;
    assert.ok(down.errors >= 3, `L2 errors counted: ${down.errors}`);
    assert.ok(down.skipped > 0, `calls skipped by the open circuit: ${down.skipped}`);
    assert.ok(a.stats().bus!.errors > 0, 'failed publishes counted');

    await redis.start();
    // L2 resumes: a value written by A is readable by B from Redis.
    await waitUntil(
      'L2 to resume',
      async () => {
        await a.set('after-restart', 'back');
        return (await b.get('after-restart')) === 'back' && b.stats().hits.l2 > 0;
      },
      10_000,
      50,
    );
    assert.equal(a.stats().l2!.circuit, 'closed');
    // The bus resubscribed: A's delete reaches B's L1 again.
    await waitUntil('both buses to reconnect', () => a.stats().bus!.reconnects >= 1 && b.stats().bus!.reconnects >= 1, 10_000, 20);
    await waitUntil(
      'bus invalidation to resume',
      async () => {
        await a.set('bus-check', 1);
        await b.get('bus-check');
        const before = b.stats().evictions.invalidated;
        await a.delete('bus-check');
        try {
          await waitUntil('invalidation', () => b.stats().evictions.invalidated > before, 200, 2);
          return true;
        } catch {
          return false;
        }
      },
      10_000,
      50,
    );
    assert.deepEqual(unhandled, []);
  });
});

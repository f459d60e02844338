import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { ErrorCodes, isRedlineError, seededRandom } from '@redline/core';
import {
  ManualTimerClock,
  createCache,
  createMemoryBusHub,
  createMemoryStore,
  type CacheOptions,
  type L2Store,
} from '@redline/cache';

/** Lets pending promise continuations (and setImmediate-based memory-bus deliveries) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
}

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function manual(extra: Partial<CacheOptions> = {}): { clock: ManualTimerClock; cache: ReturnType<typeof createCache<unknown>> } {
  const clock = new ManualTimerClock(1_000_000);
  return { clock, cache: createCache({ clock, ttl: 1000, ...extra }) };
}

describe('basic operations', () => {
  it('get, set, has, delete and typed values', async () => {
    const cache = createCache<{ id: number }>({ ttl: '1m' });
    assert.equal(await cache.get('a'), undefined);
    await cache.set('a', { id: 1 });
    assert.deepEqual(await cache.get('a'), { id: 1 });
    assert.equal(await cache.has('a'), true);
    await cache.delete('a');
    assert.equal(await cache.has('a'), false);
    const s = cache.stats();
    assert.equal(s.hits.l1, 1);
    assert.equal(s.misses, 1);
    assert.equal(s.deletes, 1);
  });

  it('getSync reads L1 only, synchronously, and counts only hits', async () => {
    const store = createMemoryStore();
    const writer = createCache({ l2: store });
    const reader = createCache({ l2: store });
    await writer.set('k', 'v');
    assert.equal(reader.getSync('k'), undefined, 'not in this instance\'s L1 yet');
    assert.equal(await reader.get('k'), 'v');
    assert.equal(reader.getSync('k'), 'v');
    assert.deepEqual(reader.stats().hits, { l1: 1, l2: 1, total: 2 });
    assert.equal(reader.stats().misses, 0);
  });

  it('l1.ttl caps how long L1 trusts an entry before re-reading L2', async () => {
    const clock = new ManualTimerClock(0);
    const store = createMemoryStore({ clock });
    const cache = createCache({ clock, ttl: '1m', l1: { ttl: '5s' }, l2: store });
    await cache.set('k', 1);
    clock.advance(5000);
    assert.equal(await cache.get('k'), 1);
    assert.deepEqual(cache.stats().hits, { l1: 0, l2: 1, total: 1 });
  });

  it('namespaces isolate keys, tags and clear()', async () => {
    const cache = createCache({ namespace: 'app' });
    const users = cache.namespace('users');
    const posts = cache.namespace('posts');
    await users.set('1', 'ada', { tags: ['t'] });
    await posts.set('1', 'hello', { tags: ['t'] });
    assert.equal(users.prefix, 'app:users:');
    assert.equal(await users.get('1'), 'ada');
    assert.equal(await posts.get('1'), 'hello');
    await users.deleteByTag('t');
    assert.equal(await users.get('1'), undefined);
    assert.equal(await posts.get('1'), 'hello');
    await users.set('2', 'bob');
    await posts.clear();
    assert.equal(await posts.get('1'), undefined);
    assert.equal(await users.get('2'), 'bob');
  });

  it('getOrSet calls the factory once per key however many callers wait (single-flight)', async () => {
    const cache = createCache();
    const d = deferred<string>();
    let calls = 0;
    const waiting = Array.from({ length: 1000 }, () =>
      cache.getOrSet('k', () => {
        calls++;
        return d.promise;
      }),
    );
    await flush();
    d.resolve('v');
    const values = await Promise.all(waiting);
    assert.equal(calls, 1);
    assert.ok(values.every((v) => v === 'v'));
    assert.equal(cache.stats().factory.waitersMerged, 999);
    assert.equal(await cache.getOrSet('k', () => 'other'), 'v');
  });

  it('a factory error reaches every waiting caller and is not cached', async () => {
    const cache = createCache();
    const boom = new Error('db down');
    const results = await Promise.allSettled([cache.getOrSet('k', () => Promise.reject(boom)), cache.getOrSet('k', () => 'unused')]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.equal(await cache.getOrSet('k', () => 'ok'), 'ok');
    assert.equal(cache.stats().factory.errors, 1);
  });
});

describe('TTL, jitter and negative caching with a manual clock', () => {
  it('expires entries exactly at their TTL', async () => {
    const { clock, cache } = manual();
    await cache.set('a', 1);
    await cache.set('b', 2, { ttl: '5s' });
    clock.advance(999);
    assert.equal(await cache.get('a'), 1);
    clock.advance(1);
    assert.equal(await cache.get('a'), undefined);
    assert.equal(await cache.get('b'), 2);
    clock.advance(4000);
    assert.equal(await cache.get('b'), undefined);
    assert.equal(cache.stats().evictions.expired, 2, 'expired entries (no grace) are dropped when a lookup finds them');
  });

  it('jitter shortens each TTL by a random fraction below `jitter`, spreading expirations', async () => {
    const clock = new ManualTimerClock(0);
    const cache = createCache({ clock, ttl: 1000, jitter: 0.2, random: seededRandom(42), l1: { maxEntries: 1000 } });
    for (let i = 0; i < 200; i++) await cache.set(`k${i}`, i);
    const expiredAt = new Map<string, number>();
    for (let t = 0; t <= 1000; t += 10) {
      for (let i = 0; i < 200; i++) {
        const k = `k${i}`;
        if (!expiredAt.has(k) && (await cache.get(k)) === undefined) expiredAt.set(k, t);
      }
      clock.advance(10);
    }
    const times = [...expiredAt.values()];
    assert.equal(times.length, 200);
    assert.ok(Math.min(...times) >= 800, `earliest expiry ${Math.min(...times)}ms is within 20 % of the TTL`);
    assert.ok(Math.max(...times) <= 1000);
    assert.ok(new Set(times).size >= 10, `expirations spread over ${new Set(times).size} distinct 10 ms slots`);
  });

  it('jitter uses the injected random source deterministically', async () => {
    const clock = new ManualTimerClock(0);
    const cache = createCache({ clock, ttl: 1000, jitter: 0.5, random: () => 0.5 });
    await cache.set('a', 1);
    clock.advance(749);
    assert.equal(await cache.get('a'), 1);
    clock.advance(1);
    assert.equal(await cache.get('a'), undefined);
  });

  it('caches "not found" for negativeTtl and then asks again', async () => {
    const { clock, cache } = manual({ negativeTtl: '5s' });
    let calls = 0;
    const lookup = (): undefined => {
      calls++;
      return undefined;
    };
    assert.equal(await cache.getOrSet('missing', lookup), undefined);
    assert.equal(await cache.getOrSet('missing', lookup), undefined);
    assert.equal(calls, 1);
    assert.equal(await cache.has('missing'), false);
    assert.equal(cache.stats().negativeHits, 1);
    clock.advance(5000);
    assert.equal(await cache.getOrSet('missing', lookup), undefined);
    assert.equal(calls, 2);
  });

  it('does not cache "not found" without negativeTtl', async () => {
    const { cache } = manual();
    let calls = 0;
    await cache.getOrSet('missing', () => void calls++);
    await cache.getOrSet('missing', () => void calls++);
    assert.equal(calls, 2);
  });
});

describe('grace, backoff and soft/hard timeouts with a manual clock', () => {
  it('serves the stale value within grace when the factory fails, then backs off before retrying', async () => {
    const { clock, cache } = manual({ grace: '10s', graceBackoff: '2s' });
    assert.equal(await cache.getOrSet('k', () => 'v1'), 'v1');
    clock.advance(1500);
    let calls = 0;
    const failing = (): never => {
      calls++;
      throw new Error('backend down');
    };
    assert.equal(await cache.getOrSet('k', failing), 'v1');
    assert.equal(calls, 1);
    clock.advance(1000);
    assert.equal(await cache.getOrSet('k', failing), 'v1', 'still in backoff: no factory call');
    assert.equal(calls, 1);
    clock.advance(1000);
    assert.equal(await cache.getOrSet('k', failing), 'v1', 'backoff over: tried again, failed, stale again');
    assert.equal(calls, 2);
    assert.equal(cache.stats().stale.grace, 3);
    assert.equal(await cache.get('k'), undefined, 'get returns fresh values only');
    assert.equal(await cache.get('k', { allowStale: true }), 'v1');
    assert.equal(cache.stats().stale.read, 1);
  });

  it('rethrows the factory error once grace is over (stale is never served beyond grace)', async () => {
    const { clock, cache } = manual({ grace: '10s' });
    await cache.getOrSet('k', () => 'v1');
    clock.advance(1000 + 10_000);
    await assert.rejects(
      cache.getOrSet('k', () => {
        throw new Error('backend down');
      }),
      /backend down/,
    );
    assert.equal(cache.stats().stale.grace, 0);
    assert.equal(cache.stats().evictions.expired, 1);
  });

  it('soft timeout returns the stale value and lets the factory refresh in the background', async () => {
    const { clock, cache } = manual({ grace: '1m', softTimeout: '50ms' });
    await cache.set('k', 'old');
    clock.advance(1000);
    const slow = deferred<string>();
    const p = cache.getOrSet('k', () => slow.promise);
    await flush();
    clock.advance(49);
    await flush();
    let settled = false;
    void p.then(() => (settled = true));
    await flush();
    assert.equal(settled, false, 'still waiting before the soft timeout');
    clock.advance(1);
    assert.equal(await p, 'old');
    assert.equal(cache.stats().stale.softTimeout, 1);
    slow.resolve('new');
    await flush();
    assert.equal(await cache.get('k'), 'new', 'the background refresh filled the cache');
  });

  it('soft timeout does not apply without a stale value', async () => {
    const { clock, cache } = manual({ softTimeout: '50ms' });
    const slow = deferred<string>();
    const p = cache.getOrSet('k', () => slow.promise);
    await flush();
    clock.advance(1000);
    slow.resolve('fresh');
    assert.equal(await p, 'fresh');
  });

  it('hard timeout rejects with REDLINE_ERR_TIMEOUT and the late value still fills the cache', async () => {
    const { clock, cache } = manual({ hardTimeout: '200ms' });
    const slow = deferred<string>();
    const p = cache.getOrSet('k', () => slow.promise);
    const assertion = assert.rejects(p, (err: unknown) => {
      assert.ok(isRedlineError(err, ErrorCodes.TIMEOUT));
      assert.equal(err.message, 'getOrSet("k"): factory did not finish within the hard timeout of 200ms');
      return true;
    });
    await flush();
    clock.advance(200);
    await assertion;
    assert.equal(cache.stats().factory.hardTimeouts, 1);
    slow.resolve('late');
    await flush();
    assert.equal(await cache.get('k'), 'late');
  });

  it('per-call options override the defaults', async () => {
    const { clock, cache } = manual();
    const slow = deferred<string>();
    const p = cache.getOrSet('k', () => slow.promise, { hardTimeout: 10 });
    const assertion = assert.rejects(p, (err: unknown) => isRedlineError(err, ErrorCodes.TIMEOUT));
    await flush();
    clock.advance(10);
    await assertion;
    slow.resolve('x');
  });
});

describe('eviction', () => {
  it('bounds L1 by entries and counts capacity evictions', async () => {
    const cache = createCache({ l1: { maxEntries: 100, policy: 'lru' } });
    for (let i = 0; i < 250; i++) await cache.set(`k${i}`, i);
    const s = cache.stats();
    assert.equal(s.l1!.entries, 100);
    assert.equal(s.evictions.capacity, 150);
    assert.equal(await cache.get('k0'), undefined);
    assert.equal(await cache.get('k249'), 249);
  });

  it('bounds L1 by approximate bytes (maxSize)', async () => {
    const cache = createCache({ l1: { maxSize: '10kb', maxEntries: 1_000_000 } });
    const value = 'x'.repeat(1000);
    for (let i = 0; i < 50; i++) await cache.set(`k${i}`, value);
    const s = cache.stats();
    assert.ok(s.l1!.sizeBytes <= 10 * 1024, `L1 holds ${s.l1!.sizeBytes} bytes`);
    assert.ok(s.l1!.entries >= 5 && s.l1!.entries <= 10, `${s.l1!.entries} entries of ~1 kB fit in 10 kB`);
    assert.ok(s.evictions.capacity >= 40);
  });

  it('W-TinyLFU keeps a frequently used working set through a one-time scan; LRU loses it', async () => {
    const survivors = async (policy: 'lru' | 'w-tinylfu'): Promise<number> => {
      const cache = createCache({ l1: { maxEntries: 100, policy } });
      for (let round = 0; round < 5; round++) for (let i = 0; i < 50; i++) await cache.getOrSet(`hot${i}`, () => i);
      for (let i = 0; i < 500; i++) await cache.getOrSet(`scan${i}`, () => i);
      let kept = 0;
      for (let i = 0; i < 50; i++) if ((await cache.get(`hot${i}`)) !== undefined) kept++;
      return kept;
    };
    assert.equal(await survivors('w-tinylfu'), 50);
    assert.equal(await survivors('lru'), 0);
  });

  it('expired entries past grace are dropped with reason "expired" by a manual clock', async () => {
    const { clock, cache } = manual({ grace: 500 });
    await cache.set('a', 1);
    clock.advance(1499);
    assert.equal(await cache.get('a', { allowStale: true }), 1);
    clock.advance(1);
    assert.equal(await cache.get('a', { allowStale: true }), undefined);
    assert.equal(cache.stats().evictions.expired, 1);
    assert.equal(cache.stats().l1!.entries, 0);
  });
});

describe('serialisation', () => {
  it('rejects values that cannot be serialised at set, leaving the old entry intact', async () => {
    const cache = createCache({ l2: createMemoryStore() });
    await cache.set('k', { ok: true });
    await assert.rejects(cache.set('k', { n: 10n }), (err: unknown) => {
      assert.ok(isRedlineError(err, ErrorCodes.NOT_SERIALIZABLE));
      assert.equal(err.message, 'cache value for key "k" cannot be serialised: bigint at property "n"');
      return true;
    });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await assert.rejects(cache.set('k', circular), (err: unknown) => {
      assert.ok(isRedlineError(err, ErrorCodes.NOT_SERIALIZABLE));
      assert.match(err.message, /^cache value for key "k" cannot be serialised: Converting circular structure to JSON/);
      return true;
    });
    await assert.rejects(cache.set('k', { m: new Map() }), (err: unknown) => {
      assert.ok(isRedlineError(err, ErrorCodes.NOT_SERIALIZABLE));
      assert.equal(err.message, 'cache value for key "k" cannot be serialised: Map at property "m"');
      return true;
    });
    await assert.rejects(cache.set('k', undefined), (err: unknown) => {
      assert.ok(isRedlineError(err, ErrorCodes.NOT_SERIALIZABLE));
      assert.equal(err.message, 'cache value for key "k" cannot be undefined; use delete() to remove a key');
      return true;
    });
    assert.deepEqual(await cache.get('k'), { ok: true });
  });

  it('getOrSet rejects a non-serialisable factory result with the coded error', async () => {
    const cache = createCache({ l2: createMemoryStore() });
    await assert.rejects(
      cache.getOrSet('k', () => ({ f: () => 1 })),
      (err: unknown) => isRedlineError(err, ErrorCodes.NOT_SERIALIZABLE) && err.message === 'cache value for key "k" cannot be serialised: function at property "f"',
    );
  });
});

describe('two instances sharing an L2 and a bus (in-process)', () => {
  it('reads through L2, invalidates the other L1 on set/delete/tag/clear', async () => {
    const store = createMemoryStore();
    const hub = createMemoryBusHub();
    const a = createCache({ name: 'a', l2: store, bus: hub.connect() });
    const b = createCache({ name: 'b', l2: store, bus: hub.connect() });
    await a.set('x', 1, { tags: ['t'] });
    assert.equal(await b.get('x'), 1);
    assert.equal(b.stats().hits.l2, 1);
    assert.equal(await b.get('x'), 1);
    assert.equal(b.stats().hits.l1, 1);
    await a.set('x', 2, { tags: ['t'] });
    await flush();
    assert.equal(await b.get('x'), 2);
    await a.deleteByTag('t');
    await flush();
    assert.equal(await b.get('x'), undefined);
    await a.set('y', 3);
    assert.equal(await b.get('y'), 3);
    await a.clear();
    await flush();
    assert.equal(await b.get('y'), undefined);
    assert.ok(b.stats().bus!.received >= 3);
    assert.equal(b.stats().bus!.lagMs.count, b.stats().bus!.received);
  });
});

function failingStore(): L2Store & { calls: number } {
  const s = {
    name: 'failing',
    calls: 0,
    async get(): Promise<string | undefined> {
      s.calls++;
      throw new Error('ECONNREFUSED');
    },
    async set(): Promise<void> {
      s.calls++;
      throw new Error('ECONNREFUSED');
    },
    async delete(): Promise<void> {
      s.calls++;
      throw new Error('ECONNREFUSED');
    },
    async deleteByTags(): Promise<void> {
      s.calls++;
    },
    async clear(): Promise<void> {
      s.calls++;
    },
    async close(): Promise<void> {},
  };
  return s;
}

describe('L2 failures and the circuit breaker', () => {
  it('absorbs L2 errors, opens the circuit, probes after the open period and backs off on failure', async () => {
    const clock = new ManualTimerClock(0);
    const store = failingStore();
    const errors: string[] = [];
    const cache = createCache({
      clock,
      l2: store,
      circuitBreaker: { failureThreshold: 3, open: '1s', maxOpen: '4s' },
      onError: (_err, op) => errors.push(op),
    });
    for (let i = 0; i < 10; i++) assert.equal(await cache.getOrSet(`k${i}`, () => i), i);
    // Each cold getOrSet costs an L2 get and an L2 set; the circuit opens after 3 failures.
    assert.equal(store.calls, 3);
    assert.equal(cache.stats().l2!.circuit, 'open');
    assert.equal(cache.stats().l2!.errors, 3);
    assert.equal(cache.stats().l2!.skipped, 17);
    assert.deepEqual(errors, ['l2.get', 'l2.set', 'l2.get']);
    clock.advance(1000);
    assert.equal(cache.stats().l2!.circuit, 'half-open');
    await cache.get('probe');
    assert.equal(store.calls, 4, 'one probe');
    assert.equal(cache.stats().l2!.circuit, 'open');
    clock.advance(1999);
    await cache.get('still-open');
    assert.equal(store.calls, 4, 'the open period doubled to 2 s');
    clock.advance(1);
    await cache.get('probe-2');
    assert.equal(store.calls, 5);
    assert.match(cache.prometheus(), /redline_cache_l2_circuit_state\{cache="default"\} 2/);
  });
});

describe('observability', () => {
  it('publishes hits, misses and factory calls on redline:cache:* diagnostics channels', async () => {
    const seen: string[] = [];
    const handlers = ['hit', 'miss', 'factory', 'set'].map((event) => {
      const fn = (msg: unknown): void => {
        const m = msg as { cache: string; key?: string };
        if (m.cache === 'diag') seen.push(`${event}:${m.key ?? ''}`);
      };
      diagnosticsChannel.subscribe(`redline:cache:${event}`, fn);
      return [event, fn] as const;
    });
    try {
      const cache = createCache({ name: 'diag' });
      await cache.getOrSet('k', () => 1);
      await cache.get('k');
      assert.deepEqual(seen, ['miss:k', 'factory:k', 'set:k', 'hit:k']);
    } finally {
      for (const [event, fn] of handlers) diagnosticsChannel.unsubscribe(`redline:cache:${event}`, fn);
    }
  });

  it('works with otel enabled when @opentelemetry/api is not installed (no spans, no errors)', async () => {
    const cache = createCache({ otel: true });
    await cache.ready();
    assert.equal(await cache.getOrSet('k', () => 'v'), 'v');
  });

  it('renders counters and histograms in Prometheus text format', async () => {
    const store = createMemoryStore();
    const cache = createCache({ name: 'prom', l2: store, bus: createMemoryBusHub().connect() });
    await cache.getOrSet('a', () => 1);
    await cache.get('a');
    const text = cache.prometheus();
    assert.match(text, /^# TYPE redline_cache_hits_total counter$/m);
    assert.match(text, /^redline_cache_hits_total\{cache="prom",tier="l1"\} 1$/m);
    assert.match(text, /^redline_cache_misses_total\{cache="prom"\} 1$/m);
    assert.match(text, /^redline_cache_factory_calls_total\{cache="prom"\} 1$/m);
    assert.match(text, /^redline_cache_factory_duration_seconds_bucket\{cache="prom",le="\+Inf"\} 1$/m);
    assert.match(text, /^redline_cache_l2_circuit_state\{cache="prom"\} 0$/m);
    assert.match(text, /^redline_cache_bus_messages_total\{cache="prom",direction="published"\} 1$/m);
    const s = cache.stats();
    assert.equal(s.hitRatio, 0.5);
    assert.doesNotThrow(() => JSON.stringify(s));
  });
});

describe('option validation', () => {
  const cases: Array<[string, CacheOptions, string, string]> = [
    ['bad ttl text', { ttl: 'soon' }, ErrorCodes.BAD_DURATION, 'invalid ttl "soon": expected a number with a unit, such as 500ms, 30s, 5m, 1h or 1m30s'],
    ['zero ttl', { ttl: 0 }, ErrorCodes.INVALID_ARGUMENT, 'ttl must be greater than 0, got 0'],
    ['negative grace', { grace: -5 }, ErrorCodes.INVALID_ARGUMENT, 'grace must be a duration (a string such as 30s, or milliseconds >= 0), got -5'],
    ['bad size', { l1: { maxSize: 'lots' } }, ErrorCodes.BAD_SIZE, 'invalid l1.maxSize "lots": expected bytes or a size such as 512kb, 50mb, 1gb'],
    ['zero entries', { l1: { maxEntries: 0 } }, ErrorCodes.INVALID_ARGUMENT, 'createCache: l1.maxEntries must be an integer >= 1, got 0'],
    ['bad policy', { l1: { policy: 'fifo' as 'lru' } }, ErrorCodes.INVALID_ARGUMENT, 'createCache: l1.policy must be "w-tinylfu" or "lru", got "fifo"'],
    ['jitter out of range', { jitter: 1.5 }, ErrorCodes.INVALID_ARGUMENT, 'createCache: jitter must be a number in [0, 1), got 1.5'],
    ['no tier', { l1: false }, ErrorCodes.INVALID_ARGUMENT, 'createCache: at least one tier is needed (l1 or l2)'],
    ['lock without l2', { lock: true }, ErrorCodes.INVALID_ARGUMENT, 'createCache: lock needs an l2 store with lease-lock support (createRedisStore or createMemoryStore)'],
    ['l2 not a store', { l2: {} as L2Store }, ErrorCodes.INVALID_ARGUMENT, 'createCache: l2 must implement get, set, delete, deleteByTags, clear and close (see createRedisStore / createMemoryStore)'],
    ['bad namespace', { namespace: 'a b' }, ErrorCodes.INVALID_ARGUMENT, 'createCache: namespace must be a non-empty string without spaces or glob characters (*?[]), got "a b"'],
    ['bad breaker', { circuitBreaker: { failureThreshold: 0 } }, ErrorCodes.INVALID_ARGUMENT, 'createCache: circuitBreaker.failureThreshold must be an integer >= 1, got 0'],
    ['bad hard timeout', { hardTimeout: '1 year' }, ErrorCodes.BAD_DURATION, 'invalid hardTimeout "1 year": expected a number with a unit, such as 500ms, 30s, 5m, 1h or 1m30s'],
  ];
  for (const [what, options, code, message] of cases) {
    it(`rejects ${what}`, () => {
      assert.throws(
        () => createCache(options),
        (err: unknown) => isRedlineError(err) && err.code === code && err.message === message,
      );
    });
  }

  it('rejects empty keys, bad tags and non-function factories with INVALID_ARGUMENT', async () => {
    const cache = createCache();
    assert.throws(
      () => cache.get(''),
      (err: unknown) => isRedlineError(err, ErrorCodes.INVALID_ARGUMENT) && err.message === 'cache key must be a non-empty string, got an empty string',
    );
    await assert.rejects(cache.set('k', 1, { tags: [''] }), (err: unknown) => isRedlineError(err, ErrorCodes.INVALID_ARGUMENT) && err.message === 'tags must be a non-empty string or an array of non-empty strings');
    await assert.rejects(
      cache.getOrSet('k', 'nope' as unknown as () => number),
      (err: unknown) => isRedlineError(err, ErrorCodes.INVALID_ARGUMENT) && err.message === 'getOrSet("k"): factory must be a function, got string',
    );
    await assert.rejects(cache.set('k', 1, { ttl: 'later' }), (err: unknown) => isRedlineError(err, ErrorCodes.BAD_DURATION));
  });
});

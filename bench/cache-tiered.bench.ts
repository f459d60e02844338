// Tiered (L1 memory + L2 Redis + Redis bus) `get` and `getOrSet` of @redline/cache beside bentocache,
// both against the same local redis-server started here, in the same process and run.
// Usage: node --import tsx bench/cache-tiered.bench.ts
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisBusDriver, redisDriver } from 'bentocache/drivers/redis';
import { createCache, createRedisBus, createRedisStore, type Cache } from '@redline/cache';
import { startRedisServer } from '../packages/cache/test/redis-server.ts';

const KEYS = 5_000;
const CONCURRENCY = 32;
const ROUNDS = 3;

type Runner = {
  name: string;
  get(key: string): Promise<unknown>;
  getOrSet(key: string, factory: () => Promise<unknown>): Promise<unknown>;
  set(key: string, value: unknown): Promise<unknown>;
  close(): Promise<void>;
};

async function makeRedline(port: number, namespace: string): Promise<Runner> {
  const cache: Cache = createCache({
    namespace,
    ttl: '10m',
    l1: { maxEntries: KEYS * 4 },
    l2: createRedisStore({ connection: { host: '127.0.0.1', port } }),
    bus: createRedisBus({ connection: { host: '127.0.0.1', port } }),
  });
  await cache.ready();
  return {
    name: 'redline',
    get: (key) => cache.get(key),
    getOrSet: (key, factory) => cache.getOrSet(key, factory),
    set: (key, value) => cache.set(key, value),
    close: () => cache.close(),
  };
}

async function makeBento(port: number, namespace: string): Promise<Runner> {
  const bento = new BentoCache({
    default: 'tiered',
    ttl: '10m',
    stores: {
      tiered: bentostore()
        // serialize: false stores references in L1, like @redline/cache (bentocache's fastest L1 mode).
        .useL1Layer(memoryDriver({ maxItems: KEYS * 4, serialize: false }))
        .useL2Layer(redisDriver({ connection: { host: '127.0.0.1', port } }))
        .useBus(redisBusDriver({ connection: { host: '127.0.0.1', port } })),
    },
  });
  const ns = bento.namespace(namespace);
  return {
    name: 'bentocache',
    get: (key) => ns.get({ key }),
    getOrSet: (key, factory) => ns.getOrSet({ key, factory }),
    set: (key, value) => ns.set({ key, value }),
    close: () => bento.disconnectAll(),
  };
}

/** Runs `op(i)` for i in [0, total) with `CONCURRENCY` loops in flight; returns ops/s. */
async function drive(total: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < total; i = next++) await op(i);
    }),
  );
  return total / ((performance.now() - t0) / 1000);
}

const value = { id: 1, name: 'Ada Lovelace', roles: ['admin', 'author'], score: 97.5 };
const keyOf = (i: number): string => `k${i % KEYS}`;

interface Scenario {
  name: string;
  ops: number;
  /** Prepares a fresh runner for one measurement (fills caches as the scenario needs). */
  run(r: Runner, port: number, round: number): Promise<number>;
}

const scenarios: Scenario[] = [
  {
    name: 'get, L1 hit',
    ops: 400_000,
    async run(r) {
      for (let i = 0; i < KEYS; i++) await r.set(keyOf(i), value);
      return drive(400_000, (i) => r.get(keyOf(i * 7919)));
    },
  },
  {
    name: 'get, L1 miss → L2 hit',
    ops: 20_000,
    async run(r, port, round) {
      // Written by another instance, so this instance's L1 is cold and every get goes to Redis.
      const writer = r.name === 'redline' ? await makeRedline(port, `l2-${round}`) : await makeBento(port, `l2-${round}`);
      for (let i = 0; i < KEYS; i++) await writer.set(keyOf(i), value);
      await writer.close();
      const reader = r.name === 'redline' ? await makeRedline(port, `l2-${round}`) : await makeBento(port, `l2-${round}`);
      const opsPerSec = await drive(KEYS, (i) => reader.get(keyOf(i)));
      await reader.close();
      return opsPerSec;
    },
  },
  {
    name: 'getOrSet, L1 hit',
    ops: 400_000,
    async run(r) {
      for (let i = 0; i < KEYS; i++) await r.getOrSet(keyOf(i), async () => value);
      return drive(400_000, (i) => r.getOrSet(keyOf(i * 7919), async () => value));
    },
  },
  {
    name: 'getOrSet, cold key (L2 miss, factory, L2 write, bus publish)',
    ops: 10_000,
    async run(r, _port, round) {
      return drive(10_000, (i) => r.getOrSet(`cold-${round}-${i}`, async () => value));
    },
  },
];

async function main(): Promise<void> {
  const redis = await startRedisServer();
  try {
    console.log(`tiered cache vs bentocache on redis-server :${redis.port}, ${KEYS} keys, concurrency ${CONCURRENCY}, ${ROUNDS} rounds, median`);
    for (const s of scenarios) {
      const results: Record<string, number[]> = { redline: [], bentocache: [] };
      for (let round = 0; round < ROUNDS; round++) {
        // Alternate who goes first so drift on the shared machine does not favour one side.
        const order = round % 2 === 0 ? ['redline', 'bentocache'] : ['bentocache', 'redline'];
        for (const name of order) {
          const ns = `${s.name.replace(/\W+/g, '-')}-${name}-${round}`;
          const r = name === 'redline' ? await makeRedline(redis.port, ns) : await makeBento(redis.port, ns);
          results[name]!.push(await s.run(r, redis.port, round));
          await r.close();
        }
      }
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const ours = median(results.redline!);
      const theirs = median(results.bentocache!);
      const ratio = ours / theirs;
      const fmt = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : `${(x / 1e3).toFixed(1)} k`);
      console.log(
        `  ${s.name.padEnd(62)} redline ${fmt(ours).padStart(8)} ops/s   bentocache ${fmt(theirs).padStart(8)} ops/s   ratio ${ratio.toFixed(2)}x ${ratio >= 1 ? '(>= 1.0x reached)' : '(< 1.0x, NOT reached)'}`,
      );
    }
  } finally {
    await redis.stop();
  }
}

await main();

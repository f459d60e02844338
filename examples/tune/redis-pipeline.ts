// A pipeline stage for `redline tune`: write records to a real Redis, one round trip per record
// (REDIS_MODE=single, the default) or one pipelined round trip per batch (REDIS_MODE=pipeline).
// Starts a throw-away redis-server on a free port unless REDIS_URL is set.
//   redline tune examples/tune/redis-pipeline.ts --slo 'p(99)<500'
//   REDIS_MODE=pipeline redline tune examples/tune/redis-pipeline.ts --slo 'p(99)<500'
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from '../../packages/cache/test/redis-server.ts';

interface Row {
  key: string;
  value: string;
}

const mode = process.env.REDIS_MODE === 'pipeline' ? 'pipeline' : 'single';
let server: RedisServer | undefined;
let redis: Redis | undefined;

export async function setup(): Promise<void> {
  if (redis) return;
  let url = process.env.REDIS_URL;
  if (!url) {
    server = await startRedisServer();
    url = server.url;
  }
  redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 1 });
  await redis.flushdb();
}

export async function stage(batch: Row[]): Promise<void> {
  const r = redis!;
  if (mode === 'pipeline') {
    const p = r.pipeline();
    for (const row of batch) p.set(row.key, row.value);
    const results = await p.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
    return;
  }
  for (const row of batch) await r.set(row.key, row.value);
}

/** An endless stream of 100-byte records over 100k keys; tune stops reading by time. */
export function* records(): Generator<Row> {
  const value = 'v'.repeat(100);
  for (let i = 0; ; i++) yield { key: `row:${i % 100_000}`, value };
}

export async function teardown(): Promise<void> {
  await redis?.quit();
  redis = undefined;
  await server?.stop();
  server = undefined;
}

// watchPool's cost on a pg pool against a real PostgreSQL: the same SELECT 1 workload (8 callers, pool
// of 4) run unwatched and watched with leak detection on, alternating A/B rounds in one process.
// Usage: node --import tsx bench/pool-watch.bench.ts
import pg from 'pg';
import { watchPool } from '@redline/pool';
import { startPostgres } from '../test-support/postgres.ts';

const QUERIES = 4000;
const CALLERS = 8;
const ROUNDS = 7;

async function workload(pool: pg.Pool): Promise<number> {
  let left = QUERIES;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (left-- > 0) {
        const client = await pool.connect();
        await client.query('SELECT 1');
        client.release();
      }
    }),
  );
  return QUERIES / ((performance.now() - t0) / 1000);
}

const server = await startPostgres();
try {
  const rates: { plain: number[]; watched: number[] } = { plain: [], watched: [] };
  for (let r = 0; r < ROUNDS; r++) {
    const a = new pg.Pool({ connectionString: server.url, max: 4 });
    await workload(a); // warm-up
    rates.plain.push(await workload(a));
    await a.end();
    const b = new pg.Pool({ connectionString: server.url, max: 4 });
    const w = watchPool(b, { leakMs: 10_000 });
    await workload(b);
    rates.watched.push(await workload(b));
    w.stop();
    await b.end();
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
  const plain = median(rates.plain);
  const watched = median(rates.watched);
  console.log(JSON.stringify({ plainQps: Math.round(plain), watchedQps: Math.round(watched), ratio: Math.round((watched / plain) * 1000) / 1000, rates }));
} finally {
  await server.stop();
}

import pg from 'pg';
import type { Bottleneck } from '../bottleneck.js';
import { startPglite, type PgliteServer } from '../pglite.js';

/** Clients in the pool and how long each request holds one (the query plus work done while holding). */
const POOL_SIZE = 4;
const POST_PROCESSING_MS = 35;
const ORDERS = 1000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The planted problem: keeps the pooled client for the whole request, including slow post-processing. */
export async function loadOrderWithConnection(pool: pg.Pool, id: number): Promise<{ id: number; total: number }> {
  const client = await pool.connect();
  try {
    const { rows } = await client.query<{ id: number; total: number }>('SELECT id, total FROM orders WHERE id = $1', [id]);
    await sleep(POST_PROCESSING_MS); // post-processing that should not hold the client
    return rows[0] ?? { id, total: 0 };
  } finally {
    client.release();
  }
}

/** Pool starvation: a real `pg.Pool` of POOL_SIZE against PGlite, every request holding a client ~40 ms. */
export async function createPoolStarvation(): Promise<Bottleneck> {
  const db: PgliteServer = await startPglite();
  const pool = new pg.Pool({ connectionString: db.url, max: POOL_SIZE });
  await pool.query('CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, total numeric NOT NULL)');
  await pool.query('INSERT INTO orders SELECT g, g * 1.5 FROM generate_series(1, $1::int) g ON CONFLICT DO NOTHING', [ORDERS]);
  let n = 0;
  return {
    handle() {
      n = (n % ORDERS) + 1;
      return loadOrderWithConnection(pool, n);
    },
    async close() {
      await pool.end().catch(() => undefined);
      await db.stop();
    },
  };
}

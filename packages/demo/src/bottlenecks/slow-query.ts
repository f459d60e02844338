import pg from 'pg';
import type { Bottleneck } from '../bottleneck.js';
import { openDemoDatabase } from '../database.js';

/**
 * Rows in the searched table, per backend: the unindexed scan should take some tens of ms on either.
 * PGlite (PostgreSQL in WASM, in a child process) scans about two orders of magnitude slower than a
 * real server.
 */
const ROWS = { pglite: 20_000, postgres: 150_000 } as const;
const ORDERS = 1000;

/**
 * The planted problem: a substring search with a leading wildcard (`LIKE '%…%'`), which no B-tree
 * index serves, so every request scans the whole table; the order lookup beside it is fast.
 */
export async function searchActivity(pool: pg.Pool, term: string, orderId: number): Promise<{ hits: number; order: unknown }> {
  const client = await pool.connect();
  try {
    const hits = await client.query<{ n: string }>('SELECT count(*) AS n FROM activity_log WHERE payload LIKE $1', [`%${term}%`]);
    const order = await client.query('SELECT id, total FROM search_orders WHERE id = $1', [orderId]);
    return { hits: Number(hits.rows[0]?.n ?? 0), order: order.rows[0] ?? null };
  } finally {
    client.release();
  }
}

async function seed(pool: pg.Pool, rows: number): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS activity_log (id serial PRIMARY KEY, payload text NOT NULL);
    CREATE TABLE IF NOT EXISTS search_orders (id int PRIMARY KEY, total numeric NOT NULL)`);
  await pool.query('INSERT INTO search_orders SELECT g, g * 1.5 FROM generate_series(1, $1::int) g ON CONFLICT DO NOTHING', [ORDERS]);
  const { rows: have } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM activity_log');
  if (Number(have[0]?.n ?? 0) < rows) {
    await pool.query("INSERT INTO activity_log (payload) SELECT md5(g::text) || ' k' || (g % 997) || 'x ' || repeat('p', 80) FROM generate_series(1, $1::int) g", [rows]);
  }
  await pool.query('ANALYZE activity_log; ANALYZE search_orders');
}

/** Slow query: an unindexed `LIKE '%…%'` scan per request on PGlite (or REDLINE_DEMO_PG_URL). */
export async function createSlowQuery(): Promise<Bottleneck> {
  const db = await openDemoDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 8 });
  await seed(pool, ROWS[db.kind]);
  let n = 0;
  return {
    handle() {
      n = (n % ORDERS) + 1;
      return searchActivity(pool, `k${n % 50}x`, n);
    },
    async close() {
      await pool.end().catch(() => undefined);
      await db.stop();
    },
  };
}

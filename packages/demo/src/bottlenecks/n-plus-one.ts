import pg from 'pg';
import type { Bottleneck } from '../bottleneck.js';
import { openDemoDatabase } from '../database.js';

/** Customers, and orders per customer: each request loads one customer's ORDERS_PER_CUSTOMER orders. */
const CUSTOMERS = 100;
const ORDERS_PER_CUSTOMER = 20;
const ITEMS_PER_ORDER = 3;

/** One customer's orders with their items. */
export interface OrderWithItems {
  id: number;
  total: string;
  items: Array<{ name: string }>;
}

/**
 * The planted problem: one query for the orders, then one more per order for its items, each
 * awaited in turn (N+1 round trips where one `WHERE order_id = ANY($1)` would do).
 */
export async function loadOrdersWithItems(pool: pg.Pool, customerId: number): Promise<OrderWithItems[]> {
  const client = await pool.connect();
  try {
    const { rows: orders } = await client.query<{ id: number; total: string }>('SELECT id, total FROM customer_orders WHERE customer_id = $1 ORDER BY id', [customerId]);
    const out: OrderWithItems[] = [];
    for (const order of orders) {
      const { rows } = await client.query<{ name: string }>('SELECT name FROM order_items WHERE order_id = $1', [order.id]);
      out.push({ ...order, items: rows });
    }
    return out;
  } finally {
    client.release();
  }
}

async function seed(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS customer_orders (id int PRIMARY KEY, customer_id int NOT NULL, total numeric NOT NULL);
    CREATE INDEX IF NOT EXISTS customer_orders_customer ON customer_orders (customer_id);
    CREATE TABLE IF NOT EXISTS order_items (id serial PRIMARY KEY, order_id int NOT NULL, name text NOT NULL);
    CREATE INDEX IF NOT EXISTS order_items_order ON order_items (order_id)`);
  const orders = CUSTOMERS * ORDERS_PER_CUSTOMER;
  await pool.query('INSERT INTO customer_orders SELECT g, g % $2::int, g * 1.5 FROM generate_series(1, $1::int) g ON CONFLICT DO NOTHING', [orders, CUSTOMERS]);
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM order_items');
  if (Number(rows[0]?.n ?? 0) === 0) {
    await pool.query("INSERT INTO order_items (order_id, name) SELECT (g % $1::int) + 1, 'item ' || g FROM generate_series(1, $2::int) g", [orders, orders * ITEMS_PER_ORDER]);
  }
  await pool.query('ANALYZE customer_orders; ANALYZE order_items');
}

/** N+1 queries: a `pg.Pool` against PGlite (or REDLINE_DEMO_PG_URL), 1 + 20 sequential queries per request. */
export async function createNPlusOne(): Promise<Bottleneck> {
  const db = await openDemoDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 8 });
  await seed(pool);
  let n = 0;
  return {
    handle() {
      n = (n % CUSTOMERS) + 1;
      return loadOrdersWithItems(pool, n % CUSTOMERS);
    },
    async close() {
      await pool.end().catch(() => undefined);
      await db.stop();
    },
  };
}

// A pipeline stage for `redline tune`: load rows into a real PostgreSQL three ways, chosen by PG_MODE:
//   row   (default) one INSERT per row, in the batch's order, on one connection per batch in flight
//   multi one multi-row INSERT ... VALUES (...), (...) per batch
//   copy  one COPY ... FROM STDIN per batch (text format, through pg-copy-streams)
// Starts a throw-away cluster (test-support/postgres.ts) unless PG_URL is set.
//   PG_MODE=copy redline tune examples/tune/postgres-rows.ts --slo 'p(99)<500'
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { startPostgres, type PostgresServer } from '../../test-support/postgres.ts';

interface Row {
  id: number;
  name: string;
  amount: number;
}

const mode = (process.env.PG_MODE ?? 'row') as 'row' | 'multi' | 'copy';
let server: PostgresServer | undefined;
let pool: pg.Pool | undefined;

export async function setup(): Promise<void> {
  if (pool) return;
  let url = process.env.PG_URL;
  if (!url) {
    server = await startPostgres();
    url = server.url;
  }
  pool = new pg.Pool({ connectionString: url, max: 16 });
  // An idle client's connection ends when the throw-away server stops; that is expected here.
  pool.on('error', () => {});
  await pool.query('CREATE TABLE IF NOT EXISTS tune_rows (id bigint, name text, amount numeric)');
}

async function insertRows(client: pg.PoolClient, batch: Row[]): Promise<void> {
  if (mode === 'row') {
    for (const r of batch) await client.query('INSERT INTO tune_rows (id, name, amount) VALUES ($1, $2, $3)', [r.id, r.name, r.amount]);
    return;
  }
  if (mode === 'multi') {
    const values: unknown[] = [];
    const tuples = batch.map((r, i) => {
      values.push(r.id, r.name, r.amount);
      return `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`;
    });
    await client.query(`INSERT INTO tune_rows (id, name, amount) VALUES ${tuples.join(', ')}`, values);
    return;
  }
  const text = batch.map((r) => `${r.id}\t${r.name}\t${r.amount}\n`).join('');
  await pipeline(Readable.from([text]), client.query(copyFrom('COPY tune_rows (id, name, amount) FROM STDIN')));
}

export async function stage(batch: Row[]): Promise<void> {
  const client = await pool!.connect();
  try {
    await insertRows(client, batch);
  } finally {
    client.release();
  }
}

export function* records(): Generator<Row> {
  for (let i = 0; ; i++) yield { id: i, name: `customer-${i % 1000}`, amount: (i % 10_000) / 100 };
}

export async function teardown(): Promise<void> {
  await pool?.end();
  pool = undefined;
  await server?.stop();
  server = undefined;
}

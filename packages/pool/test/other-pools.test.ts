import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Pool as TarnPool } from 'tarn';
import genericPool from 'generic-pool';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { POOL_LEAK_CHANNEL, watchPool, type PoolLeakMessage } from '@redline/pool';
import { startPostgres, type PostgresServer } from '../../../test-support/postgres.ts';
import { startMariaDb, type MariaDbServer } from '../../../test-support/mariadb.ts';

/** Runs `n` callers at once that each hold a resource for `holdMs`. */
async function contend<T>(n: number, acquire: () => Promise<T>, release: (r: T) => unknown, holdMs: number): Promise<void> {
  await Promise.all(
    Array.from({ length: n }, async () => {
      const r = await acquire();
      await sleep(holdMs);
      await release(r);
    }),
  );
}

describe('watchPool on tarn and generic-pool with real pg clients as resources', () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await server?.stop();
  });
  const create = async (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: server.url });
    await c.connect();
    return c;
  };

  it('tarn: waiting, in use and hold time from the pool events; leaks with the acquiring stack', async () => {
    const pool = new TarnPool<pg.Client>({ create, destroy: (c) => void c.end(), min: 0, max: 2 });
    const watch = watchPool(pool, { leakMs: 100, name: 'tarn-test' });
    const leaks: PoolLeakMessage[] = [];
    const onLeak = (m: unknown): void => {
      if ((m as PoolLeakMessage).name === 'tarn-test') leaks.push(m as PoolLeakMessage);
    };
    diagnosticsChannel.subscribe(POOL_LEAK_CHANNEL, onLeak);
    try {
      assert.equal(watch.meta.driver, 'tarn');
      assert.equal(watch.meta.max, 2);
      await contend(5, () => pool.acquire().promise, (c) => pool.release(c), 40);
      const m = watch.flush();
      assert.equal(m.values.acquires, 5);
      assert.equal(m.values.releases, 5);
      assert.equal(m.values.inUseMax, 2);
      assert.ok((m.values.waitingMax ?? 0) >= 3);
      assert.ok((m.values.holdP50Ms ?? 0) >= 38, `hold ${m.values.holdP50Ms}`);
      assert.ok((m.values.waitMaxMs ?? 0) >= 75, `wait ${m.values.waitMaxMs}`);
      const leaked = await tarnLeakSite(pool);
      await sleep(300);
      pool.release(leaked);
      assert.deepEqual(leaks.map((l) => l.phase), ['held', 'returned']);
      assert.match(leaks[0]?.stack ?? '', /tarnLeakSite .*other-pools\.test\.ts/);
    } finally {
      diagnosticsChannel.unsubscribe(POOL_LEAK_CHANNEL, onLeak);
      watch.stop();
      await pool.destroy();
    }
  });

  it('generic-pool: acquire/release/destroy are counted', async () => {
    const pool = genericPool.createPool({ create, destroy: (c: pg.Client) => c.end() }, { max: 2, min: 0 });
    const watch = watchPool(pool);
    try {
      assert.equal(watch.meta.driver, 'generic-pool');
      assert.equal(watch.name, 'generic-pool');
      await contend(4, () => pool.acquire(), (c) => pool.release(c), 30);
      const c = await pool.acquire();
      await pool.destroy(c);
      const m = watch.flush();
      assert.equal(m.values.acquires, 5);
      assert.equal(m.values.releases, 5);
      assert.equal(m.values.inUseMax, 2);
      assert.equal(m.values.inUse, 0);
      assert.ok((m.values.waitMaxMs ?? 0) >= 25);
    } finally {
      watch.stop();
      await pool.drain();
      await pool.clear();
    }
  });
});

describe('watchPool on mysql2 pools against a real MariaDB', () => {
  let server: MariaDbServer;
  before(async () => {
    server = await startMariaDb();
  });
  after(async () => {
    await server?.stop();
  });

  it('callback pool: names the server, counts pool.query() and getConnection()', async () => {
    const pool = mysql.createPool({ host: server.host, port: server.port, user: server.user, database: 'mysql', connectionLimit: 2 });
    const watch = watchPool(pool);
    try {
      assert.deepEqual(watch.meta, { driver: 'mysql2', host: '127.0.0.1', port: server.port, database: 'mysql', max: 2 });
      assert.equal(watch.name, `mysql2 127.0.0.1:${server.port}/mysql`);
      await Promise.all(
        Array.from({ length: 5 }, () => new Promise<void>((resolve, reject) => pool.query('SELECT SLEEP(0.04)', (err) => (err ? reject(err) : resolve())))),
      );
      const m = watch.flush();
      assert.equal(m.values.acquires, 5);
      assert.equal(m.values.releases, 5);
      assert.equal(m.values.inUseMax, 2);
      assert.equal(m.values.size, 2);
      assert.ok((m.values.waitingMax ?? 0) >= 3);
      assert.ok((m.values.holdP50Ms ?? 0) >= 35, `hold ${m.values.holdP50Ms}`);
      // The queries on a held connection are timed, as for pg: here the hold is the query.
      assert.equal(m.values.queriesPerHold, 1);
      assert.ok((m.values.queryMsPerHold ?? 0) >= 35 && (m.values.queryMsPerHold ?? 0) <= (m.values.holdMeanMs ?? 0) + 0.001, `query ${m.values.queryMsPerHold} ms of a ${m.values.holdMeanMs} ms hold`);
    } finally {
      watch.stop();
      await new Promise<void>((resolve) => pool.end(() => resolve()));
    }
  });

  it('promise pool: unwraps to the core pool and sees explicit connections', async () => {
    const pool = mysqlPromise.createPool({ host: server.host, port: server.port, user: server.user, connectionLimit: 1 });
    const watch = watchPool(pool, { name: 'mysql-promise' });
    try {
      await contend(3, () => pool.getConnection(), (c) => c.release(), 30);
      const m = watch.flush();
      assert.equal(m.values.acquires, 3);
      assert.equal(m.values.releases, 3);
      assert.equal(m.values.inUseMax, 1);
      assert.ok((m.values.waitMaxMs ?? 0) >= 55, `wait ${m.values.waitMaxMs}`);
      assert.equal(m.values.queriesPerHold, 0, 'held without a query');
      // One explicit connection that queries (promise API, execute) and then keeps holding it.
      const conn = await pool.getConnection();
      await conn.execute('SELECT SLEEP(0.03)');
      await sleep(60);
      conn.release();
      const held = watch.flush();
      assert.equal(held.values.queriesPerHold, 1);
      assert.ok((held.values.queryMsPerHold ?? 0) >= 25 && (held.values.holdMeanMs ?? 0) - (held.values.queryMsPerHold ?? 0) >= 55, `query ${held.values.queryMsPerHold} ms of a ${held.values.holdMeanMs} ms hold`);
    } finally {
      watch.stop();
      await pool.end();
    }
  });
});

async function tarnLeakSite(pool: TarnPool<pg.Client>): Promise<pg.Client> {
  return pool.acquire().promise;
}

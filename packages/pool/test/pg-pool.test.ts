import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { POOL_LEAK_CHANNEL, POOL_STATS_CHANNEL, watchPool, type PoolLeakMessage, type PoolStatsMessage } from '@redline/pool';
import { startPostgres, type PostgresServer } from '../../../test-support/postgres.ts';

describe('watchPool on a pg.Pool against a real PostgreSQL', () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres({ maxConnections: 20 });
  });
  after(async () => {
    await server?.stop();
  });

  it('names the pool and measures waiting, in use and hold time when 6 callers share 2 clients', async () => {
    const pool = new pg.Pool({ host: server.host, port: server.port, user: server.user, database: server.database, max: 2 });
    const watch = watchPool(pool, { name: 'orders-db' });
    try {
      assert.equal(watch.name, 'orders-db');
      assert.deepEqual(watch.meta, { driver: 'pg', host: '127.0.0.1', port: server.port, database: 'postgres', max: 2, min: 0 });
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          const client = await pool.connect();
          try {
            await client.query('SELECT pg_sleep(0.05)');
          } finally {
            client.release();
          }
        }),
      );
      const m = watch.flush();
      assert.equal(m.values.acquireRequests, 6);
      assert.equal(m.values.acquires, 6);
      assert.equal(m.values.releases, 6);
      assert.equal(m.values.inUseMax, 2);
      assert.equal(m.values.waitingMax, 6); // all six ask before the first client is connected
      assert.equal(m.values.inUse, 0);
      assert.equal(m.values.waiting, 0);
      assert.equal(m.values.size, 2);
      assert.equal(m.values.max, 2);
      assert.ok((m.values.holdP50Ms ?? 0) >= 45, `hold p50 ${m.values.holdP50Ms}`);
      // The last pair waits for two holds of ≥ 50 ms each.
      assert.ok((m.values.waitMaxMs ?? 0) >= 95, `wait max ${m.values.waitMaxMs}`);
      assert.equal(m.values.queriesPerHold, 1);
      assert.ok((m.values.queryMsPerHold ?? 0) >= 45 && (m.values.queryMsPerHold ?? 0) <= (m.values.holdMeanMs ?? 0) + 0.001);
    } finally {
      watch.stop();
      await pool.end();
    }
  });

  it('tells time spent querying from time a client is held while the code awaits something else', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 1 });
    const watch = watchPool(pool);
    try {
      assert.equal(watch.meta.host, '127.0.0.1');
      assert.equal(watch.meta.port, server.port);
      assert.equal(watch.meta.database, 'postgres');
      for (let i = 0; i < 3; i++) {
        const client = await pool.connect();
        await client.query('SELECT 1');
        await sleep(60); // e.g. a downstream call made while holding the client
        await client.query('SELECT 2');
        client.release();
      }
      const m = watch.flush();
      assert.equal(m.values.queriesPerHold, 2);
      assert.ok((m.values.holdMeanMs ?? 0) >= 58, `hold mean ${m.values.holdMeanMs}`);
      assert.ok((m.values.queryMsPerHold ?? 0) < (m.values.holdMeanMs ?? 0) / 2, `query ms per hold ${m.values.queryMsPerHold} of ${m.values.holdMeanMs}`);
    } finally {
      watch.stop();
      await pool.end();
    }
  });

  it('counts pool.query() acquisitions and callback-style connect()', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 3 });
    const watch = watchPool(pool);
    try {
      await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 2')]);
      await new Promise<void>((resolve, reject) => {
        pool.connect((err, client, done) => {
          if (err || !client) return reject(err ?? new Error('no client'));
          client.query('SELECT 3', (qerr) => {
            done();
            if (qerr) reject(qerr);
            else resolve();
          });
        });
      });
      const m = watch.flush();
      assert.equal(m.values.acquires, 3);
      assert.equal(m.values.releases, 3);
      assert.equal(m.values.queriesPerHold, 1);
    } finally {
      watch.stop();
      await pool.end();
    }
  });

  it('reports a client held past leakMs with the stack that acquired it, and again when it comes back', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    const watch = watchPool(pool, { leakMs: 120, name: 'leaky' });
    const events: PoolLeakMessage[] = [];
    const onLeak = (m: unknown): void => {
      if ((m as PoolLeakMessage).name === 'leaky') events.push(m as PoolLeakMessage);
    };
    diagnosticsChannel.subscribe(POOL_LEAK_CHANNEL, onLeak);
    try {
      const client = await acquireForTheLeakTest(pool);
      await sleep(400);
      assert.equal(events.length, 1);
      const held = events[0] as PoolLeakMessage;
      assert.equal(held.phase, 'held');
      assert.ok(held.heldMs >= 120 && held.heldMs < 400, `held ${held.heldMs}`);
      assert.match(held.stack, /acquireForTheLeakTest .*pg-pool\.test\.ts:\d+:\d+/);
      assert.equal(watch.flush().values.leaked, 1);
      client.release();
      assert.equal(events.length, 2);
      const returned = events[1] as PoolLeakMessage;
      assert.equal(returned.phase, 'returned');
      assert.equal(returned.id, held.id);
      assert.ok(returned.heldMs >= 400);
      // A client returned in time is never reported.
      const quick = await pool.connect();
      quick.release();
      await sleep(200);
      assert.equal(events.length, 2);
    } finally {
      diagnosticsChannel.unsubscribe(POOL_LEAK_CHANNEL, onLeak);
      watch.stop();
      await pool.end();
    }
  });

  it('publishes stats on redline:pool:stats every interval, and stop() unhooks the pool', async () => {
    const pool = new pg.Pool({ connectionString: server.url, max: 2 });
    const watch = watchPool(pool, { intervalMs: 100, name: 'ticking' });
    assert.equal(watchPool(pool), watch, 'watching twice returns the first watch');
    const seen: PoolStatsMessage[] = [];
    const onStats = (m: unknown): void => {
      if ((m as PoolStatsMessage).name === 'ticking') seen.push(m as PoolStatsMessage);
    };
    diagnosticsChannel.subscribe(POOL_STATS_CHANNEL, onStats);
    try {
      await pool.query('SELECT 1');
      await sleep(350);
      assert.ok(seen.length >= 2, `${seen.length} messages`);
      const first = seen[0] as PoolStatsMessage;
      assert.ok(Math.abs(first.at - Date.now()) < 1000);
      assert.ok(first.intervalMs > 50 && first.intervalMs < 400);
      assert.equal(first.meta.driver, 'pg');
      watch.stop();
      assert.equal(Object.prototype.hasOwnProperty.call(pool, 'connect'), false, 'own connect wrapper removed');
      const count = seen.length;
      await sleep(250);
      assert.equal(seen.length, count);
    } finally {
      diagnosticsChannel.unsubscribe(POOL_STATS_CHANNEL, onStats);
      watch.stop();
      await pool.end();
    }
  });

  it('counts a connection that fails as an acquire error, not as an acquisition', async () => {
    const pool = new pg.Pool({ host: '127.0.0.1', port: 1, user: 'nobody', max: 1, connectionTimeoutMillis: 2000 });
    const watch = watchPool(pool);
    try {
      await assert.rejects(pool.query('SELECT 1'));
      const m = watch.flush();
      assert.equal(m.values.acquireErrors, 1);
      assert.equal(m.values.acquires, 0);
      assert.equal(m.values.waiting, 0);
    } finally {
      watch.stop();
      await pool.end();
    }
  });
});

async function acquireForTheLeakTest(pool: pg.Pool): Promise<pg.PoolClient> {
  return pool.connect();
}

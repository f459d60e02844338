import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../../../test-support/postgres.ts';

describe('the throw-away PostgreSQL harness', () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres({ maxConnections: 12, database: 'redline_test' });
  });
  after(async () => {
    await server?.stop();
  });

  it('serves a fresh database on loopback with the asked max_connections and no durability', async () => {
    assert.equal(server.host, '127.0.0.1');
    assert.ok(server.port > 0);
    assert.equal(server.url, `postgres://postgres@127.0.0.1:${server.port}/redline_test`);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const r = await client.query<{ db: string; max: string; fsync: string }>(
        "SELECT current_database() AS db, current_setting('max_connections') AS max, current_setting('fsync') AS fsync",
      );
      assert.deepEqual(r.rows[0], { db: 'redline_test', max: '12', fsync: 'off' });
    } finally {
      await client.end();
    }
  });

  it('reports the server version', () => {
    assert.ok(server.version >= 12, `version ${server.version}`);
  });

  it('stops the server and removes its directory, and stop() is idempotent', async () => {
    const other = await startPostgres();
    const client = new pg.Client({ host: other.host, port: other.port, user: other.user, database: other.database });
    await client.connect();
    await client.end();
    assert.ok(existsSync(other.dir));
    await other.stop();
    await other.stop();
    const again = new pg.Client({ host: other.host, port: other.port, user: other.user, database: other.database, connectionTimeoutMillis: 2000 });
    await assert.rejects(again.connect(), /ECONNREFUSED|terminat|timeout/i);
    assert.ok(!existsSync(other.dir));
  });

  it('rejects a max_connections outside 5..10000 with a RangeError naming the option', async () => {
    await assert.rejects(startPostgres({ maxConnections: 2 }), (err: unknown) => err instanceof RangeError && /maxConnections/.test(err.message));
  });
});

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { launchTarget, aggregateStats, collectLeaks, type TargetHandle } from '@redline/probe/host';
import type { StatsSeries } from '@redline/core';
import { startPostgres, type PostgresServer } from '../../../test-support/postgres.ts';
import { startMariaDb, type MariaDbServer } from '../../../test-support/mariadb.ts';

// mysql2, knex (tarn) and generic-pool pools in a service that imports them as ESM and never calls
// watchPool: the probe finds them through its require hook, against real MariaDB and PostgreSQL.
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const nowEpochMs = (): number => performance.timeOrigin + performance.now();
let pgServer: PostgresServer;
let maria: MariaDbServer;
let target: TargetHandle | undefined;
before(async () => {
  [pgServer, maria] = await Promise.all([startPostgres(), startMariaDb({ maxConnections: 50 })]);
});
after(async () => {
  await target?.stop();
  await Promise.all([pgServer?.stop(), maria?.stop()]);
});

const get = async (port: number, path: string): Promise<void> => {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(15_000) });
  assert.equal(res.status, 200, `${path}: ${await res.text()}`);
};

test('the probe watches mysql2, knex (tarn) and generic-pool pools with no code change: names, sizes, waiting, server limit, leaks', async () => {
  target = await launchTarget({
    command: 'node other-pools-service.mjs',
    cwd: fixtures,
    startTimeoutMs: 20_000,
    poolLeakMs: 400,
    env: { DATABASE_URL: pgServer.url, MYSQL_PORT: String(maria.port), POOL_MAX: '2' },
  });
  const port = target.port as number;
  const runStart = nowEpochMs();
  // 6 callers at once on pools of 2, each holding its connection 120 ms: three rounds, so 4 wait.
  for (const path of ['/mysql', '/knex', '/generic']) await Promise.all(Array.from({ length: 6 }, () => get(port, `${path}?ms=120`)));
  await get(port, '/mysql?ms=700'); // held past the 400 ms leak threshold
  await sleep(1400); // one more stats interval
  const pools = aggregateStats(target.stats(), 'redline:pool:stats', runStart, target.poolInfos());
  const byDriver = (d: string): StatsSeries => {
    const p = pools.find((x) => x.meta?.driver === d);
    assert.ok(p, `a ${d} pool among ${pools.map((x) => x.name).join(', ')}`);
    return p;
  };
  const total = (p: StatsSeries, k: string): number => p.samples.reduce((s, x) => s + (x.values[k] ?? 0), 0);
  const peak = (p: StatsSeries, k: string): number => Math.max(...p.samples.map((x) => x.values[k] ?? 0));

  const my = byDriver('mysql2');
  assert.equal(my.name, `mysql2 127.0.0.1:${maria.port}/mysql`);
  assert.equal(my.meta?.max, 2);
  assert.equal(my.serverMaxConnections, 50, 'read @@max_connections over its own connection');
  assert.equal(total(my, 'acquires'), 7, '6 + the leaked one, each counted once');
  const kx = byDriver('tarn');
  assert.equal(kx.name, `tarn 127.0.0.1:${pgServer.port}/postgres`, 'knex\'s pool is named after its connection');
  assert.equal(total(kx, 'acquires'), 6);
  const gp = byDriver('generic-pool');
  assert.equal(gp.name, 'generic-pool');
  assert.equal(total(gp, 'acquires'), 6);
  assert.equal(pools.length, 3, pools.map((p) => p.name).join(', '));
  for (const p of [my, kx, gp]) {
    assert.equal(peak(p, 'inUseMax'), 2, `${p.name} in use`);
    assert.ok(peak(p, 'waitingMax') >= 3, `${p.name} waiting max ${peak(p, 'waitingMax')}`);
    assert.ok(peak(p, 'waitMaxMs') >= 150, `${p.name} wait max ${peak(p, 'waitMaxMs')}`);
    assert.equal(total(p, 'releases'), total(p, 'acquires'), `${p.name} gave every connection back`);
  }
  const leaks = collectLeaks(target.poolLeaks(), runStart);
  assert.equal(leaks.length, 1, JSON.stringify(leaks));
  assert.equal(leaks[0]!.pool, my.name);
  assert.equal(leaks[0]!.returned, true);
  assert.match(leaks[0]!.stack, /holdMysql .*other-pools-service\.mjs:\d+:\d+/);
});

// pool-wait on services that use mysql2 (real MariaDB) or knex (real PostgreSQL) and never call
// watchPool: the probe watches their pools by itself, so the finding names them and sizes them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Finding, RunResult } from '@redline/core';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';
import { startPostgres, type PostgresServer } from '../../../test-support/postgres.ts';
import { startMariaDb, type MariaDbServer } from '../../../test-support/mariadb.ts';

const SERVICE = fileURLToPath(new URL('./fixtures/other-pools-service.mjs', import.meta.url));
let pgServer: PostgresServer;
let maria: MariaDbServer;
before(async () => {
  [pgServer, maria] = await Promise.all([startPostgres(), startMariaDb({ maxConnections: 60 })]);
});
after(async () => {
  await Promise.all([pgServer?.stop(), maria?.stop()]);
});

async function run(env: Record<string, string>): Promise<RunResult> {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-other-pools-'));
  const out = join(cwd, 'run');
  const assignments = Object.entries({ DATABASE_URL: pgServer.url, MYSQL_PORT: String(maria.port), POOL_MAX: '3', HOLD_MS: '300', ...env }).map(([k, v]) => `${k}=${v}`).join(' ');
  const io = fakeIo(['run', '--url', '/', '--rate', '20', '--duration', '4s', '--max-vus', '200', '--timeout', '10s', '--target', `${assignments} "${process.execPath}" ${SERVICE}`, '--out', out, '--no-report', '--workers', '1'], cwd);
  const code = await main(io);
  assert.ok(code === 0 || code === 99, `exit ${code}: ${io.stderrText()}`);
  return JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
}

const titles = (fs: Finding[]): string => fs.map((f) => `${f.severity} ${f.category}: ${f.title}`).join('\n');
const needed = (f: Finding): number => f.evidence.find((e) => e.metric === 'pool.needed_size')?.value ?? Number.NaN;

test('mysql2: pool-wait names the auto-watched pool, its size, and sizes it against MariaDB\'s max_connections', async () => {
  const result = await run({ MODE: 'mysql' });
  const top = result.findings[0];
  assert.equal(top?.category, 'pool-wait', titles(result.findings));
  assert.match(top.title, new RegExp(`mysql2 pool "mysql2 127\\.0\\.0\\.1:${maria.port}/mysql" \\(max 3\\)`));
  assert.equal(result.target?.pools?.[0]?.serverMaxConnections, 60);
  assert.match(top.recommendation, /the database allows 60/);
  // 20 acquisitions/s × ≥ 300 ms held: about 6 clients.
  assert.ok(needed(top) >= 5.5 && needed(top) <= 8, `Little's law hint ${needed(top)}`);
  assert.match(top.recommendation, /raise max from 3 to at least \d+/);
});

test('knex: pool-wait names knex\'s tarn pool after its connection string', async () => {
  const result = await run({ MODE: 'knex' });
  const top = result.findings[0];
  assert.equal(top?.category, 'pool-wait', titles(result.findings));
  assert.match(top.title, new RegExp(`tarn pool "tarn 127\\.0\\.0\\.1:${pgServer.port}/postgres" \\(max 3\\)`));
  assert.ok(needed(top) >= 5.5 && needed(top) <= 8, `Little's law hint ${needed(top)}`);
});

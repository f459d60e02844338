// `redline demo --bottleneck n-plus-one|slow-query --trace` end to end through main(): the real demo
// service with the probe and Redline's tracing preload, a short real load, the trace analysis and the
// doctor. The database is a throw-away real PostgreSQL (REDLINE_DEMO_PG_URL; the demo itself uses
// PGlite, whose first start on a fresh machine takes 20–30 s).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Finding, RunResult } from '@redline/core';
import pg from 'pg';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';
import { startPostgres, type PostgresServer } from '../../../test-support/postgres.ts';

let db: PostgresServer;
let dir = '';
const ENV_KEY = 'REDLINE_DEMO_PG_URL';
const previous = process.env[ENV_KEY];

before(async () => {
  db = await startPostgres();
  // The slow-query demo's table (150,000 rows), filled here so its own start-up skips the insert.
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query(`CREATE TABLE activity_log (id serial PRIMARY KEY, payload text NOT NULL);
    INSERT INTO activity_log (payload) SELECT md5(g::text) || ' k' || (g % 997) || 'x ' || repeat('p', 80) FROM generate_series(1, 150000) g`);
  await c.end();
  // The launched demo service inherits the runner's environment.
  process.env[ENV_KEY] = db.url;
  dir = await mkdtemp(join(tmpdir(), 'redline-demo-trace-'));
});

after(async () => {
  if (previous === undefined) delete process.env[ENV_KEY];
  else process.env[ENV_KEY] = previous;
  await db?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function demo(bottleneck: string, rate: number): Promise<RunResult> {
  const out = join(dir, bottleneck);
  const io = fakeIo(['demo', '--bottleneck', bottleneck, '--trace', '--rate', String(rate), '--duration', '6s', '--out', out, '--no-report', '--workers', '0'], dir);
  const code = await main(io);
  assert.equal(code, 0, io.stderrText());
  return JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
}

const describe = (fs: Finding[]): string => fs.map((f) => `${f.severity} ${f.category}: ${f.title}`).join('\n');

test('demo n-plus-one --trace: the top finding is n-plus-one, naming the per-order statement, k = 20 and the calling function', async () => {
  const result = await demo('n-plus-one', 4);
  const top = result.findings[0];
  assert.equal(top?.category, 'n-plus-one', describe(result.findings));
  assert.match(top.title, /"SELECT … FROM order_items WHERE order_id = \$1" 20× per request/);
  assert.match(top.title, /loadOrdersWithItems \(src\/bottlenecks\/n-plus-one\.ts:\d+\)/, top.title);
  assert.equal(top.frames[0]?.functionName, 'loadOrdersWithItems');
  assert.match(top.recommendation, /WHERE order_id = ANY\(\$1\)/);
});

test('demo slow-query --trace: the top finding is slow-query, naming the LIKE scan and the calling function', async () => {
  const result = await demo('slow-query', 3);
  const top = result.findings[0];
  assert.equal(top?.category, 'slow-query', describe(result.findings));
  assert.match(top.title, /"SELECT … FROM activity_log WHERE payload LIKE \$1"/);
  assert.match(top.title, /searchActivity \(src\/bottlenecks\/slow-query\.ts:\d+\)/, top.title);
  assert.equal(top.frames[0]?.functionName, 'searchActivity');
});

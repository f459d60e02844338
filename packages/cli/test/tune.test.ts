// `redline tune` end to end through main(): real stage modules against a real throw-away PostgreSQL
// and a real redis-server, the recommendation and the files; and a stage module with an export missing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TuneResult } from '@redline/capacity';
import { startPostgres, type PostgresServer } from '../../../test-support/postgres.ts';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

const examples = resolve(import.meta.dirname, '../../../examples/tune');
let pg: PostgresServer;

before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.stop();
});

async function tune(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; out: string }> {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-tune-'));
  const out = join(cwd, 'out');
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(env)) {
    saved[k] = process.env[k];
    process.env[k] = v;
  }
  try {
    const io = fakeIo(['tune', ...args, '--out', out], cwd);
    const code = await main(io);
    return { code, stdout: io.stdoutText(), stderr: io.stderrText(), out };
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

test('tune recommends a batch size for multi-row INSERTs into a real PostgreSQL, searching part of the grid', async () => {
  const r = await tune([join(examples, 'postgres-rows.ts'), '--slo', 'p(99)<2000', '--max-batch', '64', '--max-concurrency', '2', '--duration', '300ms'], { PG_MODE: 'multi', PG_URL: pg.url });
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(await readFile(join(r.out, 'tune.json'), 'utf8')) as TuneResult;
  assert.equal(result.gridSize, 14);
  assert.ok(result.measurements.length < result.gridSize, `searched ${result.measurements.length} of ${result.gridSize}`);
  assert.ok(result.best, 'a configuration met the SLO');
  assert.ok(result.best.batchSize > 1, `multi-row INSERT gains from batching: best batch ${result.best.batchSize}`);
  for (const m of result.measurements) assert.ok(m.records > 0, `batch ${m.batchSize} × ${m.concurrency} completed records`);
  assert.match(r.stdout, /recommended: batch \d+ × concurrency \d+: \d+ records\/s, p99/);
  assert.match(await readFile(join(r.out, 'tune.svg'), 'utf8'), /Throughput vs batch size/);
  const count = await fetchCount(pg.url);
  assert.ok(count > 0, 'rows landed in the table');
});

test('tune with COPY and --grid measures every configuration', async () => {
  const r = await tune([join(examples, 'postgres-rows.ts'), '--slo', 'p(99)<2000', '--max-batch', '8', '--max-concurrency', '1', '--duration', '200ms', '--grid'], { PG_MODE: 'copy', PG_URL: pg.url });
  assert.equal(r.code, 0, r.stderr);
  const result = JSON.parse(await readFile(join(r.out, 'tune.json'), 'utf8')) as TuneResult;
  assert.equal(result.mode, 'grid');
  assert.deepEqual(result.measurements.map((m) => m.batchSize), [1, 2, 4, 8]);
});

test('tune drives a real redis-server with pipelining', async () => {
  const r = await tune([join(examples, 'redis-pipeline.ts'), '--slo', 'p(99)<2000', '--max-batch', '16', '--max-concurrency', '1', '--duration', '200ms'], { REDIS_MODE: 'pipeline' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /recommended: batch/);
});

test('a stage module with a missing export exits 2 naming it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-tune-bad-'));
  const file = join(dir, 'stage.mjs');
  await writeFile(file, 'export function setup() {}\nexport function stage() {}\n');
  const r = await tune([file, '--slo', 'p(99)<500']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `redline: ${file} does not export records(): a stage module exports setup(), stage(batch) and records()\n`);
  const file2 = join(dir, 'stage2.mjs');
  await writeFile(file2, 'export const setup = 1;\nexport function stage() {}\nexport function records() { return []; }\n');
  const r2 = await tune([file2, '--slo', 'p(99)<500']);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /exports a number as setup\(\)/);
});

test('tune without --slo exits 2', async () => {
  const r = await tune([join(examples, 'redis-pipeline.ts')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--slo is required/);
});

async function fetchCount(url: string): Promise<number> {
  const { default: pgLib } = await import('pg');
  const client = new pgLib.Client({ connectionString: url });
  await client.connect();
  try {
    const res = await client.query<{ n: string }>('SELECT count(*) AS n FROM tune_rows');
    return Number(res.rows[0]!.n);
  } finally {
    await client.end();
  }
}

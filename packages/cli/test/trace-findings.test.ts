// Each trace finding is the top finding on a service built for it, against a real PostgreSQL; none of
// them fires on a healthy pg-backed service. The services are real processes launched with --trace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { quickPlan } from '@redline/load';
import { runSession } from '../src/session.js';
import { startPostgres, type PostgresServer } from '../../../test-support/postgres.ts';

const SERVICE = fileURLToPath(new URL('../../trace/test/fixtures/pg-service.mjs', import.meta.url));
let db: PostgresServer;
let upstream: Server;
let upstreamUrl = '';
let dir = '';

before(async () => {
  db = await startPostgres();
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query(`
    CREATE TABLE orders (id int PRIMARY KEY, user_id int NOT NULL, total numeric NOT NULL);
    CREATE INDEX ON orders (user_id);
    CREATE TABLE items (id serial PRIMARY KEY, order_id int NOT NULL, name text NOT NULL);
    CREATE INDEX ON items (order_id);
    CREATE TABLE events (id serial PRIMARY KEY, payload text NOT NULL);
    INSERT INTO orders SELECT g, g % 100, g * 1.5 FROM generate_series(1, 1000) g;
    INSERT INTO items (order_id, name) SELECT (g % 1000) + 1, 'item ' || g FROM generate_series(1, 3000) g;
    INSERT INTO events (payload) SELECT md5(g::text) || ' k' || (g % 997) || 'x ' || repeat('p', 80) FROM generate_series(1, 150000) g;
    ANALYZE;
  `);
  await c.end();
  upstream = createServer((req, res) => {
    // A slow upstream: 40 ms per quote.
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ price: 42, path: req.url }));
    }, 40);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  dir = await mkdtemp(join(tmpdir(), 'redline-trace-findings-'));
});

after(async () => {
  upstream?.close();
  await db?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

// Closed models with few VUs: the planted problem shows the same on a quiet or a very busy machine
// (an open model at a fixed rate would overload a starved target and turn every case into queueing).
async function traced(mode: string, vus: number, durationS = 8): Promise<Awaited<ReturnType<typeof runSession>>> {
  const env: Record<string, string | undefined> = {};
  return runSession({
    cwd: dir,
    outDir: join(dir, mode),
    env,
    workers: 1,
    report: false,
    trace: {},
    target: { kind: 'launch', command: `PG_URL=${db.url} UPSTREAM_URL=${upstreamUrl} "${process.execPath}" "${SERVICE}" ${mode}`, cwd: dir },
    plan: async ({ url }) => quickPlan({ url: `${url}/x`, vus, duration: `${durationS}s` }, { name: mode }),
  });
}

function categories(o: Awaited<ReturnType<typeof runSession>>): string[] {
  return o.result.findings.map((f) => `${f.category}:${f.severity}`);
}

const TRACE_CATEGORIES = ['n-plus-one', 'slow-query', 'slow-downstream', 'server-queueing'];

test('N+1: the per-order query is the top finding, with k and the batched form', async () => {
  const o = await traced('n-plus-one', 2);
  const top = o.result.findings[0]!;
  assert.equal(top.category, 'n-plus-one', categories(o).join(', '));
  assert.match(top.title, /runs "SELECT … FROM items WHERE order_id = \$1" 10× per request, one after another/);
  assert.match(top.recommendation, /WHERE order_id = ANY\(\$1\)/);
  const file = JSON.parse(await readFile(join(o.runDir, 'traces.json'), 'utf8')) as { analysis: { byName: Record<string, { statements: Array<{ key: string; countMedian: number; countMax: number }> }> } };
  const st = file.analysis.byName['GET /x']!.statements.find((s) => s.key === 'SELECT … FROM items WHERE order_id = $1');
  assert.equal(st?.countMedian, 10);
  assert.equal(st?.countMax, 10);
  const otlp = JSON.parse(await readFile(join(o.runDir, 'traces.otlp.json'), 'utf8')) as { resourceSpans: unknown[] };
  assert.ok(otlp.resourceSpans.length > 0);
});

test('slow query: the unindexed LIKE scan is the top finding with its own percentiles', async () => {
  const o = await traced('slow-query', 2);
  const top = o.result.findings[0]!;
  assert.equal(top.category, 'slow-query', categories(o).join(', '));
  assert.match(top.title, /"SELECT … FROM events WHERE payload LIKE \$1"/);
  assert.match(top.title, /own latency p50 [\d.]+ ms, p99 [\d.]+ ms/);
});

test('slow downstream: the upstream host:port route is the top finding', async () => {
  const o = await traced('slow-downstream', 2);
  const top = o.result.findings[0]!;
  assert.equal(top.category, 'slow-downstream', categories(o).join(', '));
  assert.ok(top.title.includes(`"GET ${upstreamUrl.slice('http://'.length)} /quote/:id"`), top.title);
});

test('server queueing: time before the handler dominates the tail; top finding unless cpu-saturated (its cause) ranks above it', async () => {
  const o = await traced('server-queueing', 8);
  // The traced service can also run out of CPU (tracing costs it ~60 % of its capacity here): then
  // cpu-saturated is the cause and ranks above the queueing it produces (causes above symptoms).
  const cats = categories(o);
  const queueing = o.result.findings.find((f) => f.category === 'server-queueing');
  assert.ok(queueing !== undefined, cats.join(', '));
  assert.ok(o.result.findings[0] === queueing || o.result.findings[0]!.category === 'cpu-saturated', cats.join(', '));
  assert.match(queueing.title, /waits [\d.]+ ms \(\d+% of/);
});

test('a healthy pg-backed service gets none of the trace findings', async (t) => {
  const o = await traced('healthy', 2);
  const hits = o.result.findings.filter((f) => TRACE_CATEGORIES.includes(f.category));
  assert.deepEqual(hits.map((f) => f.title), []);
  // The leak evidence's forced full GCs ran (their pauses are left out of the loop and CPU figures).
  assert.ok((o.result.target?.fullGcs?.length ?? 0) >= 1, `forced full GCs: ${JSON.stringify(o.result.target?.fullGcs)}`);
  const file = JSON.parse(await readFile(join(o.runDir, 'traces.json'), 'utf8')) as { analysis: { byName: Record<string, { traced: number; untraced: number }> }; records: Array<{ reason: string }>; receiver: unknown; sampleRatio: number };
  const x = file.analysis.byName['GET /x']!;
  const why = `traced ${x.traced}, untraced ${x.untraced}, records ${file.records.length} (${file.records.filter((r) => r.reason === 'baseline').length} baseline), sampled share ${file.sampleRatio}, receiver ${JSON.stringify(file.receiver)}`;
  t.diagnostic(why);
  assert.ok(x.traced >= 20, why);
});

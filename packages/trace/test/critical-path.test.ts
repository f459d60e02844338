import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTraces, breakdownRequest, buildTree, criticalPath, normalizeSql, operationOf, type ClientRecord, type Span } from '@redline/trace';

const T0 = 1_700_000_000_000;
const TRACE = 'a'.repeat(32);
let seq = 0;

function span(name: string, start: number, end: number, parent: Span | string | null, over: Partial<Span> = {}): Span {
  return {
    traceId: TRACE,
    spanId: (++seq).toString(16).padStart(16, '0'),
    parentSpanId: parent === null ? null : typeof parent === 'string' ? parent : parent.spanId,
    name,
    kind: 1,
    startMs: T0 + start,
    endMs: T0 + end,
    attributes: {},
    service: 'svc',
    scope: 'test',
    statusCode: 0,
    ...over,
  };
}

const GENERATOR_SPAN = 'f'.repeat(16);

function server(start: number, end: number, over: Partial<Span> = {}): Span {
  return span('GET /x', start, end, GENERATOR_SPAN, { kind: 2, ...over });
}

function db(sql: string, start: number, end: number, parent: Span): Span {
  return span('pg.query:SELECT', start, end, parent, { kind: 3, attributes: { 'db.system': 'postgresql', 'db.statement': sql } });
}

/** ms of critical path per span name. */
function shares(spans: Span[]): Record<string, number> {
  const tree = buildTree(spans);
  assert.ok(tree);
  const out: Record<string, number> = {};
  for (const seg of criticalPath(tree)) out[seg.span.name] = Math.round(((out[seg.span.name] ?? 0) + seg.endMs - seg.startMs) * 1000) / 1000;
  return out;
}

test('nested spans: each span owns the time its children do not cover', () => {
  const root = server(0, 100);
  const a = span('A', 10, 60, root);
  const q = span('Q', 20, 50, a);
  assert.deepEqual(shares([root, a, q]), { 'GET /x': 50, A: 20, Q: 30 });
});

test('overlapping async siblings: the later-finishing one owns the overlap, the other only its earlier part', () => {
  const root = server(0, 100);
  const a = span('A', 10, 50, root);
  const b = span('B', 30, 80, root);
  assert.deepEqual(shares([root, a, b]), { 'GET /x': 30, B: 50, A: 20 });
});

test('fan-out: of parallel children started together only the last to finish is on the path', () => {
  const root = server(0, 100);
  const kids = [40, 60, 50, 30, 45].map((end, i) => span(`C${i}`, 10, end, root));
  assert.deepEqual(shares([root, ...kids]), { 'GET /x': 50, C1: 50 });
});

test('a child that overflows its parent counts only until the parent ended', () => {
  const root = server(0, 100);
  const a = span('A', 50, 150, root);
  assert.deepEqual(shares([root, a]), { 'GET /x': 50, A: 50 });
});

test('missing parents: orphans are adopted under the innermost span enclosing their start', () => {
  const root = server(0, 100);
  const x = span('X', 20, 40, 'dead00000000beef');
  const a = span('A', 50, 90, root);
  const y = span('Y', 60, 70, 'dead00000000bee0');
  const tree = buildTree([y, a, x, root]);
  assert.equal(tree?.root, root);
  assert.equal(tree?.adopted, 2);
  assert.deepEqual(shares([root, x, a, y]), { 'GET /x': 40, A: 30, Y: 10, X: 20 });
});

test('the segments tile the root exactly, also for a deep chain and a wide fan-out', () => {
  const root = server(0, 1000);
  const spans: Span[] = [root];
  let parent = root;
  for (let i = 0; i < 2000; i++) {
    const s = span(`d${i}`, i * 0.1 + 0.05, 1000 - i * 0.1 - 0.05, parent);
    spans.push(s);
    parent = s;
  }
  for (let i = 0; i < 3000; i++) spans.push(span(`w${i}`, (i % 97) * 2, (i % 97) * 2 + 1.5, root));
  const tree = buildTree(spans);
  assert.ok(tree);
  const total = criticalPath(tree).reduce((a, s) => a + s.endMs - s.startMs, 0);
  assert.ok(Math.abs(total - 1000) < 1e-6, `total ${total}`);
});

test('a request breaks down into backlog, before-handler, critical path and after-handler, adding up to its latency', () => {
  const root = server(3, 103);
  const q = db('SELECT id, total FROM orders WHERE id = $1', 10, 70, root);
  const rec: ClientRecord = { traceId: TRACE, name: 'GET /x', latencyMs: 115, sentAtMs: T0, endAtMs: T0 + 110, delayMs: 5, status: 200 };
  const b = breakdownRequest(rec, [root, q]);
  const got = Object.fromEntries([...b.parts.values()].map((p) => [p.op.kind, Math.round(p.ms * 1000) / 1000]));
  assert.deepEqual(got, { 'send-delay': 5, 'before-handler': 3, handler: 40, db: 60, 'after-handler': 7 });
  assert.equal([...b.parts.values()].reduce((a, p) => a + p.ms, 0), 115);
  assert.equal([...b.parts.keys()].includes('SELECT … FROM orders WHERE id = $1'), true);
});

test('N+1: the same statement with different literals is counted exactly and seen as sequential', () => {
  const root = server(0, 200);
  const spans: Span[] = [root, db('SELECT * FROM orders WHERE user_id = 42', 1, 5, root)];
  for (let i = 0; i < 12; i++) spans.push(db(`SELECT * FROM items WHERE order_id = ${i + 100}`, 10 + i * 10, 18 + i * 10, root));
  spans.push(db("SELECT name FROM tags WHERE label = 'a'", 150, 160, root), db("SELECT name FROM tags WHERE label = 'b'", 155, 165, root));
  const b = breakdownRequest({ traceId: TRACE, name: 'GET /x', latencyMs: 200, sentAtMs: T0, endAtMs: T0 + 200, delayMs: 0, status: 200 }, spans);
  const items = b.statements.get('SELECT … FROM items WHERE order_id = ?');
  assert.deepEqual(items, { key: 'SELECT … FROM items WHERE order_id = ?', count: 12, totalMs: 96, sequential: true });
  assert.equal(b.statements.get('SELECT … FROM tags WHERE label = ?')?.sequential, false);
  assert.equal(b.statements.get('SELECT … FROM orders WHERE user_id = ?')?.count, 1);
});

test('normalizeSql groups statements by shape', () => {
  assert.equal(normalizeSql('SELECT id, total\n  FROM orders WHERE id = $1'), 'SELECT … FROM orders WHERE id = $1');
  assert.equal(normalizeSql("select * from t where a in (1, 2, 3) and b = 'x''y' -- note"), 'select … from t where a IN (…) and b = ?');
  assert.equal(normalizeSql('INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6);'), 'INSERT INTO t (a, b) VALUES ($1, $2), …');
});

test('operations: pool waits, downstream host:port route, DNS and the handler each get their own key', () => {
  const root = server(0, 10);
  assert.deepEqual(operationOf(span('pg-pool.connect', 0, 1, root)), { kind: 'pool', key: 'pg-pool connect' });
  const down = span('GET', 0, 1, root, { kind: 3, attributes: { 'http.request.method': 'GET', 'url.full': 'http://127.0.0.1:9000/rates/123?x=1' } });
  assert.deepEqual(operationOf(down), { kind: 'downstream', key: 'GET 127.0.0.1:9000 /rates/:id' });
  assert.deepEqual(operationOf(span('dns.lookup', 0, 1, root)), { kind: 'dns', key: 'DNS lookup' });
  assert.deepEqual(operationOf(root), { kind: 'handler', key: 'handler (own code)' });
});

function record(i: number, latencyMs: number): ClientRecord {
  return { traceId: i.toString(16).padStart(32, '0'), name: 'GET /x', latencyMs, sentAtMs: T0 + i * 1000, endAtMs: T0 + i * 1000 + latencyMs, delayMs: 0, status: 200 };
}

test('tail versus median: the extra time of the tail is attributed to the operation that grew', () => {
  const records: ClientRecord[] = [];
  const spans: Span[] = [];
  for (let i = 0; i < 100; i++) {
    const slow = i >= 98;
    const lat = slow ? 220 : 50 + (i % 10) * 0.2;
    const r = record(i, lat);
    records.push(r);
    const t = i * 1000;
    const root = server(t + 1, t + lat - 1, { traceId: r.traceId });
    const pool = span('pg-pool.connect', t + 2, t + 2 + (slow ? 160 : 1), root, { traceId: r.traceId });
    const q0 = pool.endMs - T0;
    const q = db('SELECT id FROM orders WHERE id = $1', q0, q0 + (slow ? 40 : 10), root);
    q.traceId = r.traceId;
    spans.push(root, pool, q);
  }
  const a = analyzeTraces(records, spans, { percentiles: { 'GET /x': { p50Ms: 51, p99Ms: 200 } } });
  const n = a.byName['GET /x'];
  assert.ok(n);
  assert.equal(n.tail.count, 2);
  assert.equal(n.baseline.count > 40, true);
  assert.equal(n.delta[0]?.key, 'pg-pool connect');
  assert.ok(Math.abs(n.delta[0]!.deltaMs - 159) < 0.01, String(n.delta[0]!.deltaMs));
  assert.equal(n.delta[1]?.key, 'SELECT … FROM orders WHERE id = $1');
  assert.ok(Math.abs(n.delta[1]!.deltaMs - 30) < 0.01);
  const sum = n.delta.reduce((x, d) => x + d.deltaMs, 0);
  assert.ok(Math.abs(sum - (n.tail.meanLatencyMs - n.baseline.meanLatencyMs)) < 1e-3, `${sum} vs ${n.tail.meanLatencyMs - n.baseline.meanLatencyMs} ${JSON.stringify(n.delta)}`);
  assert.match(n.headline, /^tail − median = 169 ms: pg-pool connect \+159 ms, SELECT … FROM orders WHERE id = \$1 \+30\.0 ms/);
  assert.equal(n.slowestTraceId, records[99]!.traceId);
  assert.equal(a.clockSkewMs, null);
});

test('clock skew: server spans shifted off the client window are detected and corrected by the nearest consistent offset', () => {
  const records: ClientRecord[] = [];
  const spans: Span[] = [];
  for (let i = 0; i < 20; i++) {
    const r = record(i, 30);
    records.push(r);
    spans.push(server(i * 1000 + 2 + 50, i * 1000 + 28 + 50, { traceId: r.traceId }));
  }
  const a = analyzeTraces(records, spans);
  // Spans [52, 78] ms inside a client window [0, 30]: any offset in [48, 52] fits; 48 is nearest to 0.
  assert.equal(a.clockSkewMs, 48);
  assert.equal(a.outsideWindowShare, 1);
  const ops = a.byName['GET /x']!.baseline.ops;
  assert.equal(ops.find((o) => o.kind === 'before-handler')?.meanMs, 4);
  assert.equal(ops.find((o) => o.kind === 'handler')?.meanMs, 26);
});

test('server spans that start late (queueing) are no clock skew', () => {
  const records: ClientRecord[] = [];
  const spans: Span[] = [];
  for (let i = 0; i < 40; i++) {
    const r = record(i, 60);
    records.push(r);
    // Waited 10–50 ms before the handler; a few end up to 3 ms past the client's end (clock jitter).
    spans.push(server(i * 1000 + 10 + i, i * 1000 + 58 + (i % 10 === 0 ? 3 : 0), { traceId: r.traceId }));
  }
  assert.equal(analyzeTraces(records, spans).clockSkewMs, null);
});

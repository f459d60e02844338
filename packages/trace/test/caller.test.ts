// The calling code of database spans: the preload's stack reading, and the analysis naming the most
// frequent caller per statement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTraces, type Span } from '@redline/trace';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applicationFrame, callerOfCurrentStack } from '../src/caller.cjs';

test('applicationFrame skips node internals, node_modules and Redline in-target libraries', () => {
  const stack = [
    'Error',
    '    at Object.onStart (/app/node_modules/@redline/trace/dist/caller.cjs:40:13)',
    '    at Client.query (/repo/packages/pool/dist/adapters/pg.js:62:20)',
    '    at Client.query (/app/node_modules/@opentelemetry/instrumentation-pg/build/src/instrumentation.js:300:27)',
    '    at node:internal/process/task_queues:95:5',
    '    at async loadOrdersWithItems (file:///app/dist/orders.js:21:31)',
    '    at handler (/app/dist/server.js:5:3)',
  ].join('\n');
  assert.deepEqual(applicationFrame(stack), { functionName: 'loadOrdersWithItems', file: '/app/dist/orders.js', line: 21, column: 31 });
  assert.deepEqual(applicationFrame('    at /app/dist/x.js:1:2'), { functionName: '(anonymous)', file: '/app/dist/x.js', line: 1, column: 2 });
  assert.equal(applicationFrame('    at f (/app/node_modules/pg/lib/client.js:1:1)\n    at node:net:1:1'), null);
  assert.equal(applicationFrame('    at g (/preload/dir/register.cjs:3:4)', ['/preload/dir']), null);
});

// The capture the preload uses: V8's structured call sites, nothing formatted but the chosen frame.
function captureHere(skip: readonly string[] = []): ReturnType<typeof callerOfCurrentStack> {
  return callerOfCurrentStack(skip, captureHere);
}
function loadOrders(): ReturnType<typeof callerOfCurrentStack> {
  return captureHere();
}
class OrdersRepo {
  load(): ReturnType<typeof callerOfCurrentStack> {
    return captureHere();
  }
}

test('callerOfCurrentStack names the first application frame from structured call sites, and leaves the stack settings as it found them', () => {
  const here = fileURLToPath(import.meta.url);
  const f = loadOrders();
  assert.equal(f?.functionName, 'loadOrders');
  assert.equal(f?.file, here);
  assert.ok(f!.line > 0 && f!.column > 0, `line ${f?.line}, column ${f?.column}`);
  assert.equal(new OrdersRepo().load()?.functionName, 'OrdersRepo.load');
  // Every frame skipped (this directory, node_modules, node internals): no caller.
  assert.equal(captureHere([dirname(here)]), null);
  // A prepareStackTrace the application installed (source-map-support does) is back in place, and the limit too.
  const mine = (): string => 'mine';
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  Error.prepareStackTrace = mine;
  Error.stackTraceLimit = 3;
  try {
    assert.equal(loadOrders()?.functionName, 'loadOrders');
    assert.equal(Error.prepareStackTrace, mine);
    assert.equal(Error.stackTraceLimit, 3);
    assert.equal(new Error('x').stack, 'mine');
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
});

test('each statement names the caller most of its spans carry', () => {
  const spans: Span[] = [];
  const records = [];
  for (let i = 0; i < 20; i++) {
    const traceId = `c0ffee00${i.toString(16).padStart(24, '0')}`;
    const t0 = i * 100;
    records.push({ traceId, name: 'GET /x', latencyMs: 12, sentAtMs: t0, endAtMs: t0 + 12, delayMs: 0, status: 200, reason: i % 2 ? ('tail' as const) : ('baseline' as const) });
    spans.push({ traceId, spanId: `a${i.toString(16).padStart(15, '0')}`, parentSpanId: '1000000000000001', name: 'GET', kind: 2, startMs: t0 + 1, endMs: t0 + 11, attributes: {}, service: 's', scope: 'test', statusCode: 0 });
    for (let k = 0; k < 3; k++) {
      const caller = k < 2 ? { 'code.function.name': 'loadItems', 'code.file.path': '/app/dist/items.js', 'code.line.number': 7, 'code.column.number': 9 } : { 'code.function.name': 'other', 'code.file.path': '/app/dist/o.js', 'code.line.number': 1, 'code.column.number': 1 };
      spans.push({ traceId, spanId: `b${i.toString(16).padStart(7, '0')}${k.toString(16).padStart(8, '0')}`, parentSpanId: `a${i.toString(16).padStart(15, '0')}`, name: 'pg.query:SELECT', kind: 3, startMs: t0 + 2 + k * 3, endMs: t0 + 4 + k * 3, attributes: { 'db.system': 'postgresql', 'db.statement': 'SELECT name FROM items WHERE order_id = $1', ...caller }, service: 's', scope: 'test', statusCode: 0 });
    }
  }
  const a = analyzeTraces(records, spans);
  const st = a.byName['GET /x']!.statements.find((s) => s.key === 'SELECT … FROM items WHERE order_id = $1');
  assert.deepEqual(st?.caller, { functionName: 'loadItems', file: '/app/dist/items.js', line: 7, column: 9 });
});

/**
 * Critical-path analysis speed: `analyzeTraces` over 100,000 spans, in two shapes run in the same
 * process: (a) 2,000 requests of 50 spans each (a handler with an N+1 loop and overlapping async
 * siblings, what a traced run keeps), (b) one request of 100,000 spans (a 2,000-deep chain plus a
 * 98,000-wide fan-out, the worst case for the walk). Reports the best of 5 runs of each.
 * Target: ≤ 2 s for 100,000 spans. Usage: node --import tsx bench/trace-critical-path.bench.ts
 */
import { analyzeTraces, type ClientRecord, type Span } from '@redline/trace';

const T0 = 1_800_000_000_000;
let seq = 0;

function span(traceId: string, name: string, start: number, end: number, parent: string | null, kind = 1, attributes: Span['attributes'] = {}): Span {
  return { traceId, spanId: (++seq).toString(16).padStart(16, '0'), parentSpanId: parent, name, kind, startMs: T0 + start, endMs: T0 + end, attributes, service: 'bench', scope: 'bench', statusCode: 0 };
}

function manyRequests(requests: number, spansEach: number): { records: ClientRecord[]; spans: Span[] } {
  const records: ClientRecord[] = [];
  const spans: Span[] = [];
  for (let r = 0; r < requests; r++) {
    const traceId = r.toString(16).padStart(32, '0');
    const t = r * 100;
    const lat = 40 + (r % 97) * 0.5;
    records.push({ traceId, name: r % 2 ? 'GET /orders' : 'GET /users', latencyMs: lat, sentAtMs: T0 + t, endAtMs: T0 + t + lat, delayMs: 0, status: 200 });
    const root = span(traceId, 'GET', t + 1, t + lat - 1, 'f'.repeat(16), 2);
    spans.push(root);
    const per = (lat - 4) / (spansEach - 1);
    for (let i = 0; i < spansEach - 1; i++) {
      // Sequential queries with every fifth one overlapping its neighbour.
      const s = t + 2 + i * per;
      spans.push(span(traceId, 'pg.query:SELECT', s, s + per * (i % 5 === 0 ? 1.6 : 0.9), root.spanId, 3, { 'db.system': 'postgresql', 'db.statement': `SELECT * FROM items WHERE order_id = ${i}` }));
    }
  }
  return { records, spans };
}

function oneHugeRequest(total: number): { records: ClientRecord[]; spans: Span[] } {
  const traceId = 'e'.repeat(32);
  const spans: Span[] = [];
  const root = span(traceId, 'GET', 0, 10_000, 'f'.repeat(16), 2);
  spans.push(root);
  let parent = root;
  for (let i = 0; i < 2000; i++) {
    const s = span(traceId, `step ${i % 10}`, 1 + i * 0.5, 10_000 - 1 - i * 0.5, parent.spanId);
    spans.push(s);
    parent = s;
  }
  while (spans.length < total) {
    const i = spans.length;
    spans.push(span(traceId, 'fan', (i * 7) % 9000, ((i * 7) % 9000) + 3 + (i % 11), root.spanId, 3, { 'db.system': 'postgresql', 'db.statement': 'SELECT 1' }));
  }
  return { records: [{ traceId, name: 'GET /huge', latencyMs: 10_002, sentAtMs: T0 - 1, endAtMs: T0 + 10_001, delayMs: 0, status: 200 }], spans };
}

function best(label: string, input: { records: ClientRecord[]; spans: Span[] }): number {
  let min = Infinity;
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const a = analyzeTraces(input.records, input.spans);
    const ms = performance.now() - t;
    if (Object.keys(a.byName).length === 0) throw new Error('analysis produced nothing');
    min = Math.min(min, ms);
  }
  console.log(`${label}: ${input.spans.length} spans in ${min.toFixed(0)} ms (best of 5) → ${((input.spans.length / min) * 1000).toFixed(0)} spans/s`);
  return min;
}

const a = best('2,000 requests × 50 spans', manyRequests(2000, 50));
const b = best('1 request × 100,000 spans', oneHugeRequest(100_000));
const worst = Math.max(a, b);
console.log(`target ≤ 2000 ms for 100,000 spans: ${worst <= 2000 ? 'met' : 'NOT met'} (worst ${worst.toFixed(0)} ms)`);

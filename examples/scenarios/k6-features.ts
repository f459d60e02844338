// The script features k6 users bring: setup()/teardown() with data for every VU, group() with
// per-group metrics, and custom metrics (Counter, Gauge, Rate, Trend) in thresholds.
// Run it against your service: REDLINE_TARGET_URL=http://127.0.0.1:8080 redline run examples/scenarios/k6-features.ts
import { Counter, Rate, Trend, defineScenario } from '@redline/cli';

const productsSeen = new Counter('products_seen');
const pageOk = new Rate('page_ok');
const bodySize = new Trend('body_kb');

export default defineScenario({
  name: 'k6-features',
  baseUrl: process.env.REDLINE_TARGET_URL ?? 'http://127.0.0.1:8080',
  vus: 5,
  duration: '20s',
  thresholds: {
    'group_duration{group:::browse}': ['p(95)<500'],
    'http.latency{group:::browse::details}': ['p(99)<300'],
    page_ok: ['rate>0.99'],
    body_kb: ['p(95)<64'],
    products_seen: ['count>0'],
  },
  // Once, before any VU: what it returns reaches every VU as ctx.data.
  setup: async (ctx) => {
    const res = await ctx.http.get('/products?page=1');
    return { firstPage: res.status, startedAt: new Date().toISOString() };
  },
  exec: async (ctx) => {
    await ctx.group('browse', async () => {
      const list = await ctx.http.get('/products?page=1', { name: 'GET /products' });
      pageOk.add(list.status === 200);
      bodySize.add(list.bodyBytes / 1024);
      productsSeen.add();
      await ctx.group('details', () => ctx.http.get('/products/1', { name: 'GET /products/:id' }));
    });
    await ctx.sleep(100);
  },
  // Once, after the run (also after Ctrl-C or an abort), with setup's data.
  teardown: (data) => {
    console.error(`k6-features: setup saw status ${(data as { firstPage: number }).firstPage}`);
  },
});

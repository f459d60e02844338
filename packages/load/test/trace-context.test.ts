import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { quickPlan, resolvePlan, runLoad, TraceStamper, type IterationContext, type TraceRecord, type TraceSettings } from '@redline/load';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;
let server: Server;
let url = '';
const seen: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push(String(req.headers.traceparent ?? ''));
    // Every 50th request is slow, so the tail is known.
    const slow = seen.length % 50 === 0;
    setTimeout(() => res.end('ok'), slow ? 30 : 0);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());

const settings = (over: Partial<TraceSettings> = {}): TraceSettings => ({ runTag: 'abcdef01', sampleRatio: 1, tailPerSecond: 20, baselinePerSecond: 5, ...over });

describe('traceparent under load', () => {
  it('the fast path sends a fresh, well-formed traceparent with the run tag on every request and keeps the slow ones', async () => {
    seen.length = 0;
    const records: TraceRecord[] = [];
    const plan = await quickPlan({ url: `${url}/a`, vus: 4, duration: '1500ms' }, {});
    const r = await runLoad(plan, { workers: 1, trace: settings(), onTraceRecords: (x) => records.push(...x) });
    assert.equal(seen.length, r.summary.requests);
    const ids = new Set<string>();
    for (const tp of seen) {
      const m = TRACEPARENT.exec(tp);
      assert.ok(m, `bad traceparent "${tp}"`);
      assert.ok(m[1]!.startsWith('abcdef010000'), m[1]);
      assert.notEqual(m[2], '0000000000000000');
      assert.equal(m[3], '01');
      ids.add(m[1]!);
    }
    assert.equal(ids.size, seen.length, 'trace ids are unique');
    assert.ok(records.length > 0);
    for (const k of records) {
      assert.ok(ids.has(k.traceId), 'a kept record names a trace that was sent');
      assert.equal(k.name, 'GET /a');
      assert.ok(k.endAtMs >= k.sentAtMs && Math.abs(k.latencyMs - (k.endAtMs - k.sentAtMs + k.delayMs)) < 1e-6);
    }
    const tail = records.filter((k) => k.reason === 'tail');
    assert.ok(tail.length > 0 && tail.every((k) => k.latencyMs >= 25), `tail latencies ${tail.map((k) => k.latencyMs.toFixed(1)).join(',')}`);
  });

  it('scripted ctx.http requests carry a traceparent too; a sample ratio of 0.5 flags about half as sampled', async () => {
    seen.length = 0;
    const plan = resolvePlan(
      {
        baseUrl: url,
        executor: 'per-vu-iterations',
        vus: 1,
        iterations: 400,
        exec: async (ctx: IterationContext) => {
          await ctx.http.get('/s');
        },
      },
      'trace-context.test.ts',
    );
    await runLoad(plan, { workers: 0, trace: settings({ sampleRatio: 0.5 }) });
    assert.equal(seen.length, 400);
    const flags = seen.map((tp) => TRACEPARENT.exec(tp)?.[3]);
    assert.ok(flags.every((f) => f === '00' || f === '01'));
    const sampled = flags.filter((f) => f === '01').length;
    assert.ok(sampled > 140 && sampled < 260, `sampled ${sampled} of 400`);
  });

  it('the baseline comes from the sampled requests even when every one of them is slower than the untraced', () => {
    // Tracing makes a sampled request slower than an untraced one: all sampled at 50 ms, the rest at
    // 5 ms, so every sampled request is above the run's p75. The baseline still gets its share.
    const s = new TraceStamper(settings({ sampleRatio: 0.1 }), 0);
    type Ex = Parameters<TraceStamper['complete']>[2];
    const kept: TraceRecord[] = [];
    for (let second = 0; second < 10; second++) {
      for (let i = 0; i < 500; i++) {
        const { seq } = s.header();
        const latency = seq > 0 ? 50 + (i % 7) : 5 + (i % 3);
        s.complete('GET /x', seq, { error: null, status: 200, endedAt: 1000 + latency } as unknown as Ex, 1000, 0);
      }
      kept.push(...s.drain());
    }
    const baseline = kept.filter((r) => r.reason === 'baseline');
    // 5 a second at most; after the first seconds' warm-up the band is the sampled requests' own.
    assert.ok(baseline.length >= 30, `baseline ${baseline.length}`);
    assert.ok(baseline.every((r) => r.latencyMs >= 50), 'only sampled requests are kept');
  });

  it('stamping rewrites the digits in place; the payload keeps its other bytes', () => {
    const s = new TraceStamper(settings(), 3);
    const payload = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\nbody', 'latin1');
    const p = s.stampable(payload);
    const a = s.stamp(p);
    const first = p.buf.toString('latin1');
    s.stamp(p);
    const second = p.buf.toString('latin1');
    assert.match(first, /^GET \/ HTTP\/1\.1\r\nHost: x\r\ntraceparent: 00-abcdef010003[0-9a-f]{20}-1[0-9a-f]{15}-01\r\n\r\nbody$/);
    assert.notEqual(first, second);
    assert.equal(first.length, second.length);
    assert.ok(first.includes(s.traceId(a)));
    assert.throws(() => new TraceStamper(settings({ runTag: 'XYZ' }), 0), /runTag must be 8 lower-case hex digits/);
  });
});

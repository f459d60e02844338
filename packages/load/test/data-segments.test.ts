import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { equalSegments, executionShare, parseJsonArray, planFromFile, resolvePlan, runLoad, segmentRows, type IterationContext } from '@redline/load';
import { FIXTURES, useTestServer } from './fixtures/test-server.ts';

const srv = useTestServer();

/** Query strings of the `/echo?feed=seg` requests seen from index `from` on. */
function seen(from: number): Array<Record<string, string>> {
  return srv.requests
    .slice(from)
    .filter((q) => q.url.startsWith('/echo?feed=seg'))
    .map((q) => Object.fromEntries(new URL(q.url, 'http://x').searchParams));
}

const sorted = (xs: Iterable<string>): string[] => [...xs].sort((a, b) => Number(a.replace(/\D/g, '')) - Number(b.replace(/\D/g, '')));

describe('data feeds under execution segments', () => {
  it('gives each of four instances its own rows: every CSV and JSON row used by exactly one instance, also across worker threads', async () => {
    const { sequence, segments } = equalSegments(4);
    const plan = await planFromFile(join(FIXTURES, 'segment-feed-scenario.ts'));
    const users: string[][] = [];
    const accounts: Array<Set<string>> = [];
    // One instance after the other, so the server's log tells them apart; instance 2 runs 2 worker threads (a VU each).
    for (const [i, segment] of segments.entries()) {
      const from = srv.requests.length;
      const r = await runLoad(plan, { workers: i === 2 ? 2 : 1, segment: { segment, sequence } });
      const q = seen(from);
      assert.equal(q.length, r.summary.iterations);
      users.push(q.map((x) => x.user!));
      accounts.push(new Set(q.map((x) => x.acct!)));
      // split: false — this instance reads the whole file from its first row.
      assert.deepEqual(sorted(q.map((x) => x.every!)), Array.from({ length: q.length }, (_, k) => String(k + 1)));
    }
    // 10 iterations over 4 instances (3, 3, 2, 2 — the striping of 10 units) and 10 users: each user exactly once.
    assert.deepEqual(users.map((u) => u.length), [3, 3, 2, 2]);
    assert.deepEqual(sorted(users.flat()), Array.from({ length: 10 }, (_, k) => String(k + 1)));
    // Striped like the iterations: instance i owns rows i, i + 4, i + 8 (1-based ids i + 1, …).
    assert.deepEqual(sorted(users[0]!), ['1', '5', '9']);
    assert.deepEqual(sorted(users[2]!), ['3', '7']);
    // Random rows come only from the instance's own share of the 12 accounts (3 each), never another's.
    const owned = (i: number): string[] => [0, 1, 2].map((k) => `a${i + 1 + 4 * k}`);
    accounts.forEach((a, i) => {
      for (const acct of a) assert.ok(owned(i).includes(acct), `instance ${i} used ${acct}, owns ${owned(i).join(' ')}`);
    });
  });

  it('keeps every row without a segment and splits uneven sequences exactly', () => {
    const data = { name: 'd', order: 'sequential' as const, rows: Array.from({ length: 7 }, (_, i) => ({ i })) };
    assert.equal(segmentRows(data, executionShare(undefined)).rows.length, 7);
    const sequence = '0,1/2,3/4,1';
    const parts = ['0:1/2', '1/2:3/4', '3/4:1'].map((segment) => segmentRows(data, executionShare({ segment, sequence })).rows.map((r) => r.i));
    assert.deepEqual(parts, [[0, 2, 4, 6], [1, 5], [3]]);
  });

  it('refuses a feed with no row for an instance (REDLINE_ERR_BAD_DATA_FILE), before any request', async () => {
    const { sequence, segments } = equalSegments(16);
    const exec = async (ctx: IterationContext): Promise<void> => {
      ctx.feed('users');
    };
    const from = srv.requests.length;
    const plan = resolvePlan({ baseUrl: srv.url, executor: 'per-vu-iterations', vus: 1, iterations: 1, data: { users: { file: join(FIXTURES, 'users.csv') } }, exec }, 'data-segments.test.ts');
    await assert.rejects(runLoad(plan, { workers: 0, segment: { segment: segments[15]!, sequence } }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'REDLINE_ERR_BAD_DATA_FILE');
      assert.equal(e.message, 'data "users": 10 rows leave none for execution segment 15/16:1; give the file at least one row per instance, or set split: false to let every instance read every row');
      return true;
    });
    assert.equal(srv.requests.length, from);
    // The same file with split: false runs (16 iterations of the schedule: the last instance owns one).
    const whole = resolvePlan(
      { baseUrl: srv.url, executor: 'constant-arrival-rate', rate: 16, duration: '1s', preAllocatedVUs: 16, maxVUs: 16, data: { users: { file: join(FIXTURES, 'users.csv'), split: false } }, requests: [{ url: '/ok' }] },
      'data-segments.test.ts',
    );
    const r = await runLoad(whole, { workers: 0, segment: { segment: segments[15]!, sequence } });
    assert.equal(r.summary.requests, 1);
  });

  it('refuses a shared-iterations segment that owns iterations but no VU (REDLINE_ERR_BAD_SEGMENT), before any request', async () => {
    const { sequence, segments } = equalSegments(4);
    const from = srv.requests.length;
    const plan = resolvePlan({ baseUrl: srv.url, executor: 'shared-iterations', vus: 3, iterations: 10, requests: [{ url: '/ok' }] }, 'data-segments.test.ts');
    assert.throws(
      () => runLoad(plan, { workers: 0, segment: { segment: segments[3]!, sequence } }),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'REDLINE_ERR_BAD_SEGMENT');
        assert.equal(e.message, 'scenario "default": execution segment 3/4:1 owns 2 of the 10 shared iterations but none of the 3 VUs, so nothing would run them; give the scenario at least as many VUs as there are instances');
        return true;
      },
    );
    assert.equal(srv.requests.length, from);
  });

  it('reads JSON arrays and names what is wrong with a bad one', () => {
    assert.deepEqual(parseJsonArray('[{"a":1}, 2]', 'x.json'), [{ a: 1 }, { value: 2 }]);
    const bad = (text: string, message: string): void =>
      assert.throws(() => parseJsonArray(text, 'x.json'), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'REDLINE_ERR_BAD_DATA_FILE');
        assert.equal(e.message, message);
        return true;
      });
    bad('{"rows":[]}', 'x.json: expected a JSON array of rows, got object');
    bad('null', 'x.json: expected a JSON array of rows, got null');
    assert.throws(() => parseJsonArray('[1,', 'x.json'), (e: Error & { code?: string }) => e.code === 'REDLINE_ERR_BAD_DATA_FILE' && e.message.startsWith('x.json: not valid JSON ('));
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunResult } from '@redline/core';
import { equalSegments, executionShare, resolvePlan, runLoad, type ScenarioDefinition, type SegmentSpec } from '@redline/load';
import { startTestServer, type TestServer } from './fixtures/test-server.ts';

describe('execution segments: striping', () => {
  it('interleaves units as k6 documents for the sequence 0,1/2,3/4,1', () => {
    const seq = '0,1/2,3/4,1';
    const idx = (segment: string, n: number): number[] => {
      const s = executionShare({ segment, sequence: seq });
      return Array.from({ length: n }, (_, j) => s.globalIndex(j));
    };
    assert.deepEqual(idx('0:1/2', 6), [0, 2, 4, 6, 8, 10]);
    assert.deepEqual(idx('1/2:3/4', 3), [1, 5, 9]);
    assert.deepEqual(idx('3/4:1', 3), [3, 7, 11]);
    const scaled = (segment: string): number[] => Array.from({ length: 12 }, (_, i) => executionShare({ segment, sequence: seq }).scale(i + 1));
    assert.deepEqual(scaled('0:1/2'), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6]);
    assert.deepEqual(scaled('1/2:3/4'), [0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3]);
    assert.deepEqual(scaled('3/4:1'), [0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3]);
  });

  it('partitions every unit exactly once and scales any total exactly, for uneven sequences', () => {
    for (const sequence of ['0,1/4,2/4,3/4,1', '0,1/3,2/3,1', '0,0.3,0.5,0.6,0.7,0.8,0.9,1', '0,3/5,1', '0,1/7,1/2,1']) {
      const points = sequence.split(',');
      const shares = points.slice(1).map((p, i) => executionShare({ segment: `${points[i]}:${p}`, sequence }));
      for (let total = 0; total <= 240; total++) assert.equal(shares.reduce((a, s) => a + s.scale(total), 0), total, `${sequence}: scale(${total})`);
      const N = 1000;
      const seen = new Set<number>();
      for (const s of shares) {
        for (let j = 0, g = s.globalIndex(0); g < N; j++, g = s.globalIndex(j)) {
          assert.ok(!seen.has(g), `${sequence}: unit ${g} owned twice`);
          seen.add(g);
          assert.ok(j === 0 || g > s.globalIndex(j - 1), 'increasing');
        }
      }
      assert.equal(seen.size, N, `${sequence}: every unit below ${N} owned`);
    }
  });

  it('fills the rest of [0, 1] around a segment given without a sequence', () => {
    assert.equal(executionShare({ segment: '1/4' }).scale(100), 25);
    assert.equal(executionShare({ segment: '50%:75%' }).scale(100), 25);
    assert.equal(executionShare({ segment: '0:1' }).full, true);
    assert.deepEqual(equalSegments(4), { sequence: '0,1/4,1/2,3/4,1', segments: ['0:1/4', '1/4:1/2', '1/2:3/4', '3/4:1'] });
  });

  it('refuses malformed strings with REDLINE_ERR_BAD_SEGMENT naming the position', () => {
    const cases: Array<[SegmentSpec, RegExp]> = [
      [{ segment: '1/4:x' }, /--execution-segment "1\/4:x" at position 5: "x" is not a fraction/],
      [{ segment: 'abc' }, /at position 1: "abc" is not a fraction/],
      [{ segment: '1/0' }, /at position 1: "1\/0" divides by zero/],
      [{ segment: '3/4:1/4' }, /at position 5: the segment's end 1\/4 must be greater than its start 3\/4/],
      [{ segment: '0:3/2' }, /at position 3: "3\/2" is more than 1/],
      [{ segment: ':1' }, /at position 1: expected a fraction .* got nothing/],
      [{ segment: '0:1/4', sequence: '0,1/4,1/8,1' }, /--execution-segment-sequence "0,1\/4,1\/8,1" at position 7: point 3 \(1\/8\) must be greater than the point before it \(1\/4\)/],
      [{ segment: '0:1/4', sequence: '0,1/4,,1' }, /--execution-segment-sequence "0,1\/4,,1" at position 7: expected a fraction/],
      [{ segment: '0:1/4', sequence: '1/2' }, /at position 1: a sequence needs at least two points/],
      [{ segment: '0:1/3', sequence: '0,1/4,1' }, /0:1\/3 is not one of the segments of --execution-segment-sequence "0,1\/4,1"/],
    ];
    for (const [spec, message] of cases) {
      assert.throws(() => executionShare(spec), (e: Error & { code?: string }) => {
        assert.equal(e.code, 'REDLINE_ERR_BAD_SEGMENT', `${JSON.stringify(spec)}: ${e.message}`);
        assert.match(e.message, message);
        return true;
      });
    }
  });
});

describe('execution segments: four instances add up to one', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
  });
  after(async () => {
    await srv.close();
  });

  const { sequence, segments } = equalSegments(4);
  /** The unsegmented run and the four segments' runs, all at once (each instance starts its own schedule). */
  async function runAll(def: ScenarioDefinition, workers: number): Promise<{ whole: RunResult; parts: RunResult[] }> {
    const plan = (): ReturnType<typeof resolvePlan> => resolvePlan({ baseUrl: srv.url, ...def }, 'segments.test.ts');
    const [whole, ...parts] = await Promise.all([
      runLoad(plan(), { workers }),
      ...segments.map((segment) => runLoad(plan(), { workers, segment: { segment, sequence } })),
    ]);
    return { whole: whole!, parts };
  }
  const sum = (parts: RunResult[], f: (r: RunResult) => number): number => parts.reduce((a, r) => a + f(r), 0);
  const planned = (r: RunResult): number => r.summary.iterations + r.summary.iterationsDropped;

  it('shared-iterations: the pool is split exactly', async () => {
    const { whole, parts } = await runAll({ executor: 'shared-iterations', vus: 6, iterations: 101, requests: [{ url: '/seg-si' }] }, 0);
    assert.equal(whole.summary.iterations, 101);
    assert.equal(sum(parts, (r) => r.summary.iterations), 101);
    assert.deepEqual(parts.map((r) => r.summary.iterations).sort((a, b) => a - b), [25, 25, 25, 26]);
    assert.equal(sum(parts, (r) => r.summary.vusMax), whole.summary.vusMax);
  });

  it('per-vu-iterations: VUs are split, each runs all its iterations', async () => {
    const { whole, parts } = await runAll({ executor: 'per-vu-iterations', vus: 7, iterations: 3, requests: [{ url: '/seg-pvi' }] }, 0);
    assert.equal(whole.summary.iterations, 21);
    assert.equal(sum(parts, (r) => r.summary.iterations), 21);
    assert.equal(sum(parts, (r) => r.summary.vusMax), 7);
  });

  it('constant-arrival-rate: the schedule is split exactly, also across the worker threads of an instance', async () => {
    const def: ScenarioDefinition = { executor: 'constant-arrival-rate', rate: 120, duration: '1s', preAllocatedVUs: 8, maxVUs: 40, requests: [{ url: '/seg-car' }] };
    const { whole, parts } = await runAll(def, 0);
    assert.equal(planned(whole), 120);
    assert.equal(sum(parts, planned), 120);
    assert.deepEqual(parts.map(planned), [30, 30, 30, 30]);
    // Within an instance, its worker threads split its share again (k mod workers).
    const threaded = await runLoad(resolvePlan({ baseUrl: srv.url, ...def }, 'segments.test.ts'), { workers: 2, segment: { segment: segments[1]!, sequence } });
    assert.equal(planned(threaded), 30);
  });

  it('ramping-arrival-rate: the ramp is split exactly', async () => {
    const { whole, parts } = await runAll({ executor: 'ramping-arrival-rate', startRate: 0, stages: [{ duration: '1s', target: 200 }], preAllocatedVUs: 8, maxVUs: 40, requests: [{ url: '/seg-rar' }] }, 0);
    assert.equal(planned(whole), 100);
    assert.equal(sum(parts, planned), planned(whole));
  });

  it('constant-vus and ramping-vus: VUs are split exactly', async () => {
    const cv = await runAll({ executor: 'constant-vus', vus: 7, duration: '500ms', requests: [{ url: '/seg-cv' }] }, 0);
    assert.equal(cv.whole.summary.vusMax, 7);
    assert.deepEqual(cv.parts.map((r) => r.summary.vusMax), [2, 2, 2, 1]);
    const rv = await runAll({ executor: 'ramping-vus', startVUs: 0, stages: [{ duration: '300ms', target: 9 }, { duration: '400ms', target: 9 }], requests: [{ url: '/seg-rv' }] }, 0);
    assert.equal(rv.whole.summary.vusMax, 9);
    assert.equal(sum(rv.parts, (r) => r.summary.vusMax), 9);
  });
});

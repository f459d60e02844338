// Run directories written before traces.json carried `runStartMs` (session 4 and older): the report
// places the kept requests from the result's `startedAt` instead, and compare reads such directories
// as it reads new ones.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { writeJsonAtomic } from '@redline/core';
import { analyzeTraces, TRACES_FILE, type KeptRecord, type TracesFile } from '@redline/trace';
import { compareRuns, writeReport } from '../src/index.ts';
import { runDirFactory } from './helpers/run-dirs.ts';
import { syntheticRun } from './helpers/synthetic-run.ts';

const NAME = 'GET /products';
const dirs: string[] = [];
let startedAtMs = 0;

before(async () => {
  const make = runDirFactory('redline-old-run-');
  for (const name of ['old-a', 'old-b']) {
    const result = syntheticRun({ durationS: 10, ratePerSec: 50, names: [NAME], withTarget: false, stall: false });
    startedAtMs = Date.parse(result.startedAt);
    // A kept request ending at 2.5 s, 5.5 s and 8.5 s of the run.
    const records: KeptRecord[] = [2.5, 5.5, 8.5].map((t, i) => ({ traceId: `abcdef01${String(i + 1).padStart(24, '0')}`, name: NAME, latencyMs: 20, sentAtMs: startedAtMs + t * 1000 - 20, endAtMs: startedAtMs + t * 1000, delayMs: 0, status: 200, reason: 'tail' }));
    const file: Omit<TracesFile, 'runStartMs'> = {
      sampleRatio: 1,
      analysis: analyzeTraces(records, [], { percentiles: { [NAME]: { p50Ms: 12, p99Ms: 20 } } }),
      records,
      receiver: { payloads: 0, spansReceived: 0, serverSpans: 0, spansKept: 0, tracesKept: 0, rejected: { garbage: 0, oversized: 0, unknownTraceSpans: 0, unsupported: 0 }, spansDropped: 0, lastPayloadAt: null },
      notes: [],
      spansSaved: 0,
    };
    const dir = await make(name, result);
    await writeJsonAtomic(join(dir, TRACES_FILE), file);
    dirs.push(dir);
  }
});

describe('run directories without runStartMs', () => {
  it('the report places the kept requests on the run clock from startedAt', async () => {
    const traces = JSON.parse(await readFile(join(dirs[0]!, TRACES_FILE), 'utf8')) as Record<string, unknown>;
    assert.equal('runStartMs' in traces, false, 'the fixture is an old run directory');
    const html = await readFile(await writeReport(dirs[0]!), 'utf8');
    const points = JSON.parse(/id="redline-exemplars">(.*?)<\/script>/s.exec(html)![1]!) as Array<{ t: number; ms: number }>;
    assert.deepEqual(points.map((p) => [p.t, p.ms]), [[2.5, 20], [5.5, 20], [8.5, 20]]);
    assert.match(html, /<h2>Where the time goes<\/h2>/);
  });

  it('compare reads two of them', async () => {
    const cmp = await compareRuns([dirs[0]!], [dirs[1]!]);
    assert.equal(cmp.base.length, 1);
    assert.ok(cmp.metrics.some((m) => m.metric === 'throughput'), cmp.metrics.map((m) => m.metric).join(', '));
  });
});

import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderSearchText, searchCapacity, searchResultJson, writeSearchResult, type SearchResult } from '../src/index.ts';
import { queueSimRunner } from './fixtures/queue-sim.ts';

let dir = '';
let result: SearchResult;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'redline-capacity-out-'));
  result = await searchCapacity(queueSimRunner({ servers: 8, serviceMs: 20 }), {
    model: 'open',
    slo: 'p(99)<100',
    startLevel: 50,
    maxLevel: 5000,
    stepDurationMs: 10_000,
    warmupMs: 2_000,
    maxDurationMs: 600_000,
    usl: { bootstrapIterations: 50 },
  });
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('search output', () => {
  it('writes capacity.json and capacity.svg that read back', async () => {
    const paths = await writeSearchResult(join(dir, 'out'), result);
    const json = JSON.parse(readFileSync(paths.json, 'utf8')) as { maxSustainable: { level: number }; steps: unknown[]; usl: { bootstrap: { samples?: unknown } } };
    assert.equal(json.maxSustainable.level, result.maxSustainable!.level);
    assert.equal(json.steps.length, result.steps.length);
    assert.equal(json.usl.bootstrap.samples, undefined);
    assert.deepEqual(json, searchResultJson(result));
    assert.match(readFileSync(paths.svg, 'utf8'), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  });

  it('summarises the result in plain text', () => {
    const text = renderSearchText(result);
    const m = result.maxSustainable!;
    assert.ok(text.startsWith(`max sustainable ${Number(m.level.toPrecision(6))}/s under p(99)<100: throughput `), text);
    assert.match(text, /\nstopped: slo after \d+ steps, \d+ s of 600 s budget\n/);
    assert.match(text, /\nknee: N ≈ /);
  });
});

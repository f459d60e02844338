import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRedlineError } from '@redline/core';
import { formatStepLine, loadStepRunner, searchCapacity, stepDefinition } from '../src/index.ts';
import { startSlotServer, type SlotServer } from './fixtures/slot-server.ts';

let server: SlotServer;
let dir = '';

before(async () => {
  server = await startSlotServer(10, 50); // 10 slots × 50 ms = 200 requests/s
  dir = mkdtempSync(join(tmpdir(), 'redline-capacity-load-'));
});
after(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('stepDefinition', () => {
  const requests = [{ method: 'GET', url: 'http://127.0.0.1:1/' }];

  it('replaces the load model of a single top-level scenario and drops thresholds', () => {
    const def = stepDefinition(
      { name: 'api', timeout: '2s', rate: 5, duration: '1m', thresholds: { 'http.latency': ['p(99)<10'] }, requests },
      { model: 'open', level: 120, durationMs: 3000, warmupMs: 1000 },
    );
    assert.deepEqual(def, {
      name: 'api',
      timeout: '2s',
      scenarios: { api: { requests, executor: 'constant-arrival-rate', rate: 120, preAllocatedVUs: 12, maxVUs: 120, duration: '4000ms' } },
    });
  });

  it('uses constant-vus for the closed model inside a named scenario', () => {
    const def = stepDefinition({ scenarios: { browse: { executor: 'ramping-vus', stages: [{ duration: '1m', target: 5 }], requests } } }, { model: 'closed', level: 7, durationMs: 2000, warmupMs: 0 });
    assert.deepEqual(def, { scenarios: { browse: { requests, executor: 'constant-vus', vus: 7, duration: '2000ms' } } });
  });

  it('refuses a definition with several scenarios', () => {
    assert.throws(
      () => stepDefinition({ scenarios: { a: { requests }, b: { requests } } }, { model: 'open', level: 1, durationMs: 1000, warmupMs: 0 }),
      (err: unknown) =>
        isRedlineError(err, 'REDLINE_ERR_INVALID_ARGUMENT') &&
        err.message === 'a capacity search scales exactly one scenario, but the definition has 2 (a, b)',
    );
  });
});

describe('searchCapacity with the load engine against a real server of known capacity', () => {
  it('finds the maximum sustainable rate within 10 % of 200 requests/s', async () => {
    const lines: string[] = [];
    const outDir = join(dir, 'steps');
    const result = await searchCapacity(
      loadStepRunner({ definition: { name: 'slots', requests: [{ method: 'GET', url: server.url }], timeout: '5s' }, workers: 1, outDir }),
      {
        model: 'open',
        slo: 'p(99)<200',
        startLevel: 50,
        growthFactor: 1.5,
        maxLevel: 400,
        stepDurationMs: 2000,
        warmupMs: 1000,
        maxDurationMs: 50_000,
        // The development machine is shared; a step the generator could not hold is measured again.
        generatorRetries: 2,
        littleTolerance: 0.25,
        usl: { bootstrapIterations: 50 },
        onStep: (p) => lines.push(formatStepLine(p)),
      },
    );
    const found = result.maxSustainable?.level ?? 0;
    const report = `found ${found}/s vs capacity ${server.capacityPerSec}/s, stop ${result.stopReason}\n${lines.join('\n')}\n${result.flags.map((f) => f.message).join('\n')}`;
    assert.ok(Math.abs(found - server.capacityPerSec) / server.capacityPerSec <= 0.1, report);
    assert.ok(result.steps.some((s) => !s.ok), report);
    const evidence = result.steps[result.maxSustainable!.step]!;
    assert.ok(evidence.measurement.runDir && existsSync(join(evidence.measurement.runDir, 'result.json')), 'each step wrote its run directory');
  });
});

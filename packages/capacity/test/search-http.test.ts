import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatStepLine, searchCapacity } from '../src/index.ts';
import { miniOpenRunner } from './fixtures/mini-load.ts';
import { startSlotServer, type SlotServer } from './fixtures/slot-server.ts';

let server: SlotServer;

before(async () => {
  server = await startSlotServer(10, 50); // 10 slots × 50 ms = 200 requests/s
});
after(async () => {
  await server?.close();
});

describe('searchCapacity against a real HTTP server with a known capacity', () => {
  it('finds the maximum sustainable rate within 10 % of the server capacity', async () => {
    const lines: string[] = [];
    const result = await searchCapacity(miniOpenRunner(server.url), {
      model: 'open',
      slo: 'p(99)<150',
      startLevel: 50,
      growthFactor: 1.5,
      maxLevel: 400,
      stepDurationMs: 2000,
      warmupMs: 500,
      maxDurationMs: 40_000,
      bisectIterations: 4,
      littleTolerance: 0.2,
      usl: { bootstrapIterations: 50 },
      onStep: (p) => lines.push(formatStepLine(p)),
    });
    const found = result.maxSustainable?.level ?? 0;
    const report = `found ${found}/s vs capacity ${server.capacityPerSec}/s\n${lines.join('\n')}`;
    assert.ok(Math.abs(found - server.capacityPerSec) / server.capacityPerSec <= 0.1, report);
    assert.ok(['slo', 'plateau'].includes(result.stopReason), report);
    assert.ok(result.elapsedMs <= 40_000);
    assert.ok(result.steps.some((s) => !s.ok), 'some step failed, so the limit was bracketed');
    assert.ok(result.knee && result.knee.throughput <= server.capacityPerSec * 1.1, `knee ${JSON.stringify(result.knee)}`);
  });
});

// Defaults and flags that do what they say: the worker default, preallocation under maxVUs, rates
// and durations the engine cannot honour, command-line flags over a scenario file, and the script
// environment (`ctx.env`, `defineScenario(({ env }) => …)`).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes, RedlineError } from '@redline/core';
import { applyLoadFlags, defaultWorkerCount, planFromFile, quickPlan, resolvePlan, runLoad, type ScenarioDefinition } from '@redline/load';
import { startTestServer } from './fixtures/test-server.js';

const URL_OK = 'http://127.0.0.1:9/ok';
const requests = [{ url: URL_OK }];

async function rejects(fn: () => unknown, code: string, message: string | RegExp): Promise<void> {
  await assert.rejects(
    async () => {
      await fn();
    },
    (err: unknown) => {
      assert.ok(err instanceof RedlineError, `expected a RedlineError, got ${String(err)}`);
      assert.equal(err.code, code, err.message);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
  );
}

function options(plan: ReturnType<typeof resolvePlan>): Record<string, unknown> {
  return plan.config.scenarios[0]!.options as Record<string, unknown>;
}

describe('the worker default', () => {
  it('is cores − 1, at least 1, for an injected core count', () => {
    assert.equal(defaultWorkerCount(16), 15);
    assert.equal(defaultWorkerCount(2), 1);
    assert.equal(defaultWorkerCount(1), 1);
  });
  it('is what a plan resolves to when --workers is not given (16 cores → 15 workers)', async () => {
    assert.equal(resolvePlan({ vus: 1, duration: '1s', requests }, 'test', { cores: 16 }).config.workers, 15);
    assert.equal((await quickPlan({ url: URL_OK, rate: 10 }, { cores: 8 })).config.workers, 7);
    assert.equal(resolvePlan({ vus: 1, duration: '1s', requests }, 'test', { cores: 16, workers: 3 }).config.workers, 3);
  });
});

describe('open-model VU allocation', () => {
  it('preallocates at most maxVUs: --rate 2000 --max-vus 50 is valid', async () => {
    const plan = await quickPlan({ url: URL_OK, rate: 2000, maxVUs: 50 });
    assert.deepEqual([options(plan).preAllocatedVUs, options(plan).maxVUs], [50, 50]);
    const ramp = resolvePlan({ executor: 'ramping-arrival-rate', stages: [{ duration: '2s', target: 5000 }], maxVUs: 20, requests }, 'test');
    assert.deepEqual([options(ramp).preAllocatedVUs, options(ramp).maxVUs], [20, 20]);
    const profiled = resolvePlan({ profile: 'load', rate: 3000, duration: '10s', maxVUs: 30, requests }, 'test');
    assert.deepEqual([options(profiled).preAllocatedVUs, options(profiled).maxVUs], [30, 30]);
  });
  it('still rejects an explicit preAllocatedVUs above maxVUs', async () => {
    await rejects(() => resolvePlan({ rate: 100, duration: '1s', preAllocatedVUs: 80, maxVUs: 10, requests }, 'test.ts'), ErrorCodes.INVALID_SCENARIO, 'test.ts: maxVUs: must be at least preAllocatedVUs (80)');
  });
  it('rejects a rate no generator thread can hold before allocating anything', async () => {
    await rejects(
      () => quickPlan({ url: URL_OK, rate: '100000000' }, { workers: 1 }),
      ErrorCodes.BAD_RATE,
      'command line: rate: 100,000,000 iterations/s cannot be generated: the ceiling is 500,000/s per engine thread × 1 (one thread peaks near 100,000 req/s); lower the rate or add --workers',
    );
    await rejects(
      () => resolvePlan({ executor: 'ramping-arrival-rate', stages: [{ duration: '1s', target: 3_000_000 }], requests }, 'ramp.ts', { workers: 4 }),
      ErrorCodes.BAD_RATE,
      /^ramp\.ts: rate: 3,000,000 iterations\/s cannot be generated: the ceiling is 500,000\/s per engine thread × 4 /,
    );
    // 2M/s with 4 workers is within the ceiling (whether the target keeps up is the run's business).
    assert.equal(options(resolvePlan({ rate: '2000k', duration: '1s', requests }, 'ok.ts', { workers: 4 })).rate, 2_000_000);
  });
  it('"10m" is no rate: the message says how to write per minute', async () => {
    await rejects(() => quickPlan({ url: URL_OK, rate: '10m' }), ErrorCodes.BAD_RATE, 'invalid rate "10m": "m" is ambiguous in a rate; write 10/m for 10 per minute, or the number per second in full');
    assert.equal(options(await quickPlan({ url: URL_OK, rate: '600/m' })).rate, 10);
  });
});

describe('durations beyond one Node.js timer (2^31 − 1 ms)', () => {
  const tooLong = /is too long: at most 596h31m23s \(2\^31 - 1 ms, the longest timer Node\.js can set\)$/;
  it('rejects --duration 600h and --timeout 600h in quick mode', async () => {
    await rejects(() => quickPlan({ url: URL_OK, rate: 10, duration: '600h' }), ErrorCodes.BAD_DURATION, '--duration 600h is too long: at most 596h31m23s (2^31 - 1 ms, the longest timer Node.js can set)');
    await rejects(() => quickPlan({ url: URL_OK, rate: 10, duration: '1s', timeout: '600h' }), ErrorCodes.BAD_DURATION, tooLong);
  });
  it('rejects every scenario duration that would overflow, including stages that add up to too much', async () => {
    await rejects(() => resolvePlan({ vus: 1, duration: '600h', requests }, 's.ts'), ErrorCodes.INVALID_SCENARIO, /^s\.ts: duration: duration 600h is too long/);
    await rejects(() => resolvePlan({ vus: 1, duration: '1s', timeout: '700h', requests }, 's.ts'), ErrorCodes.INVALID_SCENARIO, /^s\.ts: timeout: duration 700h is too long/);
    await rejects(
      () => resolvePlan({ stages: [{ duration: '400h', target: 2 }, { duration: '400h', target: 0 }], requests }, 's.ts'),
      ErrorCodes.BAD_DURATION,
      /^s\.ts: stages: the scenario \(start time \+ length \+ graceful stop\) 800h is too long/,
    );
    await rejects(() => resolvePlan({ vus: 1, duration: '1s', requests }, 's.ts', { timeoutMs: 3e9 }), ErrorCodes.BAD_DURATION, /^request timeout 833h20m is too long/);
  });
  it('accepts the longest duration that fits', () => {
    assert.equal(options(resolvePlan({ vus: 1, duration: '596h', requests }, 's.ts')).durationMs, 596 * 3_600_000);
  });
});

describe('command-line flags over a scenario file', () => {
  const file: ScenarioDefinition = { name: 'api', rate: 50, duration: '30s', maxVUs: 10, headers: { Accept: 'text/html', 'X-Keep': '1' }, thresholds: { 'http.errors': ['rate<0.1'] }, requests };
  it('--duration sets the length of a duration-based model, --max-vus its cap', () => {
    const plan = resolvePlan(applyLoadFlags(file, { duration: '2s', maxVUs: 40 }, 'api.ts'), 'api.ts');
    assert.equal(plan.config.scenarios[0]!.executor, 'constant-arrival-rate');
    assert.deepEqual([options(plan).durationMs, options(plan).rate, options(plan).maxVUs], [2000, 50, 40]);
  });
  it('--vus replaces the load model (k6 precedence), keeping the requests and the file duration', () => {
    const plan = resolvePlan(applyLoadFlags(file, { vus: 3 }, 'api.ts'), 'api.ts');
    assert.equal(plan.config.scenarios[0]!.executor, 'constant-vus');
    assert.deepEqual([options(plan).vus, options(plan).durationMs], [3, 30_000]);
    assert.equal(plan.requests.get('api')![0]!.url, URL_OK);
  });
  it('--rate replaces a closed model; --header and --threshold add to the file', () => {
    const def = applyLoadFlags({ ...file, rate: undefined, maxVUs: undefined, vus: 4 }, { rate: '2k/s', headers: { accept: 'application/json' }, thresholds: { 'http.latency': ['p(99)<200'] } }, 'api.ts');
    const plan = resolvePlan(def, 'api.ts');
    assert.equal(plan.config.scenarios[0]!.executor, 'constant-arrival-rate');
    assert.equal(options(plan).rate, 2000);
    assert.deepEqual(plan.requests.get('api')![0]!.headers, { 'X-Keep': '1', accept: 'application/json' });
    assert.deepEqual(plan.config.thresholds, { 'http.errors': ['rate<0.1'], 'http.latency': ['p(99)<200'] });
  });
  it('rejects what cannot apply, with REDLINE_ERR_USAGE, instead of ignoring it', async () => {
    const multi: ScenarioDefinition = { scenarios: { a: { vus: 1, duration: '1s', requests } } };
    await rejects(() => applyLoadFlags(multi, { duration: '5s', vus: 2 }, 'multi.ts'), ErrorCodes.USAGE, '--vus, --duration cannot be applied to multi.ts: it defines several scenarios under "scenarios"; change their load in the file');
    const staged: ScenarioDefinition = { stages: [{ duration: '5s', target: 3 }], requests };
    await rejects(() => applyLoadFlags(staged, { duration: '5s' }, 'staged.ts'), ErrorCodes.USAGE, /^--duration cannot be applied to staged\.ts: its length comes from its "stages"/);
    await rejects(() => applyLoadFlags({ vus: 2, iterations: 10, requests }, { duration: '5s' }, 'it.ts'), ErrorCodes.USAGE, /^--duration cannot be applied to it\.ts: it runs a number of iterations/);
    await rejects(() => applyLoadFlags({ vus: 2, duration: '5s', requests }, { maxVUs: 5 }, 'closed.ts'), ErrorCodes.USAGE, /^--max-vus cannot be applied to closed\.ts: it is a closed model/);
    await rejects(() => applyLoadFlags(file, { rate: 5, vus: 2 }, 'api.ts'), ErrorCodes.USAGE, 'give either --rate (open model) or --vus (closed model), not both');
  });
});

describe('the script environment', () => {
  it('reaches a factory export and ctx.env in a worker thread', async () => {
    const server = await startTestServer();
    try {
      const dir = await mkdtemp(join(tmpdir(), 'redline-env-'));
      const file = join(dir, 'env.mjs');
      await writeFile(
        file,
        `export default ({ env }) => ({
          name: 'env-' + env.RUN_LABEL,
          vus: Number(env.VUS), iterations: Number(env.VUS) * 2,
          exec: async (ctx) => { await ctx.http.get(env.BASE + '/ok?from=' + ctx.env.RUN_LABEL); },
        });\n`,
      );
      const env = { RUN_LABEL: 'blue', VUS: '2', BASE: server.url };
      const plan = await planFromFile(file, { env, workers: 1 }, dir);
      assert.equal(plan.config.name, 'env-blue');
      const r = await runLoad(plan);
      assert.equal(r.summary.requests, 4, JSON.stringify(r.warnings ?? []));
      assert.equal(r.summary.errors, 0);
      assert.ok(server.requests.length === 4 && server.requests.every((q) => q.url === '/ok?from=blue'), server.requests.map((q) => q.url).join(', '));
      assert.equal(JSON.stringify(r).includes('"BASE"'), false, 'the environment is not written to the result');
    } finally {
      await server.close();
    }
  });
});

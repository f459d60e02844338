import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, RedlineError } from '@redline/core';
import { parseCsv, parseJsonLines, planFromFile, quickPlan, resolvePlan, startLoad, type IterationContext } from '@redline/load';

const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), 'fixtures');
const URL_OK = 'http://127.0.0.1:9/ok';
const EXECUTORS = 'constant-vus, ramping-vus, per-vu-iterations, shared-iterations, constant-arrival-rate, ramping-arrival-rate';
const PROFILES = 'smoke, load, stress, spike, soak, breakpoint';

/** Asserts that `fn` throws (or rejects with) a RedlineError with exactly this code and message. */
async function rejects(fn: () => unknown, code: string, message: string): Promise<void> {
  await assert.rejects(
    async () => {
      await fn();
    },
    (err: unknown) => {
      assert.ok(err instanceof RedlineError, `expected a RedlineError, got ${String(err)}`);
      assert.equal(err.code, code);
      assert.equal(err.message, message);
      assert.ok(!err.message.includes('\n'), 'one-line message');
      return true;
    },
  );
}

describe('quick mode bad input', () => {
  it('rejects a malformed URL', async () => {
    await rejects(() => quickPlan({ url: 'not a url', vus: 1 }), ErrorCodes.BAD_URL, 'invalid URL "not a url": expected an absolute http:// or https:// URL such as http://127.0.0.1:8080/');
    await rejects(() => quickPlan({ url: 'ftp://127.0.0.1/x', vus: 1 }), ErrorCodes.BAD_URL, 'unsupported protocol "ftp:" in URL "ftp://127.0.0.1/x": use http:// or https://');
  });
  it('rejects a bad duration such as 30x', async () => {
    await rejects(() => quickPlan({ url: URL_OK, rate: 10, duration: '30x' }), ErrorCodes.BAD_DURATION, 'invalid duration "30x": expected a number with a unit, such as 500ms, 30s, 5m, 1h or 1m30s');
    await rejects(() => quickPlan({ url: URL_OK, rate: 10, duration: '0s' }), ErrorCodes.BAD_DURATION, 'invalid duration "0s": must be greater than zero');
  });
  it('rejects a bad rate', async () => {
    await rejects(() => quickPlan({ url: URL_OK, rate: 'fast', duration: '1s' }), ErrorCodes.BAD_RATE, 'invalid rate "fast": expected a positive number of events per second, such as 500, 2k/s or 600/m');
    await rejects(() => quickPlan({ url: URL_OK, rate: 0, duration: '1s' }), ErrorCodes.BAD_RATE, 'invalid rate "0": expected a positive number of events per second, such as 500, 2k/s or 600/m');
    await rejects(() => quickPlan({ url: URL_OK, rate: '-5/s', duration: '1s' }), ErrorCodes.BAD_RATE, 'invalid rate "-5/s": expected a positive number of events per second, such as 500, 2k/s or 600/m');
  });
  it('rejects an unknown profile', async () => {
    await rejects(() => quickPlan({ url: URL_OK, rate: 10, duration: '1s', profile: 'huge' }), ErrorCodes.UNKNOWN_PROFILE, `unknown profile "huge": expected one of ${PROFILES}`);
  });
  it('rejects --rate together with --vus, and a bad --vus', async () => {
    await rejects(() => quickPlan({ url: URL_OK, rate: 10, vus: 2 }), ErrorCodes.USAGE, 'give either --rate (open model) or --vus (closed model), not both');
    await rejects(() => quickPlan({ url: URL_OK, vus: 1.5 }), ErrorCodes.USAGE, 'invalid --vus "1.5": expected a positive integer');
  });
  it('rejects an unreadable body file', async () => {
    await rejects(() => quickPlan({ url: URL_OK, vus: 1, body: '@/nonexistent/body.json' }), ErrorCodes.BAD_DATA_FILE, 'cannot read body file /nonexistent/body.json');
  });
});

describe('scenario files', () => {
  it('rejects a missing scenario file', async () => {
    await rejects(() => planFromFile('no/such/scenario.ts'), ErrorCodes.SCENARIO_NOT_FOUND, 'scenario file not found: no/such/scenario.ts');
  });
  it('names the file, the field path and what was expected', async () => {
    const file = join(FIXTURES, 'invalid-field.mjs');
    await rejects(() => planFromFile(file), ErrorCodes.INVALID_SCENARIO, `${file}: vus: expected a positive integer`);
  });
  it('rejects a module that does not load, naming the file', async () => {
    // Written at test time: a broken module in the tree would break the linter.
    const dir = await mkdtemp(join(tmpdir(), 'redline-bad-scenario-'));
    const file = join(dir, 'syntax-error.mjs');
    await writeFile(file, 'export default { vus: 1,, };\n');
    await assert.rejects(planFromFile(file), (err: unknown) => {
      assert.ok(err instanceof RedlineError);
      assert.equal(err.code, ErrorCodes.INVALID_SCENARIO);
      assert.ok(err.message.startsWith(`${file}: cannot load the scenario module: `), err.message);
      assert.ok(!err.message.includes('\n'));
      return true;
    });
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects a k6-style async default function with a pointer to exec, and no unhandled rejection', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'redline-k6-style-'));
    const file = join(dir, 'k6-style.mjs');
    await writeFile(file, "export const options = { vus: 2 };\nexport default async function (ctx) { await ctx.http.get('/'); }\n");
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown): void => void unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    try {
      await rejects(
        () => planFromFile(file),
        ErrorCodes.INVALID_SCENARIO,
        `${file}: (root): the default export is an async function; a scenario exports defineScenario({...}) and the iteration goes in its exec field: export default defineScenario({ exec: async (ctx) => {…} })`,
      );
      await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('relative URLs need a baseUrl, which --target supplies (REDLINE_TARGET_URL) when the scenario names none', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'redline-base-url-'));
    try {
      const file = join(dir, 'relative.mjs');
      await writeFile(file, "export default { executor: 'constant-vus', vus: 1, duration: '1s', requests: [{ url: '/x' }] };\n");
      await rejects(() => planFromFile(file), ErrorCodes.INVALID_SCENARIO, `${file}: requests.0.url: relative URL "/x" needs "baseUrl"`);
      const plan = await planFromFile(file, { env: { REDLINE_TARGET_URL: 'http://127.0.0.1:4321' } });
      assert.equal(plan.definition.baseUrl, 'http://127.0.0.1:4321');
      const own = join(dir, 'own.mjs');
      await writeFile(own, "export default { baseUrl: 'http://127.0.0.1:9', executor: 'constant-vus', vus: 1, duration: '1s', requests: [{ url: '/x' }] };\n");
      assert.equal((await planFromFile(own, { env: { REDLINE_TARGET_URL: 'http://127.0.0.1:4321' } })).definition.baseUrl, 'http://127.0.0.1:9');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a module without a default export', async () => {
    const file = join(FIXTURES, 'no-default.mjs');
    await rejects(() => planFromFile(file), ErrorCodes.INVALID_SCENARIO, `${file}: (root): expected a default export created with defineScenario({...})`);
  });
});

describe('scenario validation', () => {
  const req = [{ url: URL_OK }];
  it('rejects an unknown executor, top level and inside scenarios', async () => {
    await rejects(() => resolvePlan({ executor: 'constant-rate', rate: 1, duration: '1s', requests: req }, 'scn.ts'), ErrorCodes.UNKNOWN_EXECUTOR, `scn.ts: executor: expected one of ${EXECUTORS}`);
    await rejects(
      () => resolvePlan({ scenarios: { api: { executor: 'ramping', requests: req } } }, 'scn.ts'),
      ErrorCodes.UNKNOWN_EXECUTOR,
      `scn.ts: scenarios.api.executor: expected one of ${EXECUTORS}`,
    );
  });
  it('rejects an unknown profile in a scenario', async () => {
    await rejects(() => resolvePlan({ profile: 'huge', vus: 2, duration: '1s', requests: req }, 'scn.ts'), ErrorCodes.UNKNOWN_PROFILE, `scn.ts: profile: expected one of ${PROFILES}`);
  });
  it('rejects a field of the wrong type', async () => {
    await rejects(() => resolvePlan({ vus: 'ten', duration: '1s', requests: req }, 'scn.ts'), ErrorCodes.INVALID_SCENARIO, 'scn.ts: vus: expected a positive integer');
    await rejects(() => resolvePlan({ vus: 0, duration: '1s', requests: req }, 'scn.ts'), ErrorCodes.INVALID_SCENARIO, 'scn.ts: vus: expected a positive integer');
    await rejects(() => resolvePlan({ vus: 1, duration: '1s', exec: 'not a function' }, 'scn.ts'), ErrorCodes.INVALID_SCENARIO, 'scn.ts: exec: expected a function (ctx) => ...');
    await rejects(() => resolvePlan({ vus: 1, duration: '1s', requests: [{ url: 42 }] }, 'scn.ts'), ErrorCodes.INVALID_SCENARIO, 'scn.ts: requests.0.url: expected a URL string');
  });
  it('rejects an unknown field', async () => {
    await rejects(() => resolvePlan({ vus: 1, duraton: '1s', requests: req }, 'scn.ts'), ErrorCodes.INVALID_SCENARIO, 'scn.ts: (root): unknown field "duraton"');
    await rejects(
      () => resolvePlan({ scenarios: { api: { vus: 1, duration: '1s', requests: req, rampUp: 3 } } }, 'scn.ts'),
      ErrorCodes.INVALID_SCENARIO,
      'scn.ts: scenarios.api: unknown field "rampUp"',
    );
  });
  it('rejects a scenario with neither requests nor exec', async () => {
    await rejects(() => resolvePlan({ vus: 1, duration: '1s' }, 'scn.ts'), ErrorCodes.INVALID_SCENARIO, 'scn.ts: requests: expected "requests" (static requests) or "exec" (an iteration function)');
    await rejects(
      () => resolvePlan({ scenarios: { api: { vus: 1, duration: '1s' } } }, 'scn.ts'),
      ErrorCodes.INVALID_SCENARIO,
      'scn.ts: scenarios.api: expected "requests" (static requests) or "exec" (an iteration function)',
    );
    await rejects(() => resolvePlan({ vus: 1, duration: '1s', requests: [] }, 'scn.ts'), ErrorCodes.INVALID_SCENARIO, 'scn.ts: requests: expected at least one request');
  });
  it('rejects a bad duration and a bad rate inside a scenario', async () => {
    await rejects(
      () => resolvePlan({ vus: 1, duration: '30x', requests: req }, 'scn.ts'),
      ErrorCodes.INVALID_SCENARIO,
      'scn.ts: duration: invalid duration "30x": expected a number with a unit, such as 500ms, 30s, 5m, 1h or 1m30s',
    );
    await rejects(
      () => resolvePlan({ rate: 'lots', duration: '1s', requests: req }, 'scn.ts'),
      ErrorCodes.INVALID_SCENARIO,
      'scn.ts: rate: invalid rate "lots": expected a positive number of events per second, such as 500, 2k/s or 600/m',
    );
    await rejects(
      () => resolvePlan({ executor: 'ramping-vus', stages: [{ duration: '2q', target: 1 }], requests: req }, 'scn.ts'),
      ErrorCodes.INVALID_SCENARIO,
      'scn.ts: stages.0.duration: invalid duration "2q": expected a number with a unit, such as 500ms, 30s, 5m, 1h or 1m30s',
    );
  });
  it('rejects fields an executor needs but lacks, and inconsistent limits', async () => {
    await rejects(() => resolvePlan({ executor: 'constant-arrival-rate', duration: '1s', requests: req }, 'scn.ts'), ErrorCodes.INVALID_SCENARIO, 'scn.ts: rate: required by this executor: rate');
    await rejects(
      () => resolvePlan({ executor: 'constant-arrival-rate', rate: 10, duration: '1s', preAllocatedVUs: 5, maxVUs: 2, requests: req }, 'scn.ts'),
      ErrorCodes.INVALID_SCENARIO,
      'scn.ts: maxVUs: must be at least preAllocatedVUs (5)',
    );
    await rejects(() => resolvePlan({ executor: 'shared-iterations', vus: 5, iterations: 2, requests: req }, 'scn.ts'), ErrorCodes.INVALID_SCENARIO, 'scn.ts: iterations: must be at least vus (5)');
    await rejects(
      () => resolvePlan({ vus: 1, duration: '1s', requests: [{ url: '/relative' }] }, 'scn.ts'),
      ErrorCodes.INVALID_SCENARIO,
      'scn.ts: requests.0.url: relative URL "/relative" needs "baseUrl"',
    );
  });
  it('rejects an invalid threshold before any request is sent', async () => {
    const plan = resolvePlan({ vus: 1, duration: '1s', requests: req, thresholds: { 'http.latency': ['p(95)<<200'] } }, 'scn.ts');
    assert.throws(
      () => startLoad(plan, { workers: 0 }),
      (err: unknown) =>
        err instanceof RedlineError && err.code === ErrorCodes.INVALID_THRESHOLD && err.message === 'invalid threshold for "http.latency": "p(95)<<200" at position 7: expected a number',
    );
  });
});

describe('data files', () => {
  it('rejects malformed CSV and JSON-lines with the file and the place', async () => {
    await rejects(() => parseCsv('id,name\n1,"ann\n', 'users.csv'), ErrorCodes.BAD_DATA_FILE, 'users.csv: unterminated quoted field');
    await rejects(() => parseCsv('id,name\n1,ann\n2,bob,extra\n', 'users.csv'), ErrorCodes.BAD_DATA_FILE, 'users.csv: row 3 has 3 fields, the header has 2');
    await rejects(() => parseCsv('', 'users.csv'), ErrorCodes.BAD_DATA_FILE, 'users.csv: empty CSV file (expected a header row)');
    await rejects(() => parseJsonLines('{"a":1}\n{bad\n', 'items.jsonl'), ErrorCodes.BAD_DATA_FILE, 'items.jsonl: line 2 is not valid JSON');
    assert.deepEqual(parseCsv('a,b\r\n"x ""q""",2\r\n', 'ok.csv'), [{ a: 'x "q"', b: '2' }]);
  });

  it('fails a run with a missing or unrecognised data file before any request, rejecting started too', async () => {
    const exec = async (ctx: IterationContext): Promise<void> => {
      ctx.feed('users');
    };
    const missing = join(FIXTURES, 'missing.csv');
    const run = startLoad(resolvePlan({ vus: 1, iterations: 1, executor: 'per-vu-iterations', data: { users: { file: missing } }, exec }, 'scn.ts'), { workers: 0 });
    await rejects(() => run.result, ErrorCodes.BAD_DATA_FILE, `data "users": cannot read ${missing}`);
    await rejects(() => run.started, ErrorCodes.BAD_DATA_FILE, `data "users": cannot read ${missing}`);
    const odd = join(FIXTURES, 'certs.ts');
    const run2 = startLoad(resolvePlan({ vus: 1, iterations: 1, executor: 'per-vu-iterations', data: { users: { file: odd } }, exec }, 'scn.ts'), { workers: 0 });
    await rejects(() => run2.result, ErrorCodes.BAD_DATA_FILE, `data "users": cannot tell the format of ${odd}; set format: 'csv', 'jsonl' or 'json'`);
    // A .json data file must hold an array of rows.
    const object = join(FIXTURES, 'body.json');
    const run3 = startLoad(resolvePlan({ vus: 1, iterations: 1, executor: 'per-vu-iterations', data: { users: { file: object } }, exec }, 'scn.ts'), { workers: 0 });
    await rejects(() => run3.result, ErrorCodes.BAD_DATA_FILE, `${object}: expected a JSON array of rows, got object`);
  });
});

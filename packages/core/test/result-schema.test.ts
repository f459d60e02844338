import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ErrorCodes, readRunResult, RedlineError } from '../src/index.ts';
import { resultJsonSchema } from '../src/result-schema.ts';
import { syntheticRun } from '../../report/test/helpers/synthetic-run.ts';

const committedPath = new URL('../../../schema/result.schema.json', import.meta.url);

test('the committed schema/result.schema.json is the one generated from the zod definitions (run `npm run schema`)', async () => {
  const committed = await readFile(committedPath, 'utf8');
  assert.equal(committed, JSON.stringify(resultJsonSchema(), null, 2) + '\n');
});

test('a run result validates against the generated JSON Schema and is refused when a field has the wrong type', () => {
  const validate = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(resultJsonSchema());
  const run = syntheticRun({ durationS: 5 });
  assert.ok(validate(run), JSON.stringify(validate.errors?.slice(0, 3)));
  const bad = structuredClone(run) as unknown as { summary: { latency: { p99: unknown } } };
  bad.summary.latency.p99 = 'fast';
  assert.equal(validate(bad), false);
  assert.equal(validate.errors?.[0]?.instancePath, '/summary/latency/p99');
});

async function runDirWith(mutate: (r: Record<string, unknown>) => void): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'redline-schema-'));
  const run = structuredClone(syntheticRun({ durationS: 4 })) as unknown as Record<string, unknown>;
  mutate(run);
  await writeFile(join(dir, 'result.json'), JSON.stringify(run));
  return dir;
}

async function readError(dir: string): Promise<RedlineError> {
  try {
    await readRunResult(dir);
  } catch (err) {
    assert.ok(err instanceof RedlineError);
    return err;
  }
  assert.fail('readRunResult accepted a bad result.json');
}

test('readRunResult reads a valid run directory unchanged', async () => {
  const dir = await runDirWith(() => undefined);
  const read = await readRunResult(dir);
  assert.deepEqual(read, JSON.parse(JSON.stringify(syntheticRun({ durationS: 4 }))));
});

test('readRunResult names the field path of a wrong type (REDLINE_ERR_BAD_RUN_DIR)', async () => {
  const dir = await runDirWith((r) => {
    (r.target as { pid: unknown }).pid = '<img src=x onerror=alert(1)>';
  });
  const err = await readError(dir);
  assert.equal(err.code, ErrorCodes.BAD_RUN_DIR);
  assert.match(err.message, /result\.json does not match the result schema: target\.pid: expected number, received string/);
});

test('readRunResult names a bad entry inside arrays and records', async () => {
  const dir = await runDirWith((r) => {
    const findings = r.findings as { severity: unknown; frames: { line: unknown }[] }[];
    findings.push({ ...(findings[0] ?? {}), severity: 'critical', frames: [] } as never);
    (r.summary as { byName: Record<string, { errors: unknown }> }).byName['GET /a b'] = { errors: -1 } as never;
  });
  const err = await readError(dir);
  assert.equal(err.code, ErrorCodes.BAD_RUN_DIR);
  assert.match(err.message, /summary\.byName\["GET \/a b"\]\.\w+|findings\[\d+\]\.severity/);
  assert.match(err.message, /and \d+ more problems?\)/);
});

test('readRunResult refuses unknown top-level fields and a missing required one', async () => {
  const extra = await readError(await runDirWith((r) => { r.surprise = 1; }));
  assert.equal(extra.code, ErrorCodes.BAD_RUN_DIR);
  assert.match(extra.message, /surprise/);
  const missing = await readError(await runDirWith((r) => { delete r.histograms; }));
  assert.match(missing.message, /histograms: expected object, received undefined/);
});

test('readRunResult still refuses an unknown schema version before checking fields', async () => {
  const err = await readError(await runDirWith((r) => { r.schemaVersion = 2; r.summary = null; }));
  assert.equal(err.code, ErrorCodes.BAD_RUN_DIR);
  assert.match(err.message, /schemaVersion 2; this Redline reads version 1/);
});

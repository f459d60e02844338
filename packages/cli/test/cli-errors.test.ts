import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

async function runCli(argv: string[]): Promise<{ code: number; stderr: string; stdout: string }> {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-cli-'));
  const io = fakeIo(argv, cwd);
  const code = await main(io);
  return { code, stderr: io.stderrText(), stdout: io.stdoutText() };
}

/** A user mistake: exit 2, exactly one line on stderr, no stack trace. */
function assertUsage(r: { code: number; stderr: string }, message: string): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `redline: ${message}\n`);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}

test('a missing scenario file exits 2 with one line naming the file', async () => {
  assertUsage(await runCli(['run', 'nope/missing.ts']), 'scenario file not found: nope/missing.ts');
});

test('a malformed URL exits 2', async () => {
  assertUsage(await runCli(['run', '--url', 'not a url', '--rate', '10']), 'invalid URL "not a url": expected an absolute http:// or https:// URL such as http://127.0.0.1:8080/');
  assertUsage(await runCli(['run', '--url', 'ftp://127.0.0.1/', '--vus', '1']), 'unsupported protocol "ftp:" in URL "ftp://127.0.0.1/": use http:// or https://');
});

test('a bad duration exits 2', async () => {
  assertUsage(await runCli(['run', '--url', 'http://127.0.0.1:1/', '--rate', '10', '--duration', '30x']), 'invalid duration "30x": expected a number with a unit, such as 500ms, 30s, 5m, 1h or 1m30s');
});

test('a bad rate exits 2', async () => {
  assertUsage(await runCli(['run', '--url', 'http://127.0.0.1:1/', '--rate', 'fast']), 'invalid rate "fast": expected a positive number of events per second, such as 500, 2k/s or 600/m');
});

test('an unknown profile exits 2 and lists the profiles', async () => {
  assertUsage(await runCli(['run', '--url', 'http://127.0.0.1:1/', '--rate', '10', '--profile', 'huge']), 'unknown profile "huge": expected one of smoke, load, stress, spike, soak, breakpoint');
});

test('an unknown executor in a scenario exits 2 naming the file and field', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-scn-'));
  const file = join(dir, 'bad.mjs');
  await writeFile(file, "export default { executor: 'constant-speed', vus: 1, duration: '1s', requests: [{ url: 'http://127.0.0.1:1/' }] };\n");
  const r = await runCli(['run', file]);
  assertUsage(r, `${file}: executor: expected one of constant-vus, ramping-vus, per-vu-iterations, shared-iterations, constant-arrival-rate, ramping-arrival-rate`);
});

test('an invalid scenario field names the file, the field path and what was expected', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-scn-'));
  const file = join(dir, 'bad.mjs');
  await writeFile(file, "export default { scenarios: { browse: { executor: 'constant-vus', vus: 'ten', duration: '1s', requests: [{ url: 'http://127.0.0.1:1/' }] } } };\n");
  assertUsage(await runCli(['run', file]), `${file}: scenarios.browse.vus: expected a positive integer`);
});

test('an invalid threshold is rejected before the run, naming metric, expression and position', async () => {
  const r = await runCli(['run', '--url', 'http://127.0.0.1:1/', '--rate', '10', '--threshold', 'http.latency=p(95)<>200']);
  assertUsage(r, 'invalid threshold for "http.latency": "p(95)<>200" at position 7: expected a number');
});

test('unknown commands and flags exit 2 with a pointer to help', async () => {
  assertUsage(await runCli(['explode']), 'unknown command "explode": expected one of run, demo, report, compare, capacity, cache, overload, tune, convert, coordinate, merge, k8s (see redline --help)');
  const r = await runCli(['run', '--frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^redline run: Unknown option '--frobnicate' \(see redline run --help\)\n$/);
});

test('--verbose adds the stack trace to a user error', async () => {
  const r = await runCli(['run', 'nope/missing.ts', '--verbose']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /scenario file not found/);
  assert.match(r.stderr, /\n\s+at /);
});

test('report on a directory that is not a run exits 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-notrun-'));
  const r = await runCli(['report', dir]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, `redline: ${dir} is not a run directory: no result.json in it\n`);
});

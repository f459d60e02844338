import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { RunResult } from '@redline/core';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';
import { startServer } from './helpers/server.js';

let server: Awaited<ReturnType<typeof startServer>>;
let slow: Awaited<ReturnType<typeof startServer>>;
before(async () => {
  server = await startServer();
  slow = await startServer(50);
});
after(async () => {
  await server.close();
  await slow.close();
});

const schema = JSON.parse(await readFile(new URL('../../../schema/result.schema.json', import.meta.url), 'utf8')) as object;
const validate = new Ajv2020({ allErrors: true, strict: false, validateFormats: false }).compile(schema);

test('quick mode writes a run directory whose result.json matches the JSON Schema, plus report.html', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-run-'));
  const out = join(cwd, 'run1');
  const io = fakeIo(['run', '--url', `${server.url}/hello`, '--rate', '50', '--duration', '2s', '--out', out, '--workers', '1'], cwd);
  const code = await main(io);
  assert.equal(code, 0, io.stderrText());
  const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
  assert.ok(validate(result), JSON.stringify(validate.errors?.slice(0, 3)));
  assert.equal(result.status, 'completed');
  assert.ok(Math.abs(result.summary.requests - 100) <= 1, `requests ${result.summary.requests}`);
  assert.ok((await stat(join(out, 'report.html'))).size > 10_000);
  assert.match(io.stdoutText(), /http\.requests \.+: 10\d/);
  assert.match(io.stdoutText(), /from intended send time/);
  assert.match(io.stdoutText(), /report: run1\/report\.html/);
});

test('--json prints the summary as JSON on stdout', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-run-'));
  const io = fakeIo(['run', '--url', server.url, '--vus', '2', '--duration', '1s', '--json', '--no-report', '--workers', '0'], cwd);
  assert.equal(await main(io), 0, io.stderrText());
  const parsed = JSON.parse(io.stdoutText()) as { status: string; summary: { requests: number }; runDir: string };
  assert.equal(parsed.status, 'completed');
  assert.ok(parsed.summary.requests > 0);
  assert.ok(parsed.runDir.startsWith(join(cwd, '.redline', 'runs')));
});

test('a failed threshold exits 99 and shows the failing expression', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-run-'));
  const io = fakeIo(['run', '--url', slow.url, '--rate', '20', '--duration', '1s', '--threshold', 'http.latency=p(99)<10', '--no-report'], cwd);
  assert.equal(await main(io), 99);
  assert.match(io.stdoutText(), /✗ http\.latency p\(99\)<10 {3}actual \d+/);
});

test('Ctrl-C stops gracefully: the partial result is written and marked interrupted (exit 130)', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-run-'));
  const out = join(cwd, 'partial');
  const io = fakeIo(['run', '--url', slow.url, '--rate', '40', '--duration', '30s', '--out', out, '--no-report'], cwd);
  const before = slow.requests();
  const done = main(io);
  // Stop about 1 s into the load: worker start-up alone can take 2 s on a loaded machine.
  for (const deadline = Date.now() + 20_000; slow.requests() === before && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 1000));
  io.raise('SIGINT');
  const code = await done;
  assert.equal(code, 130);
  assert.match(io.stderrText(), /stopping: no new iterations/);
  const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
  assert.equal(result.status, 'interrupted');
  assert.ok(result.summary.requests > 10 && result.summary.requests < 200, `requests ${result.summary.requests}`);
  assert.ok(result.summary.durationMs < 10_000);
  assert.match(io.stdoutText(), /interrupted: the result holds what was measured before the stop/);
});

test('a second Ctrl-C stops at once and still writes the result', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-run-'));
  const out = join(cwd, 'aborted');
  const hang = await startServer(60_000);
  try {
    const io = fakeIo(['run', '--url', hang.url, '--vus', '5', '--duration', '30s', '--out', out, '--no-report'], cwd);
    const started = Date.now();
    const done = main(io);
    await new Promise((r) => setTimeout(r, 1200));
    io.raise('SIGINT');
    io.raise('SIGINT');
    assert.equal(await done, 130);
    assert.ok(Date.now() - started < 8000, 'hard stop did not wait for the grace period');
    const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
    assert.equal(result.status, 'interrupted');
  } finally {
    await hang.close();
  }
});

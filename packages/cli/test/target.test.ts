// `--target` and `--attach` through the CLI: the probe's timeline lines up with the load's, a crash
// keeps the load results, and a target that cannot start (or a port without an inspector) is a clear
// error with exit code 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '@redline/core';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const node = `"${process.execPath}"`;

async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'redline-target-'));
}

async function readResult(dir: string): Promise<RunResult> {
  return JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as RunResult;
}

/** The second (run clock) holding the largest value, and that value. */
function peak(points: { t: number; v: number }[]): { t: number; v: number } {
  return points.reduce((best, p) => (p.v > best.v ? p : best), { t: -1, v: -Infinity });
}

test('a 1 s stall in the target peaks in the same second in its loop delay and in the load latency', async () => {
  const cwd = await tempDir();
  const out = join(cwd, 'run');
  const io = fakeIo(
    ['run', '--url', '/', '--rate', '40', '--duration', '6s', '--max-vus', '64', '--timeout', '5s', '--target', `${node} ${join(FIXTURES, 'stall-server.mjs')}`, '--out', out, '--no-report', '--workers', '0'],
    cwd,
    { STALL_MS: '1000', STALL_AFTER_MS: '2500' },
  );
  const code = await main(io);
  assert.ok(code === 0 || code === 99, `exit ${code}: ${io.stderrText()}`);
  const r = await readResult(out);
  const samples = r.target?.samples ?? [];
  assert.ok(samples.length >= 5, `only ${samples.length} target samples`);
  const loop = peak(samples.map((s) => ({ t: s.t, v: s.loopDelayMs.max })));
  const latency = peak(r.timeseries.map((p) => ({ t: p.t, v: p.latency?.max ?? 0 })));
  // The stall is planted ~2.5 s after the first request and lasts 1 s: both sides must see ~1 s.
  assert.ok(loop.v >= 700, `loop delay max peaked at ${loop.v} ms (t=${loop.t})`);
  assert.ok(latency.v >= 700, `latency max peaked at ${latency.v} ms (t=${latency.t})`);
  assert.ok(Math.abs(loop.t - latency.t) <= 1, `loop delay peaks at t=${loop.t}, latency at t=${latency.t}`);
  assert.ok(loop.t >= 2 && loop.t <= 5, `stall seen at t=${loop.t}, planted at ~3-4 s`);
});

test('a target that crashes mid-run keeps the load results and yields a target-exited finding', async () => {
  const cwd = await tempDir();
  const out = join(cwd, 'run');
  const io = fakeIo(
    ['run', '--url', '/', '--rate', '40', '--duration', '5s', '--timeout', '1s', '--target', `${node} ${join(FIXTURES, 'crash-server.mjs')}`, '--out', out, '--no-report', '--workers', '0'],
    cwd,
    { CRASH_AFTER_MS: '2000' },
  );
  const code = await main(io);
  assert.notEqual(code, 2, io.stderrText());
  const r = await readResult(out);
  assert.ok(r.summary.requests >= 40, `requests kept: ${r.summary.requests}`);
  assert.ok(r.summary.errors > 0, 'requests after the crash fail');
  assert.ok(r.timeseries.length >= 4);
  const exit = r.target?.exit;
  assert.ok(exit, 'result.target.exit is set');
  assert.equal(exit.code, 3);
  assert.ok(exit.t >= 1 && exit.t <= 4.5, `exit at t=${exit.t}`);
  const f = r.findings.find((x) => x.category === 'target-exited');
  assert.ok(f, r.findings.map((x) => x.title).join('\n'));
  assert.match(f.title, /^Target exited \(code 3\) at t=\d+(\.\d)?s$/);
  assert.equal(r.findings[0]?.category, 'target-exited');
  assert.match(io.stderrText(), /target exited \(code 3\) at t=/);
});

async function expectStartFailure(target: string, extra: string[], message: RegExp): Promise<void> {
  const cwd = await tempDir();
  const io = fakeIo(['run', '--url', '/', '--rate', '10', '--duration', '2s', '--target', target, ...extra, '--no-report', '--workers', '0'], cwd);
  assert.equal(await main(io), 2, io.stderrText());
  assert.match(io.stderrText(), message);
}

test('--target with a command that does not exist: exit 2 quoting the shell error', async () => {
  await expectStartFailure('redline-no-such-command-xyz --port 0', [], /^redline: .*redline-no-such-command-xyz.*not found/m);
});

test('--target that exits at once: exit 2 quoting its stderr', async () => {
  await expectStartFailure(`${node} ${join(FIXTURES, 'exits-at-once.mjs')}`, [], /^redline: .*(code 4|exited).*exits-at-once: missing DATABASE_URL/m);
});

test('--target that never becomes ready: exit 2 after --start-timeout, quoting its stderr', async () => {
  await expectStartFailure(`${node} ${join(FIXTURES, 'never-ready.mjs')}`, ['--start-timeout', '1500ms'], /^redline: .*never-ready: still warming the cache/m);
});

test('--attach to a port with no inspector: exit 2 with a clear message', async () => {
  // A plain TCP server that accepts and closes: something listens, but it is no inspector.
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const cwd = await tempDir();
    const io = fakeIo(['run', '--url', 'http://127.0.0.1:1/', '--rate', '10', '--duration', '1s', '--attach', `127.0.0.1:${port}`, '--no-report', '--workers', '0'], cwd);
    assert.equal(await main(io), 2, io.stderrText());
    assert.match(io.stderrText(), new RegExp(`^redline: no Node\\.js inspector at 127\\.0\\.0\\.1:${port} \\(.+\\); start the target with --inspect`, 'm'));
  } finally {
    server.close();
  }
});

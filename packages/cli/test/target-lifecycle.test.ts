// The `--target` process lives and dies with the runner: killing the runner (SIGKILL, SIGHUP) ends
// the target; Ctrl-C while it starts stops at once; bad load flags are reported before it starts; the
// runner's environment reaches it; a start failure quotes Node's own error line. Real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/redline.js', import.meta.url));
const node = `"${process.execPath}"`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function waitFor<T>(what: string, fn: () => Promise<T | null> | T | null, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const readPid = async (file: string): Promise<number | null> => {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text === '' ? null : Number(text);
};

for (const signal of ['SIGKILL', 'SIGHUP'] as const) {
  test(`killing the runner with ${signal} ends the --target process too`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'redline-orphan-'));
    const pidFile = join(dir, 'target.pid');
    const runner = spawn(
      process.execPath,
      [BIN, 'run', '--url', '/', '--rate', '5', '--duration', '60s', '--target', `${node} ${join(FIXTURES, 'pid-server.mjs')}`, '--no-report', '--workers', '0', '--out', join(dir, 'run')],
      { cwd: dir, env: { ...process.env, PID_FILE: pidFile }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    runner.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      await waitFor('the target to be ready', () => (stderr.includes('target ready') ? true : null), 30_000);
      const pid = await waitFor('the target pid', () => readPid(pidFile), 5000);
      assert.ok(alive(pid), 'the target runs while the runner does');
      runner.kill(signal);
      await waitFor(`the target (pid ${pid}) to exit after the runner got ${signal}`, () => (alive(pid) ? null : true), 10_000);
    } finally {
      runner.kill('SIGKILL');
      const pid = await readPid(pidFile);
      if (pid !== null && alive(pid)) process.kill(pid, 'SIGKILL');
    }
  });
}

test('Ctrl-C while the target is starting stops it at once with exit 130, not after --start-timeout', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-ctrlc-'));
  const pidFile = join(cwd, 'target.pid');
  const io = fakeIo(['run', '--url', '/', '--rate', '5', '--duration', '2s', '--target', `${node} ${join(FIXTURES, 'never-ready.mjs')}`, '--start-timeout', '60s', '--no-report', '--workers', '0'], cwd, {
    PID_FILE: pidFile,
  });
  const t0 = Date.now();
  const running = main(io);
  // The pid file is written by the target, from the environment the runner gave it.
  const pid = await waitFor('the target to start', () => readPid(pidFile), 20_000);
  io.raise('SIGINT');
  const code = await running;
  assert.equal(code, 130, io.stderrText());
  assert.ok(Date.now() - t0 < 30_000, `took ${Date.now() - t0} ms`);
  assert.match(io.stderrText(), /^redline: interrupted while target ".*never-ready\.mjs" was starting; it was stopped$/m);
  assert.match(io.stderrText(), /^stopping: the target is still starting; stopping it$/m);
  await waitFor('the starting target to be gone', () => (alive(pid) ? null : true), 5000);
});

test('bad load flags are reported before the target is started', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-flags-first-'));
  const pidFile = join(cwd, 'target.pid');
  const target = `${node} ${join(FIXTURES, 'pid-server.mjs')}`;
  const cases: Array<[string[], RegExp]> = [
    [['--rate', '10m'], /^redline: invalid rate "10m": "m" is ambiguous/m],
    [['--rate', '10', '--duration', '600h'], /^redline: --duration 600h is too long/m],
    [['--rate', '10', '--profile', 'nope'], /^redline: unknown profile "nope"/m],
    [['--rate', '10', '--out', join(FIXTURES, 'pid-server.mjs')], /^redline: cannot write results to --out .*pid-server\.mjs: it is an existing file, not a directory$/m],
  ];
  for (const [flags, message] of cases) {
    const io = fakeIo(['run', '--url', '/', ...flags, '--target', target, '--no-report', '--workers', '0'], cwd, { PID_FILE: pidFile });
    assert.equal(await main(io), 2, io.stderrText());
    assert.match(io.stderrText(), message);
    assert.doesNotMatch(io.stderrText(), /starting target/);
    await assert.rejects(stat(pidFile), { code: 'ENOENT' }, `the target was started for ${flags.join(' ')}`);
  }
  // With a scenario file, flags its load model refuses are also caught before the target starts.
  const stages = join(cwd, 'stages.mjs');
  await writeFile(stages, `export default { executor: 'ramping-vus', stages: [{ duration: '1s', target: 2 }], requests: [{ url: process.env.REDLINE_TARGET_URL ?? 'http://127.0.0.1:1' }] };\n`);
  const closed = join(cwd, 'closed.mjs');
  await writeFile(closed, `export default (env) => ({ executor: 'constant-vus', vus: 2, duration: '1s', requests: [{ url: env.REDLINE_TARGET_URL + '/' }] });\n`);
  const fileCases: Array<[string, string[], RegExp]> = [
    [stages, ['--duration', '5s'], /^redline: --duration cannot be applied to .*stages\.mjs: its length comes from its "stages"/m],
    [closed, ['--max-vus', '4'], /^redline: --max-vus cannot be applied to .*closed\.mjs: /m],
  ];
  for (const [file, flags, message] of fileCases) {
    const io = fakeIo(['run', file, ...flags, '--target', target, '--no-report', '--workers', '0'], cwd, { PID_FILE: pidFile });
    assert.equal(await main(io), 2, io.stderrText());
    assert.match(io.stderrText(), message);
    assert.doesNotMatch(io.stderrText(), /starting target/);
    await assert.rejects(stat(pidFile), { code: 'ENOENT' }, `the target was started for ${file} ${flags.join(' ')}`);
  }
});

test('a target whose module is missing quotes "Cannot find module", not Node internals', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-nomodule-'));
  const io = fakeIo(['run', '--url', '/', '--rate', '5', '--duration', '1s', '--target', `${node} ${join(cwd, 'no-such-app.mjs')}`, '--no-report', '--workers', '0'], cwd);
  assert.equal(await main(io), 2, io.stderrText());
  assert.match(io.stderrText(), /^redline: target ".*" exited with code 1 before it became ready; last stderr: Error: Cannot find module '.*no-such-app\.mjs'$/m);
  assert.doesNotMatch(io.stderrText(), /MODULE_NOT_FOUND|requireStack|node:internal/);
});

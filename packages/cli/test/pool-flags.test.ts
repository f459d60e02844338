import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCodes } from '@redline/core';
import { launchTarget } from '@redline/probe/host';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

async function runCli(argv: string[]): Promise<{ code: number; stderr: string }> {
  const io = fakeIo(argv, await mkdtemp(join(tmpdir(), 'redline-cli-')));
  const code = await main(io);
  return { code, stderr: io.stderrText() };
}

test('--pool-leak-ms that is not a positive integer exits 2 naming the flag', async () => {
  for (const bad of ['soon', '0', '1.5']) {
    const r = await runCli(['run', '--url', '/', '--rate', '10', '--pool-leak-ms', bad, '--target', 'node -e 0']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `redline: invalid --pool-leak-ms "${bad}": expected an integer ≥ 1\n`);
  }
});

test('--pool-leak-ms without --target exits 2: only a target the probe starts has its pools watched', async () => {
  const r = await runCli(['run', '--url', 'http://127.0.0.1:1/', '--rate', '10', '--pool-leak-ms', '500']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, 'redline run: --pool-leak-ms needs --target (the probe watches the pools of a target it starts)\n');
});

test('launchTarget rejects a poolLeakMs out of range with REDLINE_ERR_INVALID_ARGUMENT', async () => {
  await assert.rejects(launchTarget({ command: 'node -e 0', poolLeakMs: 0 }), (err: unknown) => {
    const e = err as { code?: string; message?: string };
    return e.code === ErrorCodes.INVALID_ARGUMENT && /poolLeakMs must be a number from 1 to 86400000 ms, got 0/.test(e.message ?? '');
  });
});

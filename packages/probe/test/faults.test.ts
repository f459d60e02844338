import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ErrorCodes, RedlineError } from '@redline/core';
import { launchTarget } from '@redline/probe/host';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

function expectCode(code: string, message: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof RedlineError, `expected a RedlineError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    assert.ok(!err.message.includes('\n'), 'one-line message');
    return true;
  };
}

test('a command that does not exist fails with TARGET_START_FAILED and quotes stderr', async () => {
  await assert.rejects(
    launchTarget({ command: 'redline-no-such-binary --port 1', cwd: fixtures }),
    expectCode(
      ErrorCodes.TARGET_START_FAILED,
      /^target "redline-no-such-binary --port 1": command not found \(exit code 127\); last stderr: .*redline-no-such-binary: not found/,
    ),
  );
});

test('a target that exits at once fails with its exit code and last stderr lines', async () => {
  await assert.rejects(
    launchTarget({ command: `node -e "console.error('boom: config missing'); process.exit(3)"`, cwd: fixtures }),
    expectCode(ErrorCodes.TARGET_START_FAILED, /exited with code 3 before it became ready; last stderr: boom: config missing$/),
  );
});

test('a target that throws at startup quotes the error', async () => {
  await assert.rejects(
    launchTarget({ command: `node -e "throw new Error('cannot bind database')"`, cwd: fixtures }),
    expectCode(ErrorCodes.TARGET_START_FAILED, /exited with code 1 before it became ready; last stderr: .*Error: cannot bind database/),
  );
});

test('a target that never becomes ready times out, is killed, and the message quotes its stderr', async () => {
  const t0 = Date.now();
  await assert.rejects(
    launchTarget({ command: 'node slow-start.mjs', cwd: fixtures, startTimeoutMs: 1500 }),
    expectCode(
      ErrorCodes.TARGET_START_FAILED,
      /^target "node slow-start\.mjs" did not become ready within 1500 ms \(no listening port was reported\); last stderr: starting up \| still loading config$/,
    ),
  );
  assert.ok(Date.now() - t0 >= 1400);
});

test('a missing working directory is a start failure', async () => {
  await assert.rejects(
    launchTarget({ command: 'node x.js', cwd: '/nonexistent/redline-dir' }),
    expectCode(ErrorCodes.TARGET_START_FAILED, /^target working directory does not exist: \/nonexistent\/redline-dir$/),
  );
});

test('bad options are rejected up front with the option named', async () => {
  await assert.rejects(launchTarget({ command: '  ' }), expectCode(ErrorCodes.INVALID_ARGUMENT, /^launchTarget: command must be a non-empty string$/));
  await assert.rejects(
    launchTarget({ command: 'node x', intervalMs: 0 }),
    expectCode(ErrorCodes.INVALID_ARGUMENT, /^launchTarget: intervalMs must be a number from 10 to 60000 ms, got 0$/),
  );
  await assert.rejects(
    launchTarget({ command: 'node x', startTimeoutMs: Number.NaN }),
    expectCode(ErrorCodes.INVALID_ARGUMENT, /^launchTarget: startTimeoutMs must be a number from 100 to 600000 ms, got NaN$/),
  );
  await assert.rejects(
    launchTarget({ command: 'node x', probe: false }),
    expectCode(ErrorCodes.INVALID_ARGUMENT, /^launchTarget: waitForUrl is required when probe is false \(nothing else can tell readiness\)$/),
  );
  await assert.rejects(
    launchTarget({ command: 'node x', waitForUrl: 'ftp://127.0.0.1/' }),
    expectCode(ErrorCodes.BAD_URL, /^launchTarget: waitForUrl must be http\(s\), got ftp:\/\/127\.0\.0\.1\/$/),
  );
});

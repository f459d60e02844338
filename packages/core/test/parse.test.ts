import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseRate, parseSize, formatDuration, ErrorCodes, isRedlineError, exitCodeFor } from '@redline/core';

test('parseDuration understands units, compounds and bare seconds', () => {
  assert.equal(parseDuration('30s'), 30_000);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('45'), 45_000);
  assert.equal(parseDuration(1.5), 1500);
});

test('parseDuration rejects "30x" with REDLINE_ERR_BAD_DURATION and a one-line message', () => {
  assert.throws(() => parseDuration('30x'), (err: unknown) => {
    assert.ok(isRedlineError(err, ErrorCodes.BAD_DURATION));
    assert.equal(err.message, 'invalid duration "30x": expected a number with a unit, such as 500ms, 30s, 5m, 1h or 1m30s');
    assert.equal(exitCodeFor(err), 2);
    return true;
  });
  assert.throws(() => parseDuration(''), { code: ErrorCodes.BAD_DURATION });
  assert.throws(() => parseDuration('s'), { code: ErrorCodes.BAD_DURATION });
});

test('parseRate accepts plain numbers, k suffix and per-unit forms', () => {
  assert.equal(parseRate('2000'), 2000);
  assert.equal(parseRate('2k/s'), 2000);
  assert.equal(parseRate('600/m'), 10);
  assert.equal(parseRate('100rps'), 100);
  assert.equal(parseRate(50), 50);
});

test('parseRate rejects zero, negatives and garbage with REDLINE_ERR_BAD_RATE', () => {
  for (const bad of ['0', '-5', 'fast', '10/x']) {
    assert.throws(() => parseRate(bad), (err: unknown) => {
      assert.ok(isRedlineError(err, ErrorCodes.BAD_RATE));
      assert.match(err.message, new RegExp(`^invalid rate "${bad.replace('/', '\\/')}": expected a positive number`));
      return true;
    });
  }
});

test('parseSize uses binary units', () => {
  assert.equal(parseSize('50mb'), 50 * 1024 * 1024);
  assert.equal(parseSize('512kb'), 512 * 1024);
  assert.equal(parseSize('100'), 100);
  assert.throws(() => parseSize('5 parsecs'), { code: ErrorCodes.BAD_SIZE });
});

test('formatDuration is compact', () => {
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(formatDuration(1500), '1.5s');
});

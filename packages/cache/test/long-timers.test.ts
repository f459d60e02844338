// Delays longer than one Node.js timer (2^31 - 1 ms, ~24.8 days) are honoured by the cache's
// clock: Node would fire such a setTimeout after 1 ms, ending a 30-day TTL or breaker window at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIMER_MS } from '@redline/core';
import { systemTimerClock } from '@redline/cache';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a 30-day timer does not fire at once, and clearTimeout cancels it', async () => {
  let fired = 0;
  const handle = systemTimerClock.setTimeout(() => fired++, 30 * 24 * 3_600_000);
  await sleep(50);
  assert.equal(fired, 0, 'a delay above 2^31 - 1 ms must not fire after 1 ms');
  systemTimerClock.clearTimeout(handle);
});

test('a delay just over the limit is chunked; a short one still fires', async () => {
  let long = 0;
  const h = systemTimerClock.setTimeout(() => long++, MAX_TIMER_MS + 1);
  let short = 0;
  systemTimerClock.setTimeout(() => short++, 5);
  await sleep(60);
  assert.equal(short, 1);
  assert.equal(long, 0);
  systemTimerClock.clearTimeout(h);
});

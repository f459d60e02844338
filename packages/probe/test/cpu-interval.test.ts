import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultCpuSamplingIntervalUs, MAX_DEFAULT_CPU_INTERVAL_US, MIN_PROFILE_SAMPLES } from '@redline/probe/host';

test('a 12 s run (a ~10.2 s profile window) samples every 20 ms, at least 500 samples', () => {
  const us = defaultCpuSamplingIntervalUs(10_200);
  assert.equal(us, 20_000);
  assert.equal(MAX_DEFAULT_CPU_INTERVAL_US, 20_000);
  assert.ok(10_200_000 / us >= MIN_PROFILE_SAMPLES, `${10_200_000 / us} samples`);
});

test('shorter windows sample more often to keep the sample count, down to 1 ms', () => {
  assert.equal(defaultCpuSamplingIntervalUs(2200), 4400);
  assert.equal(defaultCpuSamplingIntervalUs(6800), 13_600);
  assert.equal(defaultCpuSamplingIntervalUs(300), 1000);
  for (const ms of [600, 2200, 5000, 9999]) assert.ok((ms * 1000) / defaultCpuSamplingIntervalUs(ms) >= MIN_PROFILE_SAMPLES - 1, String(ms));
});

test('long windows stay at 20 ms; a bad window falls back to 1 ms', () => {
  assert.equal(defaultCpuSamplingIntervalUs(600_000), 20_000);
  assert.equal(defaultCpuSamplingIntervalUs(0), 1000);
  assert.equal(defaultCpuSamplingIntervalUs(-5), 1000);
  assert.equal(defaultCpuSamplingIntervalUs(Number.NaN), 1000);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getHeapStatistics } from 'node:v8';
import { aggregateSamples, type RawProbeSample } from '@redline/probe';
import { createSampler, type SamplerDeps } from '../src/sampler.cjs';
import { realSamplerDeps } from './helpers/sampler-deps.ts';

const procIo = (rchar: number, syscr: number, writeBytes = 0): string =>
  `rchar: ${rchar}\nwchar: 10\nsyscr: ${syscr}\nsyscw: 1\nread_bytes: 0\nwrite_bytes: ${writeBytes}\ncancelled_write_bytes: 0\n`;

const deps = (readProcIo: SamplerDeps['readProcIo']): SamplerDeps => realSamplerDeps(readProcIo ? { readProcIo } : {});

test('the sampler reports /proc/self/io as per-window deltas, and the heap limit', () => {
  const reads = [procIo(1000, 10), procIo(5096, 14, 4096), procIo(5096, 14, 4096)];
  const sampler = createSampler(deps(() => reads.shift() ?? null));
  try {
    const first = sampler.take(0);
    assert.deepEqual(first.io, { readBytes: 0, writeBytes: 4096, syscr: 4, syscw: 0, rchar: 4096, wchar: 0 });
    assert.equal(first.heapLimitBytes, getHeapStatistics().heap_size_limit);
    assert.deepEqual(sampler.take(0).io, { readBytes: 0, writeBytes: 0, syscr: 0, syscw: 0, rchar: 0, wchar: 0 });
    // The file went away (or never existed, as off Linux): the field is absent, not zero.
    assert.equal(sampler.take(0).io, undefined);
  } finally {
    sampler.stop();
  }
});

test('without /proc/self/io (other platforms) samples carry no io field', () => {
  const sampler = createSampler(deps(() => null));
  try {
    assert.equal('io' in sampler.take(0), false);
  } finally {
    sampler.stop();
  }
  const throwing = createSampler(deps(() => {
    throw new Error('EACCES');
  }));
  try {
    assert.equal('io' in throwing.take(0), false);
  } finally {
    throwing.stop();
  }
});

test('aggregateSamples sums the io deltas of the windows closing in each second', () => {
  const T0 = 1_700_000_000_000;
  const raw: RawProbeSample[] = [];
  for (let i = 0; i < 20; i++) {
    raw.push({
      pid: 1, thread: 'main', startEpochMs: T0 + i * 100, endEpochMs: T0 + (i + 1) * 100,
      elu: { activeMs: 10, idleMs: 90 }, loopDelay: null, gc: {}, heapAfterMajorGcBytes: null,
      heapUsedBytes: 1, heapTotalBytes: 2, externalBytes: 0, rssBytes: 3, cpu: { userUs: 100, systemUs: 10 },
      activeResources: {}, dropped: 0, heapLimitBytes: 4096 * 1024 * 1024,
      // No io in the second half of second 2: it still sums what it has.
      ...(i < 15 ? { io: { readBytes: 0, writeBytes: 512, syscr: 3, syscw: 1, rchar: 8192, wchar: 100 } } : {}),
    });
  }
  const [s1, s2] = aggregateSamples(raw, T0);
  assert.deepEqual(s1?.io, { readBytes: 0, writeBytes: 5120, syscr: 30, syscw: 10, rchar: 81920, wchar: 1000 });
  assert.deepEqual(s2?.io, { readBytes: 0, writeBytes: 2560, syscr: 15, syscw: 5, rchar: 40960, wchar: 500 });
  assert.equal(s1?.heapLimitBytes, 4096 * 1024 * 1024);
});

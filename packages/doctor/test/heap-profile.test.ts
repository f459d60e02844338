import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diagnose, loadHeapProfile, topAllocationFrames } from '../src/index.ts';
import { FIXTURES, recordHeapProfile } from './helpers/record.ts';
import { makeRunResult, point, sample, seconds } from './helpers/run-result.ts';

test('a real sampling heap profile names the allocation-heavy function', async () => {
  const heap = await recordHeapProfile(`${FIXTURES}alloc.mjs`);
  const frames = topAllocationFrames(heap, { limit: 5, appRoot: FIXTURES });
  const top = frames[0];
  assert.ok(top !== undefined);
  assert.equal(top.functionName, 'allocateRows');
  assert.equal(top.file, 'alloc.mjs');
  assert.equal(top.line, 2);
  assert.equal(top.area, 'app');
  assert.ok(top.selfShare > 0.5, `selfShare ${top.selfShare}`);
  assert.ok(top.totalShare >= top.selfShare);
  const small = frames.find((f) => f.functionName === 'smallAllocation');
  assert.ok(small === undefined || small.selfShare < 0.05);

  // The GC finding names it.
  const n = 8;
  const r = makeRunResult({ durationS: n, timeseries: seconds(n, (t) => point(t, 200, 20)), samples: seconds(n, (t) => sample(t, { gcShare: 0.2 })) });
  const gc = diagnose(r, { heapProfile: heap, appRoot: FIXTURES }).find((f) => f.category === 'gc-pressure');
  assert.match(gc?.title ?? '', /; most allocated bytes: allocateRows \(alloc\.mjs:2\) \d+%$/);
  assert.match(gc?.recommendation ?? '', /Start with allocateRows \(alloc\.mjs:2\), which allocates \d+% of the sampled bytes\./);
});

test('loadHeapProfile rejects missing, non-JSON and wrongly shaped files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-heap-'));
  const missing = join(dir, 'x.heapprofile');
  await assert.rejects(loadHeapProfile(missing), { code: 'REDLINE_ERR_BAD_DATA_FILE', message: `heap profile ${missing} could not be read: ENOENT` });
  const bad = join(dir, 'bad.heapprofile');
  await writeFile(bad, '{');
  await assert.rejects(loadHeapProfile(bad), { code: 'REDLINE_ERR_BAD_DATA_FILE', message: `heap profile ${bad} is not valid JSON` });
  const shape = join(dir, 'shape.heapprofile');
  await writeFile(shape, '{"nodes":[]}');
  await assert.rejects(loadHeapProfile(shape), {
    code: 'REDLINE_ERR_BAD_DATA_FILE',
    message: `heap profile ${shape} is not a V8 sampling heap profile: "head" call tree missing`,
  });
});

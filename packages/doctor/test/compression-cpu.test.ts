import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProfileModel, diagnose } from '../src/index.ts';
import { FIXTURES, recordProfile } from './helpers/record.ts';
import { makeRunResult, point, sample, seconds } from './helpers/run-result.ts';

const N = 10;

test('compression CPU: a target compressing with brotli quality 11 spends most of its CPU in node:zlib', async () => {
  const rec = await recordProfile(`${FIXTURES}brotli-default.mjs`, 500);
  const r = makeRunResult({ durationS: N, timeseries: seconds(N, (t) => point(t, 200, 2)), samples: seconds(N, (t) => sample(t)) });
  const f = diagnose(r, { profile: createProfileModel(rec.profile) }).find((x) => x.category === 'compression-cpu');
  assert.ok(f, 'a compression-cpu finding');
  const share = f.evidence[0]!.value;
  assert.ok(share >= 0.4, `zlib share ${share}`);
  assert.equal(f.severity, 'medium');
  assert.match(f.title, /^Compression CPU: \d+% of the target's busy CPU is in node:zlib \(called from renderResponse .*brotli-default\.mjs:7\)$/);
  assert.match(f.recommendation, /quality 4/);
});

test('compression CPU: no finding for a profile without zlib', async () => {
  const rec = await recordProfile(`${FIXTURES}hot.mjs`, 500);
  const r = makeRunResult({ durationS: N, timeseries: seconds(N, (t) => point(t, 200, 2)), samples: seconds(N, (t) => sample(t)) });
  assert.equal(diagnose(r, { profile: createProfileModel(rec.profile) }).find((x) => x.category === 'compression-cpu'), undefined);
});

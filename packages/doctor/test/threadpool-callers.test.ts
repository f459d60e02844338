import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunResult, ThreadpoolCaller } from '@redline/core';
import { diagnose } from '../src/index.ts';
import { makeRunResult, point, sample, seconds } from './helpers/run-result.ts';

// Stacks as the probe captures them inside a thread-pool request's async_hooks init (already
// source-mapped by the runner): Node's API frames first, then the calling code.
const APP = '/srv/shop';
const pbkdf2Stack = [
  '    at pbkdf2 (node:internal/crypto/pbkdf2:54:7)',
  `    at file://${APP}/src/auth.ts:31:5`,
  '    at new Promise (<anonymous>)',
  `    at hashPassword (${APP}/src/auth.ts:30:10)`,
  `    at async login (${APP}/src/routes/login.ts:12:18)`,
].join('\n');
const readFileStack = [
  '    at open (node:internal/fs/promises:639:25)',
  '    at readFile (node:internal/fs/promises:1242:14)',
  `    at send (${APP}/node_modules/static-files/index.js:88:11)`,
  `    at serveAsset (${APP}/src/assets.ts:9:3)`,
].join('\n');

function saturated(callers: ThreadpoolCaller[] | undefined): RunResult {
  const n = 8;
  const r = makeRunResult({
    durationS: n,
    timeseries: seconds(n, (t) => point(t, 30, 900)),
    samples: seconds(n, (t) => sample(t, { elu: 0.1, loopDelayMs: { mean: 1, p50: 1, p99: 2, max: 3 }, threadpoolDelayMs: { mean: 800, max: 900 } })),
  });
  if (callers !== undefined) r.target!.threadpoolCallers = callers;
  return r;
}

const finding = (r: RunResult) => {
  const f = diagnose(r, { appRoot: APP }).find((x) => x.category === 'threadpool-saturated');
  assert.ok(f, 'threadpool-saturated fires');
  return f;
};

test('threadpool-saturated names the caller the probe sampled: the named function around a Promise executor, relative to the app', () => {
  const f = finding(saturated([{ op: 'crypto', resource: 'PBKDF2REQUEST', stack: pbkdf2Stack, count: 40, firstS: 2, lastS: 8 }]));
  assert.match(f.title, /the work queued is crypto \(pbkdf2 called from hashPassword \(src\/auth\.ts:30\)\)$/);
  assert.deepEqual(
    f.frames.map((x) => [x.functionName, x.file, x.line, x.area]),
    [['hashPassword', 'src/auth.ts', 30, 'app']],
  );
  assert.match(f.recommendation, /Async crypto \(pbkdf2/);
});

test('with two kinds of work, the most sampled leads and its share is given; a dependency frame is skipped for the app caller', () => {
  const f = finding(
    saturated([
      { op: 'crypto', resource: 'PBKDF2REQUEST', stack: pbkdf2Stack, count: 6, firstS: 2, lastS: 8 },
      { op: 'fs', resource: 'FSREQPROMISE', stack: readFileStack, count: 18, firstS: 1, lastS: 8 },
    ]),
  );
  assert.match(f.title, /the work queued is fs \(readFile called from serveAsset \(src\/assets\.ts:9\), 75% of 24 sampled submissions\)$/);
  assert.deepEqual(f.frames.map((x) => x.functionName), ['serveAsset', 'hashPassword']);
  assert.match(f.recommendation, /File-system calls run on the thread pool/);
});

test('callers sampled outside the saturated window are not named; without probe samples the profile (none here) is the fallback', () => {
  const outside = finding(saturated([{ op: 'zlib', resource: 'ZLIB', stack: '    at Gzip (node:zlib:1:1)\n    at compress (/srv/shop/src/c.ts:1:1)', count: 5, firstS: 20, lastS: 30 }]));
  assert.doesNotMatch(outside.title, /the work queued is/);
  const none = finding(saturated(undefined));
  assert.doesNotMatch(none.title, /the work queued is/);
  assert.match(none.recommendation, /Find the async crypto, zlib, fs or dns\.lookup calls/);
});

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

// The encodings experiment's br arm: every request runs brotliCompressSync (~55 ms) on the main thread
// (ELU 0.99); the probe's randomFill completion waits behind those callbacks, 60 ms beyond the loop
// delay's p99, and the probe's init hook saw the sync call's ZLIB handle.
// Node 20.20's stack of brotliCompressSync, as the probe captured it in that run.
const brotliSyncStack = [
  '    at BrotliCompress.Brotli (node:zlib:815:39)',
  '    at new BrotliCompress (node:zlib:828:3)',
  '    at syncBufferWrapper (node:zlib:767:29)',
  `    at Server.<anonymous> (file://${APP}/src/server.mjs:14:74)`,
  '    at Server.emit (node:events:524:28)',
].join('\n');

function busyMainThread(callers: ThreadpoolCaller[]): RunResult {
  const n = 8;
  const r = makeRunResult({
    durationS: n,
    timeseries: seconds(n, (t) => point(t, 14, 260)),
    samples: seconds(n, (t) => sample(t, { elu: 0.99, loopDelayMs: { mean: 40, p50: 30, p99: 120, max: 200 }, threadpoolDelayMs: { mean: 180, max: 300 } })),
  });
  r.target!.threadpoolCallers = callers;
  return r;
}

test('a main thread busy with synchronous compression is not a saturated thread pool; a busy one that submits pool work still is', () => {
  const sync = diagnose(busyMainThread([{ op: 'zlib', resource: 'ZLIB', stack: brotliSyncStack, count: 30, firstS: 1, lastS: 8 }]), { appRoot: APP });
  assert.equal(sync.find((x) => x.category === 'threadpool-saturated'), undefined, `findings: ${sync.map((x) => x.category).join(', ')}`);
  const pool = diagnose(busyMainThread([{ op: 'crypto', resource: 'PBKDF2REQUEST', stack: pbkdf2Stack, count: 30, firstS: 1, lastS: 8 }]), { appRoot: APP });
  const f = pool.find((x) => x.category === 'threadpool-saturated');
  assert.ok(f, `findings: ${pool.map((x) => x.category).join(', ')}`);
  assert.match(f.title, /pbkdf2 called from hashPassword/);
});

// ioredis is an optional peer dependency: the in-memory cache (and every CLI install) works without
// it, and a Redis tier asked for without it fails with a code and a message that says what to install.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ErrorCodes, isRedlineError } from '@redline/core';
import { loadIoredis } from '../src/stores/redis-connection.ts';

const run = promisify(execFile);

test('importing @redline/cache and using an in-memory cache does not load ioredis', async () => {
  const script = [
    "import { createRequire } from 'node:module';",
    "const { createCache } = await import('@redline/cache');",
    "const cache = createCache({ l1: { maxEntries: 10 } });",
    "await cache.set('k', 1);",
    "if ((await cache.get('k')) !== 1) throw new Error('cache did not work');",
    'await cache.close();',
    "const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => k.includes('/node_modules/ioredis/'));",
    'process.stdout.write(JSON.stringify(loaded.length));',
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: process.cwd(), timeout: 20_000 });
  assert.equal(stdout, '0');
});

test('a Redis tier without ioredis installed fails with REDLINE_ERR_MISSING_DEPENDENCY naming the package to install', async () => {
  // Resolve from a directory with no node_modules of its own (and none above it that has ioredis).
  const dir = await mkdtemp(join(tmpdir(), 'redline-no-ioredis-'));
  try {
    const from = join(dir, 'index.js');
    await writeFile(from, '');
    assert.throws(
      () => loadIoredis(pathToFileURL(from)),
      (err: unknown) => isRedlineError(err, ErrorCodes.MISSING_DEPENDENCY) && /needs the ioredis package.*npm i ioredis/.test(err.message),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('with ioredis installed, it loads on demand', () => {
  assert.equal(typeof loadIoredis().Redis, 'function');
});

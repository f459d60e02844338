import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '@redline/core';
import { redactCommandLine } from '../src/command-line.js';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';
import { startServer } from './helpers/server.js';

let server: Awaited<ReturnType<typeof startServer>>;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.close();
});

test('redactCommandLine hides header and -e values in every spelling', () => {
  assert.deepEqual(redactCommandLine(['run', '-H', 'Authorization: Bearer s3cret', '--header=X-Key: k', '--header', 'novalue', '-e', 'TOKEN=abc', '--env=A=b', '--rate', '5']), [
    'run',
    '-H',
    'Authorization: <redacted>',
    '--header=X-Key: <redacted>',
    '--header',
    '<redacted>',
    '-e',
    'TOKEN=<redacted>',
    '--env=A=<redacted>',
    '--rate',
    '5',
  ]);
});

test('a run records its command line (redacted) in result.json, and its report shows it', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-cmdline-'));
  const out = join(cwd, 'run');
  const argv = ['run', '--url', `${server.url}/x`, '--rate', '20', '--duration', '1s', '--header', 'Authorization: Bearer s3cret', '--out', out, '--workers', '0'];
  const io = fakeIo(argv, cwd);
  assert.equal(await main(io), 0, io.stderrText());
  const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
  assert.deepEqual(result.config.commandLine, [...argv.slice(0, 8), 'Authorization: <redacted>', ...argv.slice(9)]);
  const html = await readFile(join(out, 'report.html'), 'utf8');
  assert.ok(!html.includes('s3cret') && !JSON.stringify(result).includes('s3cret'));
  assert.match(html, /<code>redline run --url http:\/\/127\.0\.0\.1:\d+\/x --rate 20/);
});

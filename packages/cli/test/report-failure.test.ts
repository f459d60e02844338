// A report that cannot be written must never hide the result: the summary is printed first, the
// error names the file, the exit code is not success, and result.json stays complete.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '@redline/core';
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

test('run: when report.html cannot be written, the summary is still printed and the run exits 1 naming the file', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-report-fail-'));
  const io = fakeIo(['run', '--url', `${server.url}/`, '--rate', '20', '--duration', '1s', '--workers', '0'], cwd);
  // The moment the summary names result.json, put a directory where report.html goes: the report
  // can then only fail, and it can only fail after the summary if the summary really comes first.
  let runDir: string | null = null;
  let reportBeforeSummary = false;
  const write = io.stdout.write.bind(io.stdout);
  io.stdout.write = (chunk: string) => {
    const m = /result: (.+)\/result\.json/.exec(chunk);
    if (m && runDir === null) {
      runDir = join(cwd, m[1]!);
      reportBeforeSummary = existsSync(join(runDir, 'report.html'));
      if (!reportBeforeSummary) mkdirSync(join(runDir, 'report.html'));
    }
    return write(chunk);
  };
  const code = await main(io);
  const stdout = io.stdoutText();
  assert.equal(code, 1, io.stderrText());
  assert.ok(runDir !== null, `no result line in:\n${stdout}`);
  assert.equal(reportBeforeSummary, false, 'the report was written before the summary was printed');
  assert.match(stdout, /http\.requests \.+: \d+/);
  assert.match(stdout, /result: \.redline\/runs\/[^ ]+\/result\.json/);
  assert.doesNotMatch(stdout, /report: /);
  assert.match(io.stderrText(), /^redline: could not write the HTML report \/.+\/report\.html: /m);
  const result = JSON.parse(await readFile(join(runDir, 'result.json'), 'utf8')) as RunResult;
  assert.equal(result.status, 'completed');
  assert.ok(result.summary.requests >= 15, `requests ${result.summary.requests}`);
});

test('report: a report path that cannot be written fails with exit 1 naming the file; a bad run dir stays exit 2', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-report-fail-'));
  const run = fakeIo(['run', '--url', `${server.url}/`, '--rate', '20', '--duration', '1s', '--workers', '0', '--out', join(cwd, 'r'), '--no-report'], cwd);
  assert.equal(await main(run), 0, run.stderrText());
  await mkdir(join(cwd, 'taken.html'));
  const io = fakeIo(['report', join(cwd, 'r'), '--out', join(cwd, 'taken.html')], cwd);
  assert.equal(await main(io), 1, io.stderrText());
  assert.match(io.stderrText(), new RegExp(`^redline: could not write the HTML report ${join(cwd, 'taken.html')}: `, 'm'));
  const bad = fakeIo(['report', join(cwd, 'nothing-here')], cwd);
  assert.equal(await main(bad), 2);
  assert.doesNotMatch(bad.stderrText(), /could not write the HTML report/);
});

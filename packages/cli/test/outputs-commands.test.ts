// `redline demo` and `redline capacity` take the streaming-output flags as `redline run` does:
// checked before anything starts, streaming every second, the dashboard serving while they run.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '@redline/core';
import { main } from '../src/main.js';
import { demoServerPath } from '../src/commands/demo.js';
import { fakeIo } from './helpers/fake-io.js';
import { startServer } from './helpers/server.js';

let server: Awaited<ReturnType<typeof startServer>>;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server.close();
});

async function waitFor<T>(get: () => T | undefined, what: string, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads the dashboard's event stream until a `second` event arrives; returns its data. */
async function firstSecondEvent(url: string): Promise<Record<string, unknown>> {
  const ac = new AbortController();
  const res = await fetch(`${url}events`, { signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body!.getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the event stream ended before a second: ${text.slice(0, 300)}`);
      text += new TextDecoder().decode(value);
      const m = /event: second\ndata: (.*)\n/.exec(text);
      if (m) return JSON.parse(m[1]!) as Record<string, unknown>;
    }
  } finally {
    ac.abort();
  }
}

const jsonLines = async (file: string): Promise<Array<Record<string, unknown>>> =>
  (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

test('demo and capacity refuse bad output flags (exit 2) before any target starts or request is sent', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-outputs-cmd-'));
  const cases: Array<[string[], RegExp]> = [
    [['demo', '--bottleneck', 'healthy', '--output', 'influx=http://x'], /invalid --output "influx=http:\/\/x": unknown output "influx"/],
    [['demo', '--dashboard-port', '80'], /--dashboard-port needs --dashboard/],
    [['demo', '--junit', '/nonexistent-dir/j.xml'], /invalid --junit \/nonexistent-dir\/j\.xml: cannot write in \/nonexistent-dir \(ENOENT\)/],
    [['capacity', '--url', server.url, '--slo', 'p(99)<100', '--output', 'csv=/nonexistent-dir/x.csv'], /invalid --output csv=\/nonexistent-dir\/x\.csv: cannot create \/nonexistent-dir\/x\.csv \(ENOENT\)/],
    [['capacity', '--url', server.url, '--slo', 'p(99)<100', '--output', 'json'], /invalid --output "json": expected json=FILE/],
    [['capacity', '--url', server.url, '--slo', 'p(99)<100', '--out', 'json=x.jsonl'], /--out is the run directory; for a streaming output write --output json=x\.jsonl/],
  ];
  for (const [argv, message] of cases) {
    const io = fakeIo(argv, cwd);
    assert.equal(await main(io), 2, `${argv.join(' ')}: ${io.stderrText()}`);
    assert.match(io.stderrText(), message, argv.join(' '));
    assert.doesNotMatch(io.stderrText(), /redline demo: healthy/, 'the demo service was not started');
  }
  assert.equal(server.requests(), 0);
});

test('redline demo streams its seconds to --output and serves --dashboard while the demo runs', async () => {
  assert.ok(existsSync(demoServerPath()), `${demoServerPath()} is missing: run npm run build first`);
  const cwd = await mkdtemp(join(tmpdir(), 'redline-demo-outputs-'));
  const io = fakeIo(['demo', '--bottleneck', 'healthy', '--duration', '4s', '--workers', '0', '--no-report', '--out', join(cwd, 'run'), '--output', `json=${join(cwd, 's.jsonl')}`, '--dashboard', '--dashboard-port', '0', '--junit', join(cwd, 'junit.xml')], cwd);
  const running = main(io);
  const url = await waitFor(() => /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(io.stderrText())?.[1], 'the dashboard URL on stderr');
  const live = await firstSecondEvent(url);
  assert.ok(Number(live.requests) > 0, JSON.stringify(live));
  assert.equal(await running, 0, io.stderrText());
  const result = JSON.parse(await readFile(join(cwd, 'run', 'result.json'), 'utf8')) as RunResult;
  const lines = await jsonLines(join(cwd, 's.jsonl'));
  const seconds = lines.filter((l) => l.type === 'second');
  assert.deepEqual(seconds.map((s) => s.requests), result.timeseries.map((p) => p.requests));
  assert.equal(lines.at(-1)!.type, 'summary');
  assert.equal(lines.at(-1)!.name, 'demo-healthy');
  assert.match(await readFile(join(cwd, 'junit.xml'), 'utf8'), /<testsuites?[ >]/);
});

test('redline capacity streams every step as one run: seconds numbered on, totals growing, the best step last', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-capacity-outputs-'));
  const before = server.requests();
  const io = fakeIo(
    ['capacity', '--url', server.url, '--slo', 'p(99)<2000', '--start', '20', '--max', '30', '--growth', '1.5', '--step', '2s', '--warmup', '0s', '--max-duration', '60s', '--workers', '0', '--out', join(cwd, 'cap'), '--output', `json=${join(cwd, 's.jsonl')}`, '--output', `csv=${join(cwd, 's.csv')}`, '--json'],
    cwd,
  );
  assert.equal(await main(io), 0, io.stderrText());
  const search = JSON.parse(io.stdoutText()) as { steps: Array<{ level: number }>; maxSustainable: { level: number } | null };
  assert.ok(search.steps.length >= 2, `steps: ${JSON.stringify(search.steps)}`);
  const lines = await jsonLines(join(cwd, 's.jsonl'));
  const seconds = lines.filter((l) => l.type === 'second');
  // Every step's seconds, numbered 1, 2, 3 … across steps, with one run id.
  assert.deepEqual(seconds.map((s) => s.t), seconds.map((_, i) => i + 1));
  assert.ok(seconds.length >= 2 * search.steps.length, `${seconds.length} seconds for ${search.steps.length} steps of 2 s`);
  assert.equal(new Set(seconds.map((s) => s.runId)).size, 1);
  // Totals never fall back between steps, and end at every request the steps sent.
  const totals = seconds.map((s) => Number(s.totalRequests));
  for (let i = 1; i < totals.length; i++) assert.ok(totals[i]! >= totals[i - 1]!, `total fell at second ${i + 1}: ${totals.join(' ')}`);
  assert.equal(totals.at(-1), seconds.reduce((a, s) => a + Number(s.requests), 0));
  const stepDirs = (await readdir(join(cwd, 'cap', 'steps'))).sort();
  let stepRequests = 0;
  for (const d of stepDirs) stepRequests += (JSON.parse(await readFile(join(cwd, 'cap', 'steps', d, 'result.json'), 'utf8')) as RunResult).summary.requests;
  assert.equal(totals.at(-1), stepRequests);
  assert.ok(server.requests() - before >= stepRequests);
  const last = lines.at(-1)!;
  assert.equal(last.type, 'summary');
  assert.match(String(last.name), /-step-\d+$/);
  const csv = (await readFile(join(cwd, 's.csv'), 'utf8')).trim().split('\n');
  assert.equal(csv.length - 1, seconds.length);
});

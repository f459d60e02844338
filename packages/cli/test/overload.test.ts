// `redline overload` end to end through main(): the real demo service (the overload scenario, with
// the @redline/flow limiter) started with the probe, a short real step sequence, the files it writes;
// and the bad input it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recoverySeconds, type OverloadResult, type OverloadSecond } from '@redline/capacity';
import { main } from '../src/main.js';
import { demoServerPath } from '../src/commands/demo.js';
import { fakeIo } from './helpers/fake-io.js';

async function runCli(argv: string[]): Promise<{ code: number; stderr: string; stdout: string; cwd: string }> {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-overload-'));
  const io = fakeIo(argv, cwd);
  const code = await main(io);
  return { code, stderr: io.stderrText(), stdout: io.stdoutText(), cwd };
}

test('overload runs the steps on a launched target and writes json, svg and html', async () => {
  assert.ok(existsSync(demoServerPath()), 'build the demo first');
  const out = join(await mkdtemp(join(tmpdir(), 'redline-overload-')), 'o');
  const r = await runCli([
    'overload', '--target', `"${process.execPath}" "${demoServerPath()}" --bottleneck overload --limiter gradient2`, '--label', 'limited',
    '--slo', 'p(99)<2000', '--max-rate', '20', '--steps', '0.5,2,0.5', '--step', '1s', '--recovery-step', '2s', '--recover-within', '2s', '--out', out, '--workers', '0',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { results } = JSON.parse(await readFile(join(out, 'overload.json'), 'utf8')) as { results: OverloadResult[] };
  assert.equal(results.length, 1);
  const [limited] = results;
  assert.equal(limited!.label, 'limited');
  assert.deepEqual(limited!.steps.map((s) => [s.multiplier, s.offeredRate]), [[0.5, 10], [2, 40], [0.5, 10]]);
  // The default 2 s warm-up ran first at the first level and is not among the measured steps.
  assert.match(limited!.steps[0]!.runDir!, /step-02-open-10$/);
  for (const s of limited!.steps) assert.ok(s.seconds.reduce((a, x) => a + x.requests, 0) > 0, `step ${s.index} measured requests`);
  assert.ok(limited!.steps[0]!.goodput > 0, 'goodput at half the rate');
  assert.match(r.stdout, /limited: max sustainable 20.0\/s, SLO p\(99\)<2000/);
  assert.match(r.stdout, /(recovered|METASTABLE)/);
  const svg = await readFile(join(out, 'overload.svg'), 'utf8');
  assert.match(svg, /^<svg[^>]+xmlns/);
  assert.match(svg, /Goodput vs offered load/);
  assert.match(await readFile(join(out, 'overload.html'), 'utf8'), /<h2>limited<\/h2>/);
});

test('overload without --target, without --slo or with bad --steps exits 2 naming the problem', async () => {
  let r = await runCli(['overload', '--slo', 'p(99)<100']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'redline overload: give at least one --target "CMD" (the service is started by Redline)\n');
  r = await runCli(['overload', '--target', 'node x.js']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--slo is required/);
  r = await runCli(['overload', '--target', 'node x.js', '--slo', 'p(99)<100', '--steps', '1,-2']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'redline: invalid --steps "1,-2": expected at least two positive multiples, such as 0.5,1,2,3,4,0.5\n');
  r = await runCli(['overload', '--target', 'node x.js', '--slo', 'p(99)<100', '--max-rate', '0']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /invalid --max-rate "0"/);
});

test('capacity --overload offers a scenario file to the launched target, its baseUrl set to the target', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-overload-'));
  const scenario = join(dir, 'search.mjs');
  await writeFile(scenario, `export default { name: 'search', requests: [{ method: 'POST', url: '/search?q=a', name: 'search q=a', headers: { 'x-user': 'u1' } }] };\n`);
  const out = join(dir, 'o');
  const r = await runCli([
    'capacity', '--overload', scenario, '--target', `"${process.execPath}" "${demoServerPath()}" --bottleneck overload --limiter gradient2`,
    '--slo', 'p(99)<2000', '--max-rate', '10', '--steps', '0.5,0.5', '--step', '1s', '--recovery-step', '1s', '--recover-within', '1s', '--warmup', '0', '--out', out, '--workers', '0',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const { results } = JSON.parse(await readFile(join(out, 'overload.json'), 'utf8')) as { results: OverloadResult[] };
  const run = JSON.parse(await readFile(join(results[0]!.steps[0]!.runDir!, 'result.json'), 'utf8')) as { summary: { byName: Record<string, { requests: number }>; byStatusClass: Record<string, { requests: number }> } };
  assert.ok((run.summary.byName['search q=a']?.requests ?? 0) > 0, `the scenario's request was sent: ${JSON.stringify(Object.keys(run.summary.byName))}`);
  assert.ok((run.summary.byStatusClass['2xx']?.requests ?? 0) > 0, 'and answered by the launched target');
});

test('overload refuses a scenario file with --url, two scenario files and a bad --header, exit 2 naming the problem', async () => {
  let r = await runCli(['capacity', '--overload', '--slo', 'p(99)<100']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'redline overload: give at least one --target "CMD" (the service is started by Redline)\n');
  r = await runCli(['overload', 'a.ts', '--url', '/x', '--target', 'node x.js', '--slo', 'p(99)<100']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'redline overload: give a scenario file or --url/--method/--header, not both\n');
  r = await runCli(['overload', 'a.ts', 'b.ts', '--target', 'node x.js', '--slo', 'p(99)<100']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'redline overload: expected at most one scenario file, got 2 (a.ts, b.ts)\n');
  r = await runCli(['overload', '--warmup', 'soon', '--target', 'node x.js', '--slo', 'p(99)<100']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'redline: invalid --warmup "soon": expected a number with a unit, such as 500ms, 30s, 5m, 1h or 1m30s\n');
  r = await runCli(['overload', '--header', 'nocolon', '--target', 'node x.js', '--slo', 'p(99)<100']);
  assert.equal(r.code, 2);
  assert.equal(r.stderr, 'redline: invalid --header "nocolon": expected "Name: value"\n');
});

test('demo overload runs the demo service with and without the limiter side by side', async () => {
  const out = join(await mkdtemp(join(tmpdir(), 'redline-overload-')), 'o');
  // 4 ms of CPU per request: 4× of 100/s asks for 1.6 cores, an overload on any machine (4× of a lower
  // rate would overload only a busy one).
  const r = await runCli(['demo', 'overload', '--rate', '100', '--duration', '1s', '--out', out, '--workers', '0']);
  assert.equal(r.code, 0, r.stderr);
  const { results } = JSON.parse(await readFile(join(out, 'overload.json'), 'utf8')) as { results: OverloadResult[] };
  assert.deepEqual(results.map((x) => x.label), ['without limiter', 'with @redline/flow (gradient2)']);
  for (const x of results) {
    assert.deepEqual(x.steps.map((s) => s.offeredRate), [50, 100, 200, 300, 400, 50]);
    assert.ok(x.steps.every((s) => s.seconds.some((sec) => sec.requests > 0)), `${x.label}: every step measured requests`);
  }
  const limited = results[1]!;
  assert.ok((limited.steps[4]!.errorsByKind.http_5xx ?? 0) > 0, `the limiter refused some of 4× with 503: ${JSON.stringify(limited.steps[4]!.errorsByKind)}`);
  assert.match(r.stdout, /without limiter: max sustainable 100\/s[\s\S]*with @redline\/flow \(gradient2\): max sustainable 100\/s/);
  const bad = await runCli(['demo', 'overload', '--duration', '20s']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'redline: --duration for the overload demo is the length of each step, between 1s and 10s, got 20s\n');
});

test('recovery is the first second from which goodput holds 90 % of the baseline on average', () => {
  const s = (goodput: number[]): OverloadSecond[] => goodput.map((g, i) => ({ t: i + 1, offered: 10, goodput: g, requests: 10, errors: 0, p99Ms: 1 }));
  assert.equal(recoverySeconds(s([0, 0, 9, 10, 10]), 10), 3);
  assert.equal(recoverySeconds(s([9.5, 0, 0, 10, 10]), 10), 4, 'a lucky first second is not a recovery');
  assert.equal(recoverySeconds(s([0, 1, 2, 3]), 10), null);
});

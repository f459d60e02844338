// `redline run` flags that do what they say: flags over a scenario file (or a clear exit 2),
// `-e KEY=VALUE`, `--rate 2000 --max-vus 50`, `--out` checked before the load, command names that
// are Object.prototype properties, a worker that fails, and a summary with units.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult } from '@redline/core';
import { chartData } from '@redline/report';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

interface Seen {
  url: string;
  headers: http.IncomingHttpHeaders;
}
let server: http.Server;
let base = '';
const seen: Seen[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

async function run(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string; cwd: string }> {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-flags-'));
  const io = fakeIo(argv.map((a) => a.replace('{cwd}', cwd)), cwd, env);
  const code = await main(io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText(), cwd };
}

async function scenario(source: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'redline-flags-scenario-'));
  const file = join(dir, 'scenario.mjs');
  await writeFile(file, source);
  return file;
}

const readResult = async (dir: string): Promise<RunResult> => JSON.parse(await readFile(join(dir, 'result.json'), 'utf8')) as RunResult;

test('--rate 2000 --max-vus 50 runs, and the summary shows thresholds and bytes with units', async () => {
  const r = await run(['run', '--url', `${base}/quick`, '--rate', '2000', '--max-vus', '50', '--duration', '1s', '--threshold', 'http.latency=p(99)<60000', '--threshold', 'http.errors=rate<0.5', '--out', '{cwd}/run', '--no-report', '--workers', '0']);
  assert.equal(r.code, 0, r.stderr);
  const result = await readResult(join(r.cwd, 'run'));
  const o = result.config.scenarios[0]!.options as { preAllocatedVUs: number; maxVUs: number };
  assert.deepEqual([o.preAllocatedVUs, o.maxVUs], [50, 50]);
  assert.ok(result.summary.requests > 100, `requests: ${result.summary.requests}`);
  assert.match(r.stdout, /✓ http\.latency p\(99\)<60000 {3}actual \d+(\.\d+)? (ms|s)$/m);
  assert.match(r.stdout, /✓ http\.errors rate<0\.5 {3}actual 0\.00 %$/m);
  assert.match(r.stdout, /data \.+: \d+(\.\d)? KiB sent, \d+(\.\d)? KiB received/);
  // The drain after the schedule has no intended rate (not 0, which would draw as a ramp-down).
  const chart = chartData(result);
  const intended = chart.intendedRate;
  // Intended iterations are counted when the scheduler dispatches them, so a few due at the end of
  // second 0 can land in second 1 on a busy machine.
  assert.ok(intended[0]! >= 1900 && intended[0]! <= 2000, `intended rate in second 0: ${intended[0]}`);
  // The chart drops trailing seconds that lie almost wholly after the run, so walk its own seconds.
  for (let i = 0; i < chart.t.length; i++) if (chart.t[i]! > 1) assert.equal(intended[i], null, `t=${chart.t[i]}`);
});

test('flags given with a scenario file override it (k6 precedence): --duration, --vus, --header', async () => {
  const file = await scenario(`export default { name: 'from-file', vus: 5, duration: '30s', headers: { 'x-run': 'file', 'x-keep': 'yes' }, requests: [{ url: '${base}/file' }] };\n`);
  seen.length = 0;
  const t0 = Date.now();
  const r = await run(['run', file, '--duration', '1s', '--vus', '2', '--header', 'X-Run: flag', '--out', '{cwd}/run', '--no-report', '--workers', '0']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Date.now() - t0 < 20_000, 'the 30 s in the file was overridden');
  const result = await readResult(join(r.cwd, 'run'));
  assert.equal(result.config.scenarios[0]!.executor, 'constant-vus');
  assert.deepEqual(result.config.scenarios[0]!.options, { vus: 2, durationMs: 1000 });
  const hit = seen.find((s) => s.url === '/file');
  assert.ok(hit, 'the file requests ran');
  assert.equal(hit.headers['x-run'], 'flag');
  assert.equal(hit.headers['x-keep'], 'yes');
});

test('a flag that cannot apply to the scenario file exits 2 before any request', async () => {
  const file = await scenario(`export default { scenarios: { a: { vus: 1, duration: '1s', requests: [{ url: '${base}/multi' }] } } };\n`);
  seen.length = 0;
  const r = await run(['run', file, '--duration', '5s', '--no-report', '--workers', '0']);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `redline: --duration cannot be applied to ${file}: it defines several scenarios under "scenarios"; change their load in the file\n`);
  const q = await run(['run', file, '--method', 'POST', '--no-report']);
  assert.equal(q.code, 2);
  assert.equal(q.stderr, 'redline run: --method is for quick mode; a scenario file defines its own requests\n');
  assert.equal(seen.length, 0);
});

test('-e KEY=VALUE reaches defineScenario(({ env }) => …) and ctx.env in a worker thread', async () => {
  const file = await scenario(
    `export default ({ env }) => ({ name: 'env-' + env.STAGE, vus: 1, iterations: Number(env.COUNT),\n` +
      `  exec: async (ctx) => { await ctx.http.get('${base}/env/' + ctx.env.STAGE + '/' + ctx.env.EMPTY + '/' + ctx.env.WITH_EQ); } });\n`,
  );
  seen.length = 0;
  const r = await run(['run', file, '-e', 'STAGE=blue', '-e', 'COUNT=3', '-e', 'EMPTY=', '--env', 'WITH_EQ=a=b', '--out', '{cwd}/run', '--no-report', '--workers', '1']);
  assert.equal(r.code, 0, r.stderr);
  const result = await readResult(join(r.cwd, 'run'));
  assert.equal(result.name, 'env-blue');
  assert.equal(result.config.workers, 1);
  assert.deepEqual(seen.map((s) => s.url), ['/env/blue//a=b', '/env/blue//a=b', '/env/blue//a=b']);
  const bad = await run(['run', file, '-e', 'NOVALUE']);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'redline: invalid -e "NOVALUE": expected KEY=VALUE with KEY made of letters, digits and _\n');
});

test('--out that cannot be written is refused before the load runs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'redline-out-'));
  const file = join(dir, 'taken');
  await writeFile(file, 'not a directory');
  seen.length = 0;
  for (const [out, why] of [
    [file, 'it is an existing file, not a directory'],
    [join(file, 'run'), 'a part of the path is a file, not a directory (ENOTDIR)'],
  ] as const) {
    const r = await run(['run', '--url', `${base}/out`, '--rate', '10', '--duration', '1s', '--out', out, '--no-report', '--workers', '0']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `redline: cannot write results to --out ${out}: ${why}\n`);
  }
  assert.equal(seen.length, 0, 'no request was sent');
});

test('Object.prototype names are unknown commands, and command errors carry one prefix', async () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const r = await run([name]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, `redline: unknown command "${name}": expected one of run, demo, report, compare, capacity, cache, overload, tune, convert, coordinate, merge, k8s (see redline --help)\n`);
  }
  const r = await run(['run', 'a.mjs', 'b.mjs']);
  assert.equal(r.stderr, 'redline run: expected at most one scenario file, got 2\n');
});

test('a worker thread that fails is a clear error with exit 1, not "unexpected error"', async () => {
  const file = await scenario(
    `import { isMainThread } from 'node:worker_threads';\nif (!isMainThread) throw new Error('boom in the worker');\n` +
      `export default { vus: 1, iterations: 1, exec: async () => {} };\n`,
  );
  const r = await run(['run', file, '--no-report', '--workers', '1']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^redline: a load-generator worker failed: .*boom in the worker\n$/);
  assert.doesNotMatch(r.stderr, /unexpected error/);
});

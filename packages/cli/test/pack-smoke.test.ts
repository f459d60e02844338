// Installs Redline the way users do: `npm pack` every workspace package, install the tarballs into an
// empty project, and run the commands from there (npx, a .ts scenario importing @redline/cli, --target,
// report, compare, demo). Every failure prints the command and its whole output.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunResult } from '@redline/core';
import { startServer } from './helpers/server.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** Every workspace package, by npm name. */
const PACKAGES = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces.map(
  (dir) => (JSON.parse(readFileSync(join(REPO, dir, 'package.json'), 'utf8')) as { name: string }).name,
);

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Child environment without what `npm test` and the test runner set, so the installed project is on its own. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.toLowerCase().startsWith('npm_') || k === 'NODE_TEST_CONTEXT' || k === 'INIT_CWD' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: '1', NO_UPDATE_NOTIFIER: '1' };
}

/** Runs a command (bounded in time) and returns its exit code and output. */
function run(cmd: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function show(what: string, r: Ran): string {
  return `${what} exited ${r.code}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`;
}

/** Runs a command that must succeed (exit `expected`, default 0); fails loudly with its output otherwise. */
async function must(cmd: string, args: string[], cwd: string, expected = 0, timeoutMs?: number): Promise<Ran> {
  const r = await run(cmd, args, cwd, timeoutMs);
  assert.equal(r.code, expected, show(`${cmd} ${args.join(' ')}`, r));
  return r;
}

/** `npx --no -- redline …`: the installed binary only (never one fetched from the registry). */
const redline = (args: string[], cwd: string, expected = 0, timeoutMs?: number): Promise<Ran> => must('npx', ['--no', '--', 'redline', ...args], cwd, expected, timeoutMs);

const SERVICE = `import { createServer } from 'node:http';
createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT ?? 0), '127.0.0.1');
`;

const SCENARIO = `import { defineScenario, type IterationContext } from '@redline/cli';

export default defineScenario({
  baseUrl: process.env.REDLINE_TARGET_URL ?? 'http://127.0.0.1:1',
  executor: 'constant-arrival-rate',
  rate: 20,
  duration: '2s',
  thresholds: { checks: ['rate>0.9'] },
  exec: async ({ http, check }: IterationContext) => {
    const res = await http.get('/hello');
    check(res, { 'status is 200': (r) => r.status === 200 });
  },
});
`;

describe('installed from npm pack tarballs into an empty project', () => {
  let tarballs: string;
  let project: string;
  let packed: { name: string; files: { path: string }[] }[] = [];
  let server: Awaited<ReturnType<typeof startServer>>;

  before(async () => {
    server = await startServer();
    tarballs = await mkdtemp(join(tmpdir(), 'redline-tarballs-'));
    project = await mkdtemp(join(tmpdir(), 'redline-install-'));
    const pack = await must('npm', ['pack', '--workspaces', '--pack-destination', tarballs, '--json'], REPO, 0, 120_000);
    packed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as typeof packed;
    await must('npm', ['init', '-y'], project);
    const files = packed.map((p) => join(tarballs, `${p.name.replace('@', '').replace('/', '-')}-0.1.0.tgz`));
    await must('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...files], project, 0, 150_000);
    await writeFile(join(project, 'service.mjs'), SERVICE);
    await writeFile(join(project, 'scenario.ts'), SCENARIO);
  });

  after(async () => {
    await server?.close();
    for (const dir of [tarballs, project]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('every package is packed with a README, a LICENSE and what it needs at run time', () => {
    assert.deepEqual(packed.map((p) => p.name).sort(), [...PACKAGES].sort());
    const files = (name: string): string[] => packed.find((p) => p.name === name)!.files.map((f) => f.path);
    for (const name of PACKAGES) {
      for (const f of ['README.md', 'LICENSE', 'package.json', name === '@redline/demo' ? 'dist/server.js' : 'dist/index.js']) {
        assert.ok(files(name).includes(f), `${name} ships ${f}`);
      }
      assert.ok(!files(name).some((f) => f.endsWith('.tsbuildinfo')), `${name} ships no build info`);
    }
    for (const f of ['assets/report.css', 'assets/report.js', 'assets/flame.js', 'assets/charts.js', 'assets/compare.js']) assert.ok(files('@redline/report').includes(f), `report ships ${f}`);
    for (const f of ['dist/server.js', 'dist/server.js.map', 'src/server.ts', 'src/bottlenecks/event-loop-block.ts']) assert.ok(files('@redline/demo').includes(f), `demo ships ${f}`);
    for (const f of ['bin/redline.js', 'docs/cli.md', 'docs/scenario-api.md', 'docs/exit-codes.md']) assert.ok(files('@redline/cli').includes(f), `cli ships ${f}`);
  });

  test('the install brings no unused or optional runtime dependencies (undici, ioredis)', () => {
    assert.ok(existsSync(join(project, 'node_modules/@redline/cli/bin/redline.js')));
    assert.ok(!existsSync(join(project, 'node_modules/undici')), 'undici installed');
    assert.ok(!existsSync(join(project, 'node_modules/ioredis')), 'ioredis installed');
  });

  test('--help points at docs that exist in the install', async () => {
    const r = await redline(['--help'], project);
    const docs = /Docs: (\S+)/.exec(r.stdout)?.[1];
    assert.ok(docs, r.stdout);
    assert.ok(docs.startsWith(join(project, 'node_modules')), docs);
    assert.ok((await stat(docs)).size > 1000, docs);
  });

  test('quick mode (--url) runs, prints the summary and writes report.html', async () => {
    for (const name of ['a', 'b']) {
      const r = await redline(['run', '--url', `${server.url}/`, '--rate', '20', '--duration', '2s', '--workers', '1', '--out', `runs/${name}`], project);
      assert.match(r.stdout, /http\.requests \.+: \d+/, show('run', r));
      assert.match(r.stdout, new RegExp(`report: runs/${name}/report\\.html`), show('run', r));
      assert.ok((await stat(join(project, 'runs', name, 'report.html'))).size > 10_000);
    }
  });

  test('a .ts scenario importing defineScenario from @redline/cli runs against a --target service', async () => {
    const r = await redline(['run', 'scenario.ts', '--target', 'node service.mjs', '--workers', '1', '--out', 'runs/t'], project, 0, 90_000);
    const result = JSON.parse(await readFile(join(project, 'runs/t/result.json'), 'utf8')) as RunResult;
    assert.ok(result.summary.requests >= 30, show('run scenario.ts', r));
    assert.ok(result.thresholds.length > 0 && result.thresholds.every((t) => t.ok), JSON.stringify(result.thresholds));
    assert.ok((result.target?.samples.length ?? 0) >= 1, 'the probe reported from the installed package');
    assert.equal(result.target?.command, 'node service.mjs');
  });

  test('report and compare work on the run directories', async () => {
    const rep = await redline(['report', 'runs/a'], project);
    assert.match(rep.stdout, /report: runs\/a\/report\.html/);
    const cmp = await redline(['compare', 'runs/a', 'runs/b'], project);
    assert.match(cmp.stdout, /latency p99/, show('compare', cmp));
  });

  test('demo runs the shipped demo service and names its code as the app', async () => {
    const r = await redline(['demo', '--duration', '3s', '--workers', '1', '--out', 'runs/demo'], project, 0, 90_000);
    const result = JSON.parse(await readFile(join(project, 'runs/demo/result.json'), 'utf8')) as RunResult;
    assert.ok((result.target?.samples.length ?? 0) >= 2, show('demo', r));
    const frame = result.findings.flatMap((f) => f.frames).find((f) => f.functionName === 'renderCatalogueSync');
    assert.ok(frame, `no finding shows renderCatalogueSync:\n${r.stdout}`);
    assert.equal(frame.file, 'src/bottlenecks/event-loop-block.ts');
    assert.equal(frame.area, 'app');
  });

  test('a Redis tier without ioredis fails with REDLINE_ERR_MISSING_DEPENDENCY', async () => {
    const script = "const { createRedisStore } = await import('@redline/cache'); try { createRedisStore({ connection: 'redis://127.0.0.1:1' }); } catch (e) { console.log(e.code); }";
    const r = await must(process.execPath, ['--input-type=module', '-e', script], project);
    assert.equal(r.stdout.trim(), 'REDLINE_ERR_MISSING_DEPENDENCY');
  });

  // Last: it breaks the installed report package on purpose.
  test('with a report asset missing, the summary is still printed and the run exits 1 naming report.html', async () => {
    await rm(join(project, 'node_modules/@redline/report/assets/report.css'));
    const r = await redline(['run', '--url', `${server.url}/`, '--rate', '20', '--duration', '1s', '--workers', '1', '--out', 'runs/broken'], project, 1);
    assert.match(r.stdout, /http\.requests \.+: \d+/, show('run', r));
    assert.match(r.stdout, /result: runs\/broken\/result\.json/);
    assert.match(r.stderr, /redline: could not write the HTML report \S*runs\/broken\/report\.html: cannot read report styles/, show('run', r));
    const result = JSON.parse(await readFile(join(project, 'runs/broken/result.json'), 'utf8')) as RunResult;
    assert.ok(result.summary.requests > 0);
  });
});

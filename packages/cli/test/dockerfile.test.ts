// The Dockerfile is not built here (no container runtime in CI). What can be checked without
// building it is: the build context holds every file the build needs, the entry point exists and
// runs, and the image's layout (scenario outside /app, /node_modules linking to the workspace,
// run directories under /results) works for a real run.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile, mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { k8sManifests } from '../src/coordinate/k8s-manifests.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

/** One Dockerfile instruction: keyword and its arguments (line continuations joined). */
interface Instruction {
  op: string;
  args: string;
}

function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\w+)\s+(.*)$/.exec(l);
      assert.ok(m, `not an instruction: ${l}`);
      return { op: m[1]!.toUpperCase(), args: m[2]! };
    });
}

/** A .dockerignore matcher (Docker's rules: `*`, `?`, `**`, `!` exceptions, a match excludes everything below it). */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+|\/+$/g, '');
      const re = pattern
        .split('/')
        .map((seg) => (seg === '**' ? '(?:.*)' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')
        .replace(/\(\?:\.\*\)\//g, '(?:.*/)?');
      return { negate, re: new RegExp(`^${re}(?:/.*)?$`) };
    });
  return (path) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(path)) ignored = !r.negate;
    return ignored;
  };
}

/** Files under `dir` (repository-relative), skipping what is never part of the sources. */
function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name === '.git' || name === '.redline') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(relative(REPO, p));
  }
  return out;
}

const dockerfile = instructions(readFileSync(join(REPO, 'Dockerfile'), 'utf8'));
const ignored = dockerignore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));

describe('Dockerfile (checked without building it)', () => {
  it('starts from a Node image the packages support and copies a context that holds every build input', () => {
    const engines = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    const min = Number(/>=\s*(\d+)/.exec(engines)?.[1]);
    const froms = dockerfile.filter((i) => i.op === 'FROM');
    assert.equal(froms.length, 2, 'a build stage and a runtime stage');
    for (const f of froms) assert.ok(Number(/^node:(\d+)/.exec(f.args)?.[1]) >= min, `${f.args} vs engines ${engines}`);
    // The build stage copies the whole context (what .dockerignore leaves) into its WORKDIR, then runs npm ci.
    const build = dockerfile.slice(0, dockerfile.indexOf(froms[1]!));
    assert.deepEqual(build.filter((i) => i.op === 'COPY').map((i) => i.args), ['. .']);
    assert.ok(build.some((i) => i.op === 'RUN' && /\bnpm ci\b/.test(i.args)));
    // npm ci needs the lock file and every workspace's manifest; the build needs the tsconfigs, sources and bins.
    const workspaces = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    const needed = ['package.json', 'package-lock.json', 'tsconfig.base.json', 'packages/tsconfig.build.json', ...workspaces.map((w) => `${w}/package.json`)];
    for (const w of workspaces) needed.push(...walk(join(REPO, w)).filter((f) => /\/(src|bin)\/|tsconfig\.json$/.test(f)));
    assert.ok(needed.length > 100, `${needed.length} build inputs found`);
    for (const f of needed) {
      assert.ok(existsSync(join(REPO, f)), `${f} exists`);
      assert.ok(!ignored(f), `${f} is left out of the build context by .dockerignore`);
    }
    // What a host build leaves behind stays out (the image builds its own).
    for (const f of ['node_modules/x', 'packages/core/node_modules/x', 'packages/core/dist/index.js', '.git/HEAD', '.redline/runs/x']) assert.ok(ignored(f), `${f} should be ignored`);
  });

  it('has an entry point that exists in the image layout and runs', () => {
    const final = dockerfile.slice(dockerfile.findLastIndex((i) => i.op === 'FROM'));
    const buildDir = dockerfile.find((i) => i.op === 'WORKDIR')!.args;
    const copy = final.find((i) => i.op === 'COPY')!.args;
    assert.equal(copy, `--from=build ${buildDir} /app`);
    const entry = JSON.parse(final.find((i) => i.op === 'ENTRYPOINT')!.args) as string[];
    assert.equal(entry[0], 'node');
    assert.ok(entry[1]!.startsWith('/app/'));
    const bin = entry[1]!.slice('/app/'.length);
    assert.ok(existsSync(join(REPO, bin)), `${bin} exists`);
    const r = spawnSync(process.execPath, [join(REPO, bin), '--version'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^\d+\.\d+\.\d+/);
    // The runtime stage links /node_modules to the workspace's and makes /results for the node user.
    const run = final.filter((i) => i.op === 'RUN').map((i) => i.args).join(' && ');
    assert.match(run, /ln -s \/app\/node_modules \/node_modules/);
    assert.match(run, /mkdir -p \/results && chown node:node \/results/);
    assert.deepEqual(final.find((i) => i.op === 'USER')?.args, 'node');
    // redline k8s runs this image with `run …` arguments and run directories under /results.
    const [, job] = k8sManifests({ scenarioFile: 's.ts', scenario: 'export default {}', instances: 2, coordinator: 'redis://r:6379', runId: 'x', image: 'redline:test' }) as [unknown, { spec: { template: { spec: { containers: Array<{ args: string[] }> } } } }];
    const args = job.spec.template.spec.containers[0]!.args;
    assert.equal(args[0], 'run');
    assert.ok(args.filter((a) => a.startsWith('/results/')).length >= 2);
  });

  describe('the layout works for a real run', () => {
    let dir: string;
    let server: Server;
    let url: string;
    let hits = 0;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'redline-image-'));
      // As in the image: a scenario in /scenario (outside the app) that imports @redline/load.
      await mkdir(join(dir, 'scenario'));
      await writeFile(
        join(dir, 'scenario', 's.ts'),
        "import { defineScenario } from '@redline/load';\nexport default defineScenario({ name: 'image', baseUrl: process.env.IMAGE_TEST_URL, executor: 'shared-iterations', vus: 1, iterations: 5, maxDuration: '30s', requests: [{ url: '/' }] });\n",
      );
      server = createServer((_req, res) => {
        hits++;
        res.end('ok');
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await rm(dir, { recursive: true, force: true });
    });

    /** `redline run` of the scenario as a child process (asynchronously: this process serves the target). */
    const runIt = (out: string): Promise<{ status: number | null; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [join(REPO, 'packages/cli/bin/redline.js'), 'run', join(dir, 'scenario', 's.ts'), '--out', join(dir, 'results', out), '--no-report', '--workers', '1'], {
          cwd: dir,
          env: { ...process.env, IMAGE_TEST_URL: url },
          stdio: ['ignore', 'ignore', 'pipe'],
          timeout: 120_000,
        });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('close', (status) => resolve({ status, stderr }));
      });

    it('a scenario outside the app resolves @redline/load through /node_modules, and not without it', async () => {
      const without = await runIt('none');
      assert.equal(without.status, 2, without.stderr);
      assert.match(without.stderr, /cannot load the scenario module/);
      assert.equal(hits, 0);
      await symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const ok = await runIt('instance-0');
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(hits, 5);
      assert.ok(existsSync(join(dir, 'results', 'instance-0', 'result.json')));
    });
  });
});

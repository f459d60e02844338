// A full disk while writing result.json or report.html: the summary is still printed, the error
// names the file (exit 1), and no *.tmp file is left behind. The full disk is real: a small tmpfs
// mounted for the test (`mount -t tmpfs`, which needs root, as on CI and the development
// machines), filled up with a filler file. A read-only mount is refused before the load runs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

const KIB = 1024;
let root = '';
const mounts: string[] = [];
let server: http.Server;
let url = '';
let requests = 0;

function mountTmpfs(dir: string, options: string): void {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    throw new Error(`this test needs "mount -t tmpfs" (run as root): ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? String(err)}`);
  }
  mounts.push(dir);
}

/** Fills the file system at `dir` until only about `leaveBytes` are free. */
async function fill(dir: string, totalBytes: number, leaveBytes: number): Promise<void> {
  await writeFile(join(dir, 'filler'), Buffer.alloc(totalBytes - leaveBytes)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOSPC') throw err;
  });
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'redline-diskfull-'));
  server = http.createServer((_req, res) => {
    requests++;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  for (const m of mounts) execFileSync('umount', [m]);
  await rm(root, { recursive: true, force: true });
});

async function runInto(out: string, extra: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = fakeIo(['run', '--url', url, '--rate', '50', '--duration', '1s', '--out', out, '--workers', '0', ...extra], root);
  const code = await main(io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

test('disk full at result.json: summary printed, the error names result.json, no *.tmp left', async () => {
  const disk = join(root, 'full');
  await mkdir(disk);
  mountTmpfs(disk, 'size=512k');
  await fill(disk, 1024 * KIB, 0);
  const out = join(disk, 'run');
  const r = await runInto(out, ['--no-report']);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /http\.requests \.+: \d+/);
  assert.match(r.stdout, /completed in/);
  assert.equal(r.stderr.split('\n').at(-2), `redline: cannot write ${join(out, 'result.json')}: ENOSPC (no space left on the device)`);
  assert.deepEqual(await readdir(out), [], 'nothing half-written is left in the run directory');
});

test('disk full at report.html: summary printed, result.json kept, the error names report.html, no *.tmp', async () => {
  const disk = join(root, 'almost');
  await mkdir(disk);
  mountTmpfs(disk, 'size=1m');
  // Room for result.json of a 1 s run (~7 KiB, written twice) but not for the ~100 KiB report.
  await fill(disk, 1024 * KIB, 60 * KIB);
  const out = join(disk, 'run');
  const r = await runInto(out);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /http\.requests \.+: \d+/);
  assert.equal(r.stderr.split('\n').at(-2), `redline: could not write the HTML report ${join(out, 'report.html')}: ENOSPC (no space left on the device)`);
  assert.deepEqual(await readdir(out), ['result.json']);
});

test('a read-only --out is refused before the load runs', async () => {
  const disk = join(root, 'ro');
  await mkdir(disk);
  mountTmpfs(disk, 'ro,size=64k');
  const before = requests;
  const r = await runInto(join(disk, 'run'));
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr, `redline: cannot write results to --out ${join(disk, 'run')}: the file system is read-only (EROFS)\n`);
  assert.equal(requests, before, 'no request was sent');
});

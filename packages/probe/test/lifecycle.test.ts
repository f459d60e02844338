import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROBE_REGISTER_CJS, PROBE_REGISTER_ESM } from '@redline/probe/host';
import type { ProbeMessage } from '@redline/probe';

const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));

/** A bare runner end: collects the probe's messages from every connection. */
async function runnerSocket(): Promise<{ path: string; messages: ProbeMessage[]; sockets: Socket[]; close(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'redline-probe-test-'));
  const path = join(dir, 's.sock');
  const messages: ProbeMessage[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    let buf = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      buf += chunk;
      let i = buf.indexOf('\n');
      while (i !== -1) {
        messages.push(JSON.parse(buf.slice(0, i)) as ProbeMessage);
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    messages,
    sockets,
    close() {
      for (const s of sockets) s.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function run(args: string[], env: Record<string, string>, timeoutMs: number): Promise<{ code: number | null; stdout: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: fixtures, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`process did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, ms: Date.now() - t0 });
    });
  });
}

test('the probe does not keep an idle target alive (--require and --import entries)', async () => {
  for (const flag of [`--require=${PROBE_REGISTER_CJS}`, `--import=${PROBE_REGISTER_ESM}`]) {
    const runner = await runnerSocket();
    try {
      const res = await run([flag, 'idle.mjs'], { REDLINE_PROBE_SOCKET: runner.path, REDLINE_PROBE_INTERVAL_MS: '50' }, 10_000);
      assert.equal(res.code, 0);
      assert.equal(res.stdout, 'done\n');
      assert.ok(res.ms < 5000, `exited by itself after ${res.ms} ms`);
      const hello = runner.messages.find((m) => m.type === 'hello');
      assert.ok(hello && hello.type === 'hello' && hello.thread === 'main', `${flag}: the probe connected`);
      assert.ok(runner.messages.some((m) => m.type === 'sample'), `${flag}: the probe sampled`);
    } finally {
      runner.close();
    }
  }
});

test('the probe stops by itself when the runner goes away, releasing its timer and socket', async () => {
  const runner = await runnerSocket();
  try {
    const done = run([`--require=${PROBE_REGISTER_CJS}`, 'resources-after.mjs', '1500'], { REDLINE_PROBE_SOCKET: runner.path }, 10_000);
    const t0 = Date.now();
    while (runner.messages.filter((m) => m.type === 'sample').length < 2 && Date.now() - t0 < 5000) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(runner.messages.some((m) => m.type === 'sample'), 'sampling before the runner leaves');
    runner.close();
    const res = await done;
    assert.equal(res.code, 0);
    const baseline = await run(['resources-after.mjs', '300'], {}, 10_000);
    // Same handles as a run without the probe: no probe timer, no probe socket.
    assert.deepEqual(JSON.parse(res.stdout), JSON.parse(baseline.stdout));
    assert.ok((JSON.parse(baseline.stdout) as string[]).includes('Timeout'), 'the fixture timer is seen');
  } finally {
    runner.close();
  }
});

test('an unreachable runner socket leaves the target untouched', async () => {
  const res = await run([`--require=${PROBE_REGISTER_CJS}`, 'idle.mjs'], { REDLINE_PROBE_SOCKET: '/nonexistent/redline.sock' }, 10_000);
  assert.equal(res.code, 0);
  assert.equal(res.stdout, 'done\n');
});

test('without a runner socket the preload does nothing', async () => {
  const res = await run(
    [`--require=${PROBE_REGISTER_CJS}`, 'resources-after.mjs', '300'],
    { REDLINE_PROBE_SOCKET: '' },
    10_000,
  );
  assert.equal(res.code, 0);
  const baseline = await run(['resources-after.mjs', '300'], {}, 10_000);
  assert.deepEqual(JSON.parse(res.stdout), JSON.parse(baseline.stdout));
});

test('a target using process.send keeps its own IPC channel', async () => {
  const runner = await runnerSocket();
  try {
    const child = spawn(process.execPath, [`--require=${PROBE_REGISTER_CJS}`, '-e', 'process.send({ hi: 1 }); process.disconnect()'], {
      env: { ...process.env, REDLINE_PROBE_SOCKET: runner.path },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const message = await new Promise((resolve) => child.once('message', resolve));
    assert.deepEqual(message, { hi: 1 });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    assert.equal(code, 0);
  } finally {
    runner.close();
  }
});

// Worker threads that start after the CPU profile began are profiled too, and their profiles join the
// main thread's under a `thread <label>` node: the doctor and the flame graph name the worker's function.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FlameNode } from '@redline/doctor';
import { diagnoseRunDir } from '@redline/doctor';
import type { RunResult } from '@redline/core';
import { main } from '../src/main.js';
import { fakeIo } from './helpers/fake-io.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));

function find(node: FlameNode, name: string, path: string[] = []): string[] | null {
  if (node.name === name) return [...path, node.name];
  for (const c of node.children) {
    const hit = find(c, name, [...path, node.name]);
    if (hit) return hit;
  }
  return null;
}

test('a worker started mid-run is profiled; the merged profile names its function under its thread', async () => {
  const cwd = await mkdtemp(join(tmpdir(), 'redline-late-worker-'));
  const out = join(cwd, 'run');
  const io = fakeIo(['run', '--url', '/', '--rate', '20', '--duration', '7s', '--target', `"${process.execPath}" "${join(FIXTURES, 'late-worker-server.mjs')}"`, '--out', out, '--no-report', '--workers', '0'], cwd);
  assert.equal(await main(io), 0, io.stderrText());
  const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
  const threads = Object.keys(result.target?.profiles.threads ?? {});
  assert.equal(threads.length, 1, `one worker profile (profiles: ${JSON.stringify(result.target?.profiles)})`);
  const label = threads[0]!;
  assert.match(label, /^worker-\d+$/);
  const { profile, findings } = await diagnoseRunDir(out, { appRoot: FIXTURES });
  assert.ok(profile !== null);
  const hot = profile.hotFrames(undefined, 10).map((f) => `${f.functionName} ${f.file}:${f.line}`);
  assert.ok(hot.some((h) => h.startsWith('lateWorkerCrunch late-worker-crunch.mjs:2')), hot.join('\n'));
  const path = find(profile.flameTree(), 'lateWorkerCrunch');
  assert.deepEqual(path?.slice(0, 2), ['(root)', `thread ${label}`], String(path));
  // The app code the doctor holds responsible for the run's time is the worker's function.
  assert.equal(profile.attributedFrames(undefined, 1)[0]?.functionName, 'lateWorkerCrunch');
  const cpu = findings.find((f) => f.category === 'cpu-saturated');
  if (cpu !== undefined) assert.equal(cpu.frames[0]?.functionName, 'lateWorkerCrunch', cpu.title);
});

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CpuProfile, HeapProfile } from '../../src/index.ts';

const run = promisify(execFile);

/** Directory of the doctor test fixtures. */
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Runs `modulePath` under the inspector profiler in a child process and returns the real profile. */
export async function recordProfile(modulePath: string, intervalUs = 200): Promise<{ profile: CpuProfile; startEpochMs: number }> {
  const { stdout } = await run(process.execPath, [`${FIXTURES}record-profile.mjs`, modulePath, String(intervalUs)], {
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(stdout) as { profile: CpuProfile; startEpochMs: number };
}

/** Runs `modulePath` under the sampling heap profiler (collected objects included) and returns the real profile. */
export async function recordHeapProfile(modulePath: string): Promise<HeapProfile> {
  const { stdout } = await run(process.execPath, [`${FIXTURES}record-heap-profile.mjs`, modulePath], { timeout: 30_000, maxBuffer: 64 * 1024 * 1024 });
  return (JSON.parse(stdout) as { profile: HeapProfile }).profile;
}

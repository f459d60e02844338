import { join } from 'node:path';
import { RESULT_FILE, defaultRunDir, ensureDir, writeJsonAtomic, type RunResult } from '@redline/core';

/** Writes a run directory: `result.json` (atomically). Returns the directory. */
export async function writeRunDir(result: RunResult, dir?: string, base = process.cwd()): Promise<string> {
  const out = dir ?? defaultRunDir(result.name, new Date(result.startedAt), base);
  await ensureDir(out);
  await writeJsonAtomic(join(out, RESULT_FILE), result);
  return out;
}

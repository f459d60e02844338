import { basename, join } from 'node:path';
import { RESULT_FILE, createUniqueDir, defaultRunDir, ensureDir, writeJsonAtomic, type AtomicWriteFs, type RunResult } from '@redline/core';

/**
 * Writes a run directory: `result.json` (atomically). Returns the directory. Without `dir`, a new
 * directory `<base>/.redline/runs/<stamp>-<name>` is claimed (with `-2`, `-3`, … when two runs of
 * the same name start in the same second) and `result.id` is set to its name. A failed write
 * throws REDLINE_ERR_WRITE_FAILED naming the file and leaves no temporary file; `fs` is the seam
 * tests use to inject such faults.
 */
export async function writeRunDir(result: RunResult, dir?: string, base = process.cwd(), fs?: AtomicWriteFs): Promise<string> {
  let out: string;
  if (dir === undefined) {
    out = await createUniqueDir(defaultRunDir(result.name, new Date(result.startedAt), base));
    result.id = basename(out);
  } else {
    out = dir;
    await ensureDir(out);
  }
  await writeJsonAtomic(join(out, RESULT_FILE), result, fs);
  return out;
}

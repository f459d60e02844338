import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { ErrorCodes, RedlineError } from '@redline/core';

/**
 * Checks, before the load starts, that the run directory can be written: `outDir` (given with
 * `--out`) must be a directory or not exist yet, and a file must be creatable in it; without
 * `outDir`, the same holds for `<cwd>/.redline/runs`. Creates the directory. Throws
 * REDLINE_ERR_USAGE naming the place and the reason, so no load runs whose results would be lost.
 */
export async function prepareOutDir(outDir: string | undefined, cwd: string): Promise<void> {
  const dir = resolve(cwd, outDir ?? join('.redline', 'runs'));
  const shown = outDir !== undefined ? `--out ${outDir}` : `the runs directory ${relative(cwd, dir) || dir}`;
  const fail = (why: string, cause?: unknown): RedlineError =>
    new RedlineError(ErrorCodes.USAGE, `cannot write results to ${shown}: ${why}${outDir === undefined ? '; give --out DIR' : ''}`, cause === undefined ? undefined : { cause });
  const existing = await stat(dir).catch(() => null);
  if (existing && !existing.isDirectory()) throw fail('it is an existing file, not a directory');
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    // A recursive mkdir can report ENOENT where the real cause is EROFS or EACCES: ask again without it.
    const plain = await mkdir(dir).then(
      () => null,
      (e: unknown) => e,
    );
    throw fail(reason(plain ?? err), plain ?? err);
  }
  const probe = join(dir, `.redline-write-check-${process.pid}`);
  try {
    await writeFile(probe, '');
  } catch (err) {
    throw fail(reason(err), err);
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
}

function reason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOTDIR':
      return 'a part of the path is a file, not a directory (ENOTDIR)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (${code})`;
    case 'EROFS':
      return 'the file system is read-only (EROFS)';
    case 'ENOSPC':
      return 'no space left on the device (ENOSPC)';
    default:
      return code ?? (err as Error).message;
  }
}

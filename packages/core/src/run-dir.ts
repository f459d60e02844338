import { lstat, mkdir, readFile, realpath, rename, rm, writeFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve, sep } from 'node:path';
import { ErrorCodes, RedlineError } from './errors.js';
import { RESULT_SCHEMA_VERSION, type RunResult } from './result.js';

/** File name of the result inside a run directory. */
export const RESULT_FILE = 'result.json';

/** The file-system calls the atomic writer makes; tests swap them to inject faults such as ENOSPC. */
export interface AtomicWriteFs {
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: boolean }): Promise<void>;
}

const nodeFs: AtomicWriteFs = { writeFile: (p, d) => writeFile(p, d), rename, rm };

/**
 * Writes `data` to `path` atomically: a temporary file in the same directory, then rename. On any
 * failure (disk full, read-only file system) the temporary file is removed and a RedlineError
 * `REDLINE_ERR_WRITE_FAILED` names `path` and the system error (`cause` keeps the original).
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array, fs: AtomicWriteFs = nodeFs): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    const e = err as NodeJS.ErrnoException;
    throw new RedlineError(ErrorCodes.WRITE_FAILED, `cannot write ${path}: ${e.code ? `${e.code}${e.code === 'ENOSPC' ? ' (no space left on the device)' : ''}` : (e.message ?? String(err))}`, { cause: err });
  }
}

/** Writes JSON atomically (2-space indented); fails like {@link writeFileAtomic}. */
export async function writeJsonAtomic(path: string, value: unknown, fs?: AtomicWriteFs): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + '\n', fs);
}

/** A file-system-safe slug of a run or scenario name. */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'run';
}

/** The default run directory: `<base>/.redline/runs/<yyyymmdd-hhmmss>-<name>`. */
export function defaultRunDir(name: string, startedAt: Date, base = process.cwd()): string {
  const iso = startedAt.toISOString();
  const stamp = `${iso.slice(0, 10).replace(/-/g, '')}-${iso.slice(11, 19).replace(/:/g, '')}`;
  return join(base, '.redline', 'runs', `${stamp}-${slug(name)}`);
}

/** Creates a run directory (and parents). */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}

/**
 * Creates a new, empty directory at `dir`, or at `dir-2`, `dir-3`, … when that name is taken (two
 * runs with the same name in the same second). `mkdir` without `recursive` is the atomic claim, so
 * concurrent runs never share a directory. Returns the directory created.
 */
export async function createUniqueDir(dir: string): Promise<string> {
  await mkdir(join(dir, '..'), { recursive: true });
  for (let n = 1; n < 10_000; n++) {
    const candidate = n === 1 ? dir : `${dir}-${n}`;
    try {
      await mkdir(candidate);
      return candidate;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new RedlineError(ErrorCodes.WRITE_FAILED, `cannot create a run directory: ${basename(dir)} and 9,999 numbered variants exist`);
}

/**
 * Reads and checks `result.json` from a run directory.
 * Throws REDLINE_ERR_BAD_RUN_DIR when the directory is missing, holds no result, the JSON is
 * malformed, the schema version is not one this Redline reads, or a field does not match the
 * schema (the message names the field path).
 */
export async function readRunResult(dir: string): Promise<RunResult> {
  const abs = resolve(dir);
  try {
    const s = await stat(abs);
    if (!s.isDirectory()) throw new RedlineError(ErrorCodes.BAD_RUN_DIR, `${dir} is not a directory (expected a run directory with ${RESULT_FILE})`);
  } catch (err) {
    if (err instanceof RedlineError) throw err;
    throw new RedlineError(ErrorCodes.BAD_RUN_DIR, `run directory ${dir} does not exist`, { cause: err });
  }
  let text: string;
  try {
    text = await readFile(join(abs, RESULT_FILE), 'utf8');
  } catch (err) {
    throw new RedlineError(ErrorCodes.BAD_RUN_DIR, `${dir} is not a run directory: no ${RESULT_FILE} in it`, { cause: err });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new RedlineError(ErrorCodes.BAD_RUN_DIR, `${join(dir, RESULT_FILE)} is not valid JSON`, { cause: err });
  }
  const obj = data as { schemaVersion?: unknown; kind?: unknown };
  if (typeof obj !== 'object' || obj === null || obj.kind !== 'run') {
    throw new RedlineError(ErrorCodes.BAD_RUN_DIR, `${join(dir, RESULT_FILE)} is not a Redline run result`);
  }
  if (obj.schemaVersion !== RESULT_SCHEMA_VERSION) {
    throw new RedlineError(
      ErrorCodes.BAD_RUN_DIR,
      `${join(dir, RESULT_FILE)} has schemaVersion ${String(obj.schemaVersion)}; this Redline reads version ${RESULT_SCHEMA_VERSION}`,
    );
  }
  // Loaded on first read only: the probe shares this package and must not load zod.
  const { checkRunResult } = await import('./result-schema.js');
  const checked = checkRunResult(data);
  if (!checked.ok) {
    throw new RedlineError(ErrorCodes.BAD_RUN_DIR, `${join(dir, RESULT_FILE)} does not match the result schema: ${checked.problem}`);
  }
  return checked.result;
}

/**
 * The absolute path of a file a run directory's `result.json` names (a profile), after checking that
 * it is safe to read: a relative path, a regular file (not a symlink, FIFO, socket or device), and
 * inside the run directory once every link is resolved. A crafted `result.json` cannot make a reader
 * open `/etc/passwd` or block on a pipe. Throws REDLINE_ERR_BAD_RUN_DIR naming `field` otherwise. A
 * missing file comes back as its path, for the caller's loader to report.
 */
export async function resolveRunFile(runDir: string, rel: string, field: string): Promise<string> {
  const bad = (why: string, cause?: unknown): RedlineError =>
    new RedlineError(ErrorCodes.BAD_RUN_DIR, `${join(runDir, RESULT_FILE)}: ${field} ${JSON.stringify(rel)} ${why}`, cause === undefined ? {} : { cause });
  if (rel === '' || isAbsolute(rel) || rel.split(/[\\/]/).includes('..')) throw bad('is not a file name inside the run directory');
  const dir = await realpath(resolve(runDir)).catch((err: unknown) => {
    throw bad('cannot be checked: the run directory cannot be resolved', err);
  });
  const path = join(dir, rel);
  const info = await lstat(path).catch(() => null);
  // A missing file is safe to name: the caller's loader reports it in its own words.
  if (info === null) return join(resolve(runDir), rel);
  if (!info.isFile()) throw bad(`is not a regular file (${info.isSymbolicLink() ? 'a symbolic link' : info.isFIFO() ? 'a FIFO' : info.isDirectory() ? 'a directory' : 'a device or socket'})`);
  const real = await realpath(path);
  if (!real.startsWith(dir + sep)) throw bad('resolves outside the run directory');
  return real;
}

import { access } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, RedlineError } from '@redline/core';

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

/**
 * Imports a user's module (a scenario, a pipeline stage) and returns its namespace. TypeScript files
 * load through tsx, so users run `.ts` files with no build step of their own. `what` names the module
 * in errors ("scenario", "stage module").
 */
export async function importUserModule(file: string, cwd = process.cwd(), what = 'scenario'): Promise<Record<string, unknown>> {
  const abs = resolve(cwd, file);
  try {
    await access(abs);
  } catch {
    throw new RedlineError(ErrorCodes.SCENARIO_NOT_FOUND, `${what} file not found: ${file}`);
  }
  try {
    if (TS_EXTENSIONS.has(extname(abs))) {
      const { tsImport } = await import('tsx/esm/api');
      return (await tsImport(pathToFileURL(abs).href, import.meta.url)) as Record<string, unknown>;
    }
    return (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    throw new RedlineError(ErrorCodes.INVALID_SCENARIO, `${file}: cannot load the ${what} module: ${firstLine((err as Error)?.message ?? String(err))}`, { cause: err });
  }
}

/** Imports a scenario module and returns its default export (see {@link importUserModule}). */
export async function importScenarioModule(file: string, cwd = process.cwd()): Promise<unknown> {
  const mod = await importUserModule(file, cwd, 'scenario');
  let def = mod.default;
  // CommonJS or double-wrapped interop: `module.exports = defineScenario(...)` through tsx.
  if (def && (typeof def === 'object' || typeof def === 'function') && 'default' in def && !('scenarios' in def) && !('requests' in def) && !('exec' in def)) {
    def = (def as { default: unknown }).default;
  }
  if (def === undefined || def === null || (typeof def !== 'object' && typeof def !== 'function')) {
    throw new RedlineError(ErrorCodes.INVALID_SCENARIO, `${file}: (root): expected a default export created with defineScenario({...})`);
  }
  return def;
}

/**
 * Turns a scenario module's default export into a definition: a factory `({ env }) => ({...})` is
 * called with the script environment; an object is returned as it is.
 */
export function resolveScenarioExport(exported: unknown, env: Readonly<Record<string, string>>, file: string): unknown {
  if (typeof exported !== 'function') return exported;
  let def: unknown;
  try {
    def = (exported as (init: { env: Readonly<Record<string, string>> }) => unknown)({ env });
  } catch (err) {
    throw new RedlineError(ErrorCodes.INVALID_SCENARIO, `${file}: (root): the scenario function threw: ${firstLine((err as Error)?.message ?? String(err))}`, { cause: err });
  }
  if (def !== null && typeof (def as { then?: unknown }).then === 'function') {
    // A k6-style `export default async function (ctx) {…}` was called as a factory: its promise
    // rejects (it had no ctx) and must not surface as an unhandled rejection.
    (def as Promise<unknown>).then(undefined, () => undefined);
    throw new RedlineError(
      ErrorCodes.INVALID_SCENARIO,
      `${file}: (root): the default export is an async function; a scenario exports defineScenario({...}) and the iteration goes in its exec field: export default defineScenario({ exec: async (ctx) => {…} })`,
    );
  }
  if (def === null || typeof def !== 'object') {
    throw new RedlineError(ErrorCodes.INVALID_SCENARIO, `${file}: (root): the scenario function must return a definition object (synchronously)`);
  }
  return def;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

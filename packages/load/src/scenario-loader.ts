import { access } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ErrorCodes, RedlineError } from '@redline/core';

const TS_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

/**
 * Imports a scenario module and returns its default export (a definition object, or a factory
 * function of the script environment). TypeScript files load through tsx, so users run `.ts`
 * scenarios with no build step of their own.
 */
export async function importScenarioModule(file: string, cwd = process.cwd()): Promise<unknown> {
  const abs = resolve(cwd, file);
  try {
    await access(abs);
  } catch {
    throw new RedlineError(ErrorCodes.SCENARIO_NOT_FOUND, `scenario file not found: ${file}`);
  }
  let mod: { default?: unknown };
  try {
    if (TS_EXTENSIONS.has(extname(abs))) {
      const { tsImport } = await import('tsx/esm/api');
      mod = (await tsImport(pathToFileURL(abs).href, import.meta.url)) as { default?: unknown };
    } else {
      mod = (await import(pathToFileURL(abs).href)) as { default?: unknown };
    }
  } catch (err) {
    throw new RedlineError(ErrorCodes.INVALID_SCENARIO, `${file}: cannot load the scenario module: ${firstLine((err as Error)?.message ?? String(err))}`, { cause: err });
  }
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
  if (def === null || typeof def !== 'object' || typeof (def as { then?: unknown }).then === 'function') {
    throw new RedlineError(ErrorCodes.INVALID_SCENARIO, `${file}: (root): the scenario function must return a definition object (synchronously)`);
  }
  return def;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ErrorCodes, RedlineError } from '@redline/core';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Flags every command accepts. */
export const COMMON_OPTIONS = {
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
} as const satisfies Options;

/** Parses a command's arguments; unknown flags and missing values become REDLINE_ERR_USAGE. */
export function parseCommandArgs<O extends Options>(command: string, args: string[], options: O): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true });
    return { values: values as Record<string, unknown>, positionals };
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional argument.*$/, '');
    throw new RedlineError(ErrorCodes.USAGE, `redline ${command}: ${msg} (see redline ${command} --help)`);
  }
}

/**
 * Joins `--flag VALUE` into `--flag=VALUE` for options whose values start with `--` themselves
 * (`--target-node-options "--max-semi-space-size=64"`), which `parseArgs` would otherwise call ambiguous.
 */
export function joinDashValues(args: readonly string[], names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const next = args[i + 1];
    if (names.includes(a.replace(/^--/, '')) && a.startsWith('--') && next !== undefined) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

/** Parses repeated `Name: value` header flags. */
export function parseHeaders(list: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of (list as string[] | undefined) ?? []) {
    const i = h.indexOf(':');
    if (i <= 0) throw new RedlineError(ErrorCodes.USAGE, `invalid --header "${h}": expected "Name: value"`);
    headers[h.slice(0, i).trim()] = h.slice(i + 1).trim();
  }
  return headers;
}

/** Parses a positive integer flag. */
export function intFlag(name: string, value: unknown, min = 1): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new RedlineError(ErrorCodes.USAGE, `invalid --${name} "${String(value)}": expected an integer ≥ ${min}`);
  return n;
}

/**
 * Parses repeated `-e KEY=VALUE` flags (the script environment, k6's `-e`). The key is an
 * environment-variable name; the value may be empty and may contain `=`.
 */
export function parseEnvFlags(list: unknown): Record<string, string> {
  const env: Record<string, string> = {};
  for (const item of (list as string[] | undefined) ?? []) {
    const i = item.indexOf('=');
    const key = i < 0 ? item : item.slice(0, i);
    if (i <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new RedlineError(ErrorCodes.USAGE, `invalid -e "${item}": expected KEY=VALUE with KEY made of letters, digits and _`);
    }
    env[key] = item.slice(i + 1);
  }
  return env;
}

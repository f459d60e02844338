import { ErrorCodes, RedlineError } from '@redline/core';
import { csvOutput } from './csv.js';
import { jsonOutput } from './json.js';
import { otlpOutput } from './otlp.js';
import { prometheusOutput } from './prometheus.js';
import type { Output, OutputFactory } from './types.js';

/** Streaming outputs by name: `--output NAME=ARG`. */
export const OUTPUTS: Readonly<Record<string, OutputFactory>> = Object.freeze({
  json: jsonOutput,
  csv: csvOutput,
  prometheus: prometheusOutput,
  otlp: otlpOutput,
});

/** Names of the registered outputs, for messages and help. */
export const OUTPUT_NAMES: readonly string[] = Object.keys(OUTPUTS);

/**
 * `--out` is the run directory; `--out json=FILE` is almost surely meant as a streaming output.
 * Throws a usage error that points at `--output`.
 */
export function checkOutDirFlag(value: unknown): void {
  if (value === undefined) return;
  const m = /^([a-z]+)=/.exec(String(value));
  if (m && Object.hasOwn(OUTPUTS, m[1]!)) {
    throw new RedlineError(ErrorCodes.USAGE, `redline run: --out is the run directory; for a streaming output write --output ${String(value)} (see docs/outputs.md)`);
  }
}

/** Parses repeated `--output NAME=ARG` flags into outputs (not yet opened). */
export function outputsFromFlags(list: unknown, ctx: { cwd: string; env: Record<string, string | undefined> }): Output[] {
  const items = (list as string[] | undefined) ?? [];
  return items.map((item) => {
    const i = item.indexOf('=');
    const name = i < 0 ? item : item.slice(0, i);
    if (!Object.hasOwn(OUTPUTS, name)) {
      throw new RedlineError(ErrorCodes.USAGE, `invalid --output "${item}": unknown output "${name}", expected one of ${OUTPUT_NAMES.join(', ')} as NAME=ARG`);
    }
    const arg = i < 0 ? '' : item.slice(i + 1);
    if (arg === '') throw new RedlineError(ErrorCodes.USAGE, `invalid --output "${item}": expected ${name}=${name === 'json' || name === 'csv' ? 'FILE' : 'URL'}`);
    return OUTPUTS[name]!(arg, ctx);
  });
}

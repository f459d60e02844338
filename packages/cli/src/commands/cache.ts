import { ErrorCodes, RedlineError } from '@redline/core';
import { readTraceFile, renderSimulationTable, simulateTrace } from '@redline/cache';
import { parseCommandArgs } from '../args.js';
import { out, type CliIo } from '../io.js';

export const CACHE_HELP = `Usage: redline cache simulate TRACE.ndjson [--sizes 1000,5000] [--policies lru,w-tinylfu] [--json]

Replays a key trace (recorded with @redline/cache's key-trace recorder) against LRU and W-TinyLFU at
several cache sizes and prints the hit-ratio curve, so you can size L1 from your own traffic.`;

/** `redline cache simulate`. */
export async function cacheCommand(io: CliIo, args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('cache', args, { sizes: { type: 'string' }, policies: { type: 'string' } });
  if (v.help || positionals.length === 0) {
    out(io, CACHE_HELP);
    return positionals.length === 0 && !v.help ? 2 : 0;
  }
  const [sub, file, ...rest] = positionals;
  if (sub !== 'simulate') throw new RedlineError(ErrorCodes.USAGE, `redline cache: unknown subcommand "${sub}": expected simulate`);
  if (!file || rest.length) throw new RedlineError(ErrorCodes.USAGE, 'redline cache simulate: expected exactly one trace file');
  const sizes = v.sizes !== undefined ? String(v.sizes).split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new RedlineError(ErrorCodes.USAGE, `invalid --sizes entry "${s}": expected positive integers`);
    return n;
  }) : undefined;
  const policies = v.policies !== undefined ? (String(v.policies).split(',') as Array<'lru' | 'w-tinylfu'>) : undefined;
  for (const p of policies ?? []) if (p !== 'lru' && p !== 'w-tinylfu') throw new RedlineError(ErrorCodes.USAGE, `invalid --policies entry "${p}": expected lru or w-tinylfu`);
  const trace = await readTraceFile(file);
  const result = simulateTrace(trace, { ...(sizes ? { sizes } : {}), ...(policies ? { policies } : {}) });
  out(io, v.json ? JSON.stringify(result, null, 2) : renderSimulationTable(result));
  return 0;
}

import { ErrorCodes, RedlineError, defaultRunDir, parseDuration } from '@redline/core';
import { parseSlo } from '@redline/capacity';
import { intFlag } from '../args.js';
import type { CliIo } from '../io.js';
import { runAndPrintOverload } from './overload.js';

/** The demo's SLO for the overload scenario, as the demo's other scenarios use. */
const DEMO_OVERLOAD_SLO = 'p(99)<250';

/**
 * `redline demo overload`: the overload experiment on the demo service with and without
 * `@redline/flow` (Gradient2, no queue, a 250 ms deadline), side by side. `--rate` is the maximum
 * sustainable rate (default: searched on the unlimited service, ~40 s); `--duration` is the length of
 * each step (default 3s, 1s to 10s; the recovery step lasts twice that).
 */
export async function demoOverload(io: CliIo, v: Record<string, unknown>, server: string): Promise<number> {
  const stepMs = parseDuration(String(v.duration ?? '3s'), '--duration');
  if (stepMs < 1000 || stepMs > 10_000) throw new RedlineError(ErrorCodes.USAGE, `--duration for the overload demo is the length of each step, between 1s and 10s, got ${String(v.duration)}`);
  const maxRate = intFlag('rate', v.rate);
  const workers = intFlag('workers', v.workers, 0);
  const base = `"${process.execPath}" "${server}" --bottleneck overload`;
  return runAndPrintOverload(io, Boolean(v.json), () => {
    io.stderr.write(`redline demo: overload, ${maxRate === undefined ? 'searching the maximum sustainable rate, then ' : ''}0.5× to 4× of it and back, with and without @redline/flow\n`);
    const outDir = v.out !== undefined ? String(v.out) : defaultRunDir('demo-overload', new Date(), io.cwd);
    return {
      variants: [
        { label: 'without limiter', command: base },
        { label: 'with @redline/flow (gradient2)', command: `${base} --limiter gradient2` },
      ],
      path: '/search',
      slo: parseSlo(DEMO_OVERLOAD_SLO),
      ...(maxRate !== undefined && { maxRate }),
      stepMs,
      recoveryStepMs: Math.max(5000, 2 * stepMs),
      recoverWithinMs: 5000,
      warmupMs: 2000,
      timeoutMs: 2000,
      searchStepMs: 2000,
      searchBudgetMs: 40_000,
      searchStart: 10,
      outDir,
      ...(workers !== undefined && { workers }),
    };
  });
}

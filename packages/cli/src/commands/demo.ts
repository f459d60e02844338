import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ErrorCodes, ExitCodes, RedlineError, parseDuration } from '@redline/core';
import { resolvePlan } from '@redline/load';
import { intFlag, parseCommandArgs } from '../args.js';
import { out, type CliIo } from '../io.js';
import { runSessionInTerminal } from '../live.js';
import { TRACE_HELP, TRACE_OPTIONS, traceOptionsFrom } from '../trace-flags.js';
import { LEAK_HELP, LEAK_OPTIONS, leakOptionsFrom } from '../leak-flags.js';
import { finishOutcome, runExitCode, summaryFirst } from './run.js';

/** The planted bottlenecks of the demo service (`@redline/demo`). */
export const DEMO_BOTTLENECKS = ['event-loop-block', 'cpu-saturation', 'gc-churn', 'gc-young', 'sync-fs', 'memory-leak', 'slow-downstream', 'pool-starvation', 'n-plus-one', 'slow-query', 'threadpool', 'healthy', 'leak-map', 'leak-closures', 'leak-listeners', 'leak-cache'] as const;

/** Bottlenecks backed by PGlite (see @redline/demo's pglite.ts). */
const USES_DATABASE: ReadonlySet<string> = new Set(['pool-starvation', 'n-plus-one', 'slow-query']);

/** Load settings of the demo for one bottleneck. */
export interface DemoLoad {
  /** Requests per second. */
  rate: number;
  /** Most requests in flight (the generator's VUs); bounded so an overloaded demo queues in the target, not in the generator. */
  maxVUs: number;
  /** Request timeout, in ms. */
  timeoutMs: number;
}

/**
 * Per-bottleneck load: enough to make the planted problem show clearly, on a shared machine where the
 * target may get well under a core, without burying it under timeouts. Capacities at one core:
 * event-loop-block ~125/s (8 ms sync per request), cpu-saturation ~100/s (10 ms CPU), pool-starvation
 * 100/s (4 connections held 40 ms).
 */
export const DEMO_LOAD: Record<(typeof DEMO_BOTTLENECKS)[number], DemoLoad> = {
  // Above one core's capacity even on an idle machine: the loop turns only between batches of blocking calls.
  'event-loop-block': { rate: 150, maxVUs: 32, timeoutMs: 5000 },
  // Few requests in flight: the sliced work keeps the loop turning, so the CPU, not the loop, is the limit.
  'cpu-saturation': { rate: 150, maxVUs: 16, timeoutMs: 5000 },
  'gc-churn': { rate: 200, maxVUs: 32, timeoutMs: 5000 },
  // ~8 MB kept live across requests in the young generation: the A/B for --max-semi-space-size.
  'gc-young': { rate: 100, maxVUs: 32, timeoutMs: 5000 },
  // 300 readFileSync calls per request (~5 ms of syscalls on the loop): blocked, not out of CPU.
  'sync-fs': { rate: 50, maxVUs: 32, timeoutMs: 5000 },
  'memory-leak': { rate: 150, maxVUs: 32, timeoutMs: 5000 },
  'slow-downstream': { rate: 100, maxVUs: 64, timeoutMs: 5000 },
  // pg.Pool of 4 against PGlite, each request holding a client ~40 ms: capacity ~100/s.
  'pool-starvation': { rate: 150, maxVUs: 64, timeoutMs: 5000 },
  // 21 queries one after another per request; PGlite answers one query at a time.
  'n-plus-one': { rate: 3, maxVUs: 16, timeoutMs: 5000 },
  // One unindexed LIKE scan per request (tens of ms on PGlite, which runs one query at a time).
  'slow-query': { rate: 4, maxVUs: 16, timeoutMs: 5000 },
  // 50 ms of PBKDF2 per request on 4 libuv threads: at most 80/s, fewer on a 2-core machine.
  threadpool: { rate: 100, maxVUs: 64, timeoutMs: 5000 },
  healthy: { rate: 100, maxVUs: 32, timeoutMs: 5000 },
  // The leak shapes keep 7–13 KB per request: 60–110 MB/min at 150/s.
  'leak-map': { rate: 150, maxVUs: 32, timeoutMs: 5000 },
  'leak-closures': { rate: 150, maxVUs: 32, timeoutMs: 5000 },
  'leak-listeners': { rate: 150, maxVUs: 32, timeoutMs: 5000 },
  'leak-cache': { rate: 150, maxVUs: 32, timeoutMs: 5000 },
};

export const DEMO_HELP = `Usage: redline demo [NAME | --bottleneck NAME] [--duration 12s] [--rate R] [--out DIR] [--json]

Starts the demo service with the probe, runs a short open-model load against it, and prints the
summary and the doctor's findings. Needs nothing from you.

  --bottleneck NAME   ${DEMO_BOTTLENECKS.join(' | ')} (default event-loop-block)
  --duration D        load duration (default 12s, 3s to 30s)
  --rate R            requests per second (default: chosen per bottleneck, 100 to 200)

${TRACE_HELP}

${LEAK_HELP}`;

/**
 * Path of the demo service entry point, resolved through the `@redline/demo` package the CLI depends
 * on, so `redline demo` runs from an install as well as from the repository.
 */
export function demoServerPath(): string {
  try {
    return fileURLToPath(import.meta.resolve('@redline/demo/server'));
  } catch (err) {
    throw new RedlineError(ErrorCodes.TARGET_START_FAILED, `cannot find the demo service (@redline/demo/server): ${(err as Error).message}`, { cause: err });
  }
}

/** `redline demo`: the README's main job. */
export async function demoCommand(io: CliIo, args: string[]): Promise<number> {
  const { values: v, positionals } = parseCommandArgs('demo', args, {
    bottleneck: { type: 'string', short: 'b' },
    duration: { type: 'string', short: 'd' },
    rate: { type: 'string' },
    workers: { type: 'string' },
    out: { type: 'string', short: 'o' },
    'no-report': { type: 'boolean' },
    ...TRACE_OPTIONS,
    ...LEAK_OPTIONS,
  });
  const trace = traceOptionsFrom(v);
  const leak = leakOptionsFrom(v, true);
  if (v.help) {
    out(io, DEMO_HELP);
    return 0;
  }
  // `redline demo n-plus-one` reads as `--bottleneck n-plus-one`; anything more is a mistake, not ignored.
  if (positionals.length > 1 || (positionals.length === 1 && v.bottleneck !== undefined)) {
    throw new RedlineError(ErrorCodes.USAGE, `redline demo: unexpected argument "${positionals[positionals.length - 1]!}" (give one bottleneck, by name or with --bottleneck)`);
  }
  const bottleneck = String(v.bottleneck ?? positionals[0] ?? 'event-loop-block');
  if (!(DEMO_BOTTLENECKS as readonly string[]).includes(bottleneck)) {
    throw new RedlineError(ErrorCodes.USAGE, `unknown bottleneck "${bottleneck}": expected one of ${DEMO_BOTTLENECKS.join(', ')}`);
  }
  const durationMs = parseDuration(String(v.duration ?? '12s'));
  if (durationMs > 30_000 || durationMs < 3000) throw new RedlineError(ErrorCodes.USAGE, `--duration for the demo must be between 3s and 30s, got ${String(v.duration)}`);
  const load = DEMO_LOAD[bottleneck as (typeof DEMO_BOTTLENECKS)[number]];
  const rate = intFlag('rate', v.rate) ?? load.rate;
  const workers = intFlag('workers', v.workers, 0);
  const server = demoServerPath();
  if (!existsSync(server)) throw new RedlineError(ErrorCodes.TARGET_START_FAILED, `the demo service is not built (${server} is missing); run npm run build`);
  io.stderr.write(`redline demo: ${bottleneck}, ${rate} requests/s for ${durationMs / 1000}s\n`);
  const outcome = await runSessionInTerminal(io, Boolean(v.json), {
    ...(trace ? { trace } : {}),
    ...summaryFirst(io, Boolean(v.json)),
    // Run the service from its own directory so frames read src/bottlenecks/*.ts wherever redline runs.
    // The database bottlenecks start PGlite first; its first run on a machine initialises a database in WASM.
    target: { kind: 'launch', command: `"${process.execPath}" "${server}" --bottleneck ${bottleneck}`, cwd: dirname(dirname(server)), ...(USES_DATABASE.has(bottleneck) ? { startTimeoutMs: 150_000 } : {}) },
    ...(workers !== undefined ? { workers } : {}),
    ...(v.out !== undefined ? { outDir: String(v.out) } : {}),
    report: !v['no-report'],
    leak,
    plan: async ({ url }) =>
      resolvePlan(
        {
          name: `demo-${bottleneck}`,
          baseUrl: url ?? undefined,
          executor: 'constant-arrival-rate',
          rate,
          duration: durationMs / 1000,
          preAllocatedVUs: Math.min(16, load.maxVUs),
          // A bounded pool of connections: enough for a healthy service, too few to hide a sick one.
          maxVUs: load.maxVUs,
          timeout: `${load.timeoutMs}ms`,
          requests: [{ method: 'GET', url: '/products?page=1', name: 'GET /products' }],
          thresholds: { 'http.latency': ['p(99)<250'], 'http.errors': ['rate<0.01'] },
        },
        'redline demo',
        { source: null, ...(workers !== undefined ? { workers } : {}) },
      ),
  });
  finishOutcome(io, outcome, Boolean(v.json));
  // The demo's thresholds are there to show a verdict; a sick demo service is the point, not a failure.
  return runExitCode(outcome.result, false) === ExitCodes.INTERRUPTED ? ExitCodes.INTERRUPTED : ExitCodes.OK;
}

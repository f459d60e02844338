import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { ErrorCodes, RedlineError, parseDuration } from '@redline/core';
import { resolvePlan } from '@redline/load';
import { intFlag, parseCommandArgs } from '../args.js';
import { out, type CliIo } from '../io.js';
import { interruptHandler, liveReporter } from '../live.js';
import { runSession } from '../session.js';
import { printOutcome, runExitCode } from './run.js';

/** The planted bottlenecks of the demo service (examples/demo). */
export const DEMO_BOTTLENECKS = ['event-loop-block', 'cpu-saturation', 'gc-churn', 'memory-leak', 'slow-downstream', 'pool-starvation', 'healthy'] as const;

export const DEMO_HELP = `Usage: redline demo [--bottleneck NAME] [--duration 15s] [--rate 200] [--out DIR] [--json]

Starts the demo service with the probe, runs a short open-model load against it, and prints the
summary and the doctor's findings. Needs nothing from you.

  --bottleneck NAME   ${DEMO_BOTTLENECKS.join(' | ')} (default event-loop-block)
  --duration D        load duration (default 15s, at most 30s)
  --rate R            requests per second (default 200)`;

/** Path of the demo service entry point (built by `npm run build`). */
export function demoServerPath(): string {
  return fileURLToPath(new URL('../../../../examples/demo/dist/server.js', import.meta.url));
}

/** `redline demo`: the README's main job. */
export async function demoCommand(io: CliIo, args: string[]): Promise<number> {
  const { values: v } = parseCommandArgs('demo', args, {
    bottleneck: { type: 'string', short: 'b' },
    duration: { type: 'string', short: 'd' },
    rate: { type: 'string' },
    workers: { type: 'string' },
    out: { type: 'string', short: 'o' },
    'no-report': { type: 'boolean' },
  });
  if (v.help) {
    out(io, DEMO_HELP);
    return 0;
  }
  const bottleneck = String(v.bottleneck ?? 'event-loop-block');
  if (!(DEMO_BOTTLENECKS as readonly string[]).includes(bottleneck)) {
    throw new RedlineError(ErrorCodes.USAGE, `unknown bottleneck "${bottleneck}": expected one of ${DEMO_BOTTLENECKS.join(', ')}`);
  }
  const durationMs = parseDuration(String(v.duration ?? '15s'));
  if (durationMs > 30_000 || durationMs < 3000) throw new RedlineError(ErrorCodes.USAGE, `--duration for the demo must be between 3s and 30s, got ${String(v.duration)}`);
  const rate = intFlag('rate', v.rate) ?? 200;
  const workers = intFlag('workers', v.workers, 0);
  const server = demoServerPath();
  if (!existsSync(server)) throw new RedlineError(ErrorCodes.TARGET_START_FAILED, `the demo service is not built (${server} is missing); run npm run build`);
  const live = v.json ? null : liveReporter(io);
  const interrupts = interruptHandler(io);
  io.stderr.write(`redline demo: ${bottleneck}, ${rate} requests/s for ${durationMs / 1000}s\n`);
  try {
    const outcome = await runSession({
      cwd: io.cwd,
      env: io.env,
      target: { kind: 'launch', command: `"${process.execPath}" "${server}" --bottleneck ${bottleneck}` },
      ...(workers !== undefined ? { workers } : {}),
      ...(v.out !== undefined ? { outDir: String(v.out) } : {}),
      report: !v['no-report'],
      ...(live ? { onSecond: live.onSecond } : {}),
      onEvent: (m) => {
        live?.clear();
        io.stderr.write(`${m}\n`);
      },
      controls: (c) => interrupts.attach(c),
      plan: async ({ url }) =>
        resolvePlan(
          {
            name: `demo-${bottleneck}`,
            baseUrl: url ?? undefined,
            executor: 'constant-arrival-rate',
            rate,
            duration: durationMs / 1000,
            preAllocatedVUs: 16,
            // A bounded pool of connections: enough for a healthy service, too few to hide a sick one.
            maxVUs: 64,
            timeout: '2s',
            requests: [{ method: 'GET', url: '/products?page=1', name: 'GET /products' }],
            thresholds: { 'http.latency': ['p(99)<250'], 'http.errors': ['rate<0.01'] },
          },
          'redline demo',
          { source: null, ...(workers !== undefined ? { workers } : {}) },
        ),
    });
    live?.clear();
    printOutcome(io, outcome.result, outcome.runDir, outcome.reportPath, Boolean(v.json));
    // The demo's thresholds are there to show a verdict; a sick demo service is the point, not a failure.
    return runExitCode(outcome.result, false) === 130 ? 130 : 0;
  } finally {
    live?.clear();
    interrupts.dispose();
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createLimiter, limitHandler, runQueueClock, type AlgorithmName } from '@redline/flow';

const ALGORITHMS = ['gradient2', 'vegas', 'aimd', 'fixed'] as const;

/**
 * `on`/`off` from `--stall-clock` / `REDLINE_DEMO_STALL_CLOCK` (default off); null when unknown.
 * Off by default: the SLO is on wall time, and in simulation and on the busy machine taking the
 * run-queue wait out of the latency made the limiter admit more than a starved core could serve
 * within it (BENCHMARKS.md, flow 2026-12-02).
 */
export function pickStallClock(value: string | undefined): boolean | null {
  if (value === undefined || value === '' || value === 'off') return false;
  return value === 'on' ? true : null;
}

/** `off` or an algorithm name from `--limiter` / `REDLINE_DEMO_LIMITER`; null when unknown. */
export function pickLimiter(value: string | undefined): AlgorithmName | 'off' | null {
  if (value === undefined || value === '' || value === 'off') return 'off';
  return (ALGORITHMS as readonly string[]).includes(value) ? (value as AlgorithmName) : null;
}

/**
 * The demo's admission control: an adaptive limit and no queue (a request that finds every slot
 * taken gets 503 at once; with a queue of 2 the admitted p99 was higher in the overload bench), and
 * a 250 ms deadline per request, so past its capacity the service refuses the excess instead of
 * queueing it into timeouts. Gradient2's headroom is 1 call per window here
 * (Netflix's default is 4): this service's work is CPU shared by every call in flight, so each
 * extra call in flight adds latency rather than throughput.
 */
export function demoLimiter(
  algorithm: AlgorithmName,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  options: { stallClock?: boolean } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const stallClock = options.stallClock === true ? runQueueClock() : undefined;
  const limiter = createLimiter({
    ...(stallClock && { stallClock }),
    name: 'demo',
    algorithm,
    min: 1,
    max: 64,
    initial: 4,
    maxQueue: 0,
    gradient2: { queueSize: 1 },
  });
  return limitHandler(limiter, handler, { timeoutMs: 250 });
}

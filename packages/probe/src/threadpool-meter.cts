import { randomFill } from 'node:crypto';
import type { RawThreadpoolDelay } from './protocol.cjs';

/** Measures the libuv thread pool's queue delay with one tiny task at a time. */
export interface ThreadpoolMeter {
  /** Closes the window (returns `null` before the first task finished) and submits the next task. */
  take(): RawThreadpoolDelay | null;
}

/**
 * Creates the meter. Each window submits one 1-byte `crypto.randomFill` (pure thread-pool work, no
 * I/O) unless the previous one is still waiting; its latency minus the smallest latency seen is the
 * time it queued behind other thread-pool work (plus any event-loop delay in running its callback,
 * which is why the doctor only reads it as queueing while the main thread is idle).
 */
export function createThreadpoolMeter(now: () => number): ThreadpoolMeter {
  const buf = Buffer.alloc(1);
  let inFlightSince = 0;
  let count = 0;
  let sum = 0;
  let max = 0;
  let baseline = Number.POSITIVE_INFINITY;
  const submit = (): void => {
    if (inFlightSince !== 0) return;
    const started = now();
    inFlightSince = started;
    randomFill(buf, (err) => {
      inFlightSince = 0;
      if (err) return;
      const ms = now() - started;
      if (ms < baseline) baseline = ms;
      count += 1;
      sum += ms;
      if (ms > max) max = ms;
    });
  };
  submit();
  return {
    take() {
      const waiting = inFlightSince === 0 ? 0 : now() - inFlightSince;
      const out: RawThreadpoolDelay | null =
        Number.isFinite(baseline) ? { count, meanMs: count > 0 ? sum / count : waiting, maxMs: Math.max(max, waiting), baselineMs: baseline } : null;
      count = 0;
      sum = 0;
      max = 0;
      submit();
      return out;
    },
  };
}

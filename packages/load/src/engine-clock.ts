import { performance } from 'node:perf_hooks';

const origin = performance.timeOrigin;

/**
 * Engine time: epoch milliseconds with sub-millisecond resolution. Every thread computes it from
 * its own `performance.timeOrigin`, so workers, the runner and the probe in the target share one
 * time axis without exchanging clock offsets.
 */
export function engineNow(): number {
  return origin + performance.now();
}

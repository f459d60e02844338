// The sampler's real dependencies (this process's perf_hooks, v8 and process), for tests and benches.
import { performance, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { SamplerDeps } from '../../src/sampler.cjs';

/** Real sampler dependencies on the main thread; `over` replaces or adds some (e.g. `readProcIo`). */
export function realSamplerDeps(over: Partial<SamplerDeps> = {}): SamplerDeps {
  return {
    performance: performance as unknown as SamplerDeps['performance'],
    monitorEventLoopDelay: monitorEventLoopDelay as unknown as SamplerDeps['monitorEventLoopDelay'],
    PerformanceObserver: PerformanceObserver as unknown as SamplerDeps['PerformanceObserver'],
    getHeapStatistics,
    process,
    isMainThread: true,
    thread: 'main',
    ownResources: {},
    ...over,
  };
}

import { unitsPerMs, type Bottleneck } from '../bottleneck.js';

/**
 * CPU time one request costs, in ms, in slices that give the event loop back in between: requests
 * in flight share the core, so latency grows with the number in flight (processor sharing), the way
 * an async service doing CPU work between awaits behaves past its capacity.
 */
const REQUEST_CPU_MS = 4;
const SLICE_MS = 0.25;
let unitsPerSlice = 1000;

function spin(units: number, seed: number): number {
  let x = seed | 0;
  for (let i = 0; i < units; i++) x = (Math.imul(x, 1103515245) + 12345 + i) | 0;
  return x;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Scores one page of search results (one slice of CPU work per call). */
export function scoreResults(seed: number): number {
  return spin(unitsPerSlice, seed);
}

/** The overload scenario's handler: REQUEST_CPU_MS of sliced CPU work per request (~250 requests/s per core). */
export function createOverload(): Bottleneck {
  unitsPerSlice = Math.max(100, Math.round(unitsPerMs((n) => spin(n, 11), 10_000) * SLICE_MS));
  let n = 0;
  return {
    async handle() {
      let score = n++;
      for (let s = 0; s < REQUEST_CPU_MS / SLICE_MS; s++) {
        score = scoreResults(score);
        await yieldToLoop();
      }
      return { score };
    },
    async close() {},
  };
}

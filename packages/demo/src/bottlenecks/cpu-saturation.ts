import { unitsPerMs, type Bottleneck } from '../bottleneck.js';

/** CPU time one request costs, in ms, split into slices that give the event loop back in between. */
const REQUEST_CPU_MS = 10;
const SLICE_MS = 0.25;
let unitsPerSlice = 1000;

function spin(units: number, seed: number): number {
  let x = seed | 0;
  for (let i = 0; i < units; i++) x = (Math.imul(x, 1103515245) + 12345 + i) | 0;
  return x;
}

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The planted problem: ranks products with pure CPU work (one slice of it per call). Each call is
 * short, so the event loop stays responsive, but a request needs REQUEST_CPU_MS / SLICE_MS of them,
 * so one core runs out at ~100 requests/s.
 */
export function rankProducts(score: number): number {
  let x = score | 0;
  for (let i = 0; i < unitsPerSlice; i++) x = (Math.imul(x, 1103515245) + 12345 + i) | 0;
  return x;
}

/**
 * Runs {@link rankProducts} slice by slice, politely yielding to the loop in between. The hot loop
 * lives in a plain function: V8's profiler can lose the frame of a resumed, optimised async
 * function and charge its time to `runMicrotasks`.
 */
export async function rankProductsSliced(seed: number): Promise<number> {
  let score = seed;
  const slices = Math.round(REQUEST_CPU_MS / SLICE_MS);
  for (let s = 0; s < slices; s++) {
    score = rankProducts(score);
    await yieldToLoop();
  }
  return score;
}

/** CPU saturation: every request runs {@link rankProductsSliced}. */
export function createCpuSaturation(): Bottleneck {
  unitsPerSlice = Math.max(100, Math.round(unitsPerMs((n) => spin(n, 7), 10_000) * SLICE_MS));
  let n = 0;
  return {
    async handle() {
      return { score: await rankProductsSliced(n++) };
    },
    async close() {},
  };
}

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
 * The planted problem: ranks products with pure CPU work, politely sliced (the loop stays
 * responsive), but a request costs REQUEST_CPU_MS of CPU, so one core runs out at ~100 requests/s.
 */
export async function rankProducts(seed: number): Promise<number> {
  let score = seed;
  const slices = Math.round(REQUEST_CPU_MS / SLICE_MS);
  for (let s = 0; s < slices; s++) {
    let x = score | 0;
    for (let i = 0; i < unitsPerSlice; i++) x = (Math.imul(x, 1103515245) + 12345 + i) | 0;
    score = x;
    await yieldToLoop();
  }
  return score;
}

/** CPU saturation: every request runs {@link rankProducts}. */
export function createCpuSaturation(): Bottleneck {
  unitsPerSlice = Math.max(100, Math.round(unitsPerMs((n) => spin(n, 7), 10_000) * SLICE_MS));
  let n = 0;
  return {
    async handle() {
      return { score: await rankProducts(n++) };
    },
    async close() {},
  };
}

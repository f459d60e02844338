import { pbkdf2Sync } from 'node:crypto';
import { unitsPerMs, type Bottleneck } from '../bottleneck.js';

interface Item {
  id: number;
  name: string;
  tags: string[];
  price: number;
  stock: { warehouse: number; shelf: string };
}

const catalogue: Item[] = Array.from({ length: 400 }, (_, i) => ({
  id: i,
  name: `item-${i}`,
  tags: ['red', 'line', `t${i % 17}`],
  price: i * 1.5,
  stock: { warehouse: i % 7, shelf: `s${i % 13}` },
}));

/** Main-thread time one request costs, in ms: the textbook "8 ms of synchronous work per request". */
const TARGET_MS = 8;
/** PBKDF2 iterations per slice; slices repeat until TARGET_MS of the loop's time is used. */
let sliceIterations = 100;

/**
 * The planted problem: serialises the catalogue, parses it back and derives a signature with the
 * synchronous PBKDF2 — all on the event loop, TARGET_MS per call. The PBKDF2 runs in short slices
 * until TARGET_MS of wall time has passed, so the block is the same on a quiet machine and on a
 * busy one (a one-off calibration misjudges either).
 */
export function renderCatalogueSync(query: string): { count: number; signature: string } {
  const started = performance.now();
  const json = JSON.stringify(catalogue);
  const parsed = JSON.parse(json) as Item[];
  let signature = '';
  do {
    signature = pbkdf2Sync(query + signature.slice(0, 8), json.slice(0, 64), sliceIterations, 32, 'sha256').toString('hex');
  } while (performance.now() - started < TARGET_MS);
  return { count: parsed.length, signature };
}

/** Event-loop block: every request runs {@link renderCatalogueSync} synchronously. */
export function createEventLoopBlock(): Bottleneck {
  // Slices of about half a millisecond keep the overshoot past TARGET_MS small.
  const itersPerMs = unitsPerMs((n) => pbkdf2Sync('calibrate', 'salt', n, 32, 'sha256'), 200);
  sliceIterations = Math.max(50, Math.round(itersPerMs / 2));
  return {
    handle(_req, url) {
      return renderCatalogueSync(url.searchParams.get('q') ?? url.pathname);
    },
    async close() {},
  };
}

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
let pbkdf2Iterations = 1000;

/**
 * The planted problem: serialises the catalogue, parses it back and derives a signature with the
 * synchronous PBKDF2 — all on the event loop, about TARGET_MS per call.
 */
export function renderCatalogueSync(query: string): { count: number; signature: string } {
  const json = JSON.stringify(catalogue);
  const parsed = JSON.parse(json) as Item[];
  const signature = pbkdf2Sync(query, json.slice(0, 64), pbkdf2Iterations, 32, 'sha256').toString('hex');
  return { count: parsed.length, signature };
}

/** Event-loop block: every request runs {@link renderCatalogueSync} synchronously. */
export function createEventLoopBlock(): Bottleneck {
  // Calibrate so one call costs about TARGET_MS on this machine: JSON part as is, PBKDF2 fills the rest.
  const jsonPerMs = unitsPerMs((n) => {
    for (let i = 0; i < n; i++) JSON.parse(JSON.stringify(catalogue));
  }, 1);
  const itersPerMs = unitsPerMs((n) => pbkdf2Sync('calibrate', 'salt', n, 32, 'sha256'), 200);
  const jsonMs = 1 / jsonPerMs;
  pbkdf2Iterations = Math.max(100, Math.round((TARGET_MS - jsonMs) * itersPerMs));
  return {
    handle(_req, url) {
      return renderCatalogueSync(url.searchParams.get('q') ?? url.pathname);
    },
    async close() {},
  };
}

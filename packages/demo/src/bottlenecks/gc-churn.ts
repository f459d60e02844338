import type { Bottleneck } from '../bottleneck.js';

interface Row {
  id: number;
  label: string;
  values: number[];
}

/** Rows built per request, and how many requests' rows stay referenced (long enough to be promoted, then dropped). */
const ROWS_PER_REQUEST = 6000;
const RETAINED_REQUESTS = 64;
const recent: Row[][] = [];

/**
 * The planted problem: builds thousands of temporary objects per request and keeps them just long
 * enough to survive young-generation GCs, so they die in the old generation and force full GCs.
 */
export function buildRowsForResponse(seed: number): number {
  const rows: Row[] = [];
  for (let i = 0; i < ROWS_PER_REQUEST; i++) rows.push({ id: seed + i, label: `row-${seed}-${i}`, values: [i, i * 2, i * 3] });
  recent.push(rows);
  if (recent.length > RETAINED_REQUESTS) recent.shift();
  return rows.length;
}

/** GC churn: every request runs {@link buildRowsForResponse}. */
export function createGcChurn(): Bottleneck {
  let n = 0;
  return {
    handle() {
      return { rows: buildRowsForResponse(n++ * ROWS_PER_REQUEST) };
    },
    async close() {
      recent.length = 0;
    },
  };
}

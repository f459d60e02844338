import type { Bottleneck } from '../bottleneck.js';

interface Row {
  id: number;
  label: string;
  values: number[];
}

/** Rows built per request, and how many requests' rows stay referenced (about 8 MB live). */
const ROWS_PER_REQUEST = 3000;
const RETAINED_REQUESTS = 16;
const recent: Row[][] = [];

/**
 * The planted problem, built for the young generation: each request builds thousands of objects that
 * stay referenced for the next few requests. About 8 MB stays live, which fills much of the default
 * 16 MB semi-space, so every scavenge copies it and much of it gets promoted. A larger semi-space
 * (`--max-semi-space-size=64`) lets the same objects die young: far fewer scavenges and less GC time.
 */
export function buildRecentRows(seed: number): number {
  const rows: Row[] = [];
  for (let i = 0; i < ROWS_PER_REQUEST; i++) rows.push({ id: seed + i, label: `row-${seed}-${i}`, values: [i, i * 2, i * 3] });
  recent.push(rows);
  if (recent.length > RETAINED_REQUESTS) recent.shift();
  return rows.length;
}

/** Young-generation GC churn: every request runs {@link buildRecentRows}. */
export function createGcYoung(): Bottleneck {
  let n = 0;
  return {
    handle() {
      return { rows: buildRecentRows(n++ * ROWS_PER_REQUEST) };
    },
    async close() {
      recent.length = 0;
    },
  };
}

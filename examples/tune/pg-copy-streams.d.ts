// pg-copy-streams ships no types; the example uses only `from`.
declare module 'pg-copy-streams' {
  import type { Submittable } from 'pg';
  import type { Writable } from 'node:stream';
  export function from(sql: string): Submittable & Writable;
}

// The database behind the demo's pg bottlenecks: PGlite (no install) by default, or a real
// PostgreSQL when REDLINE_DEMO_PG_URL names one (tests use a throw-away cluster: real latencies,
// and no 20–30 s PGlite start on a fresh machine).
import { startPglite } from './pglite.js';

/** Env var naming a PostgreSQL to use instead of starting PGlite: `postgres://user@host:port/db`. */
export const DEMO_PG_URL_ENV = 'REDLINE_DEMO_PG_URL';

/** A database the demo connects to. */
export interface DemoDatabase {
  url: string;
  /** `pglite` (WASM, one query at a time, slow) or `postgres` (a real server). */
  kind: 'pglite' | 'postgres';
  /** Stops PGlite; leaves a real server running (it is not ours). */
  stop(): Promise<void>;
}

/** Opens the demo's database: the one in {@link DEMO_PG_URL_ENV}, or a fresh PGlite. */
export async function openDemoDatabase(env: NodeJS.ProcessEnv = process.env): Promise<DemoDatabase> {
  const url = env[DEMO_PG_URL_ENV];
  if (url !== undefined && url !== '') return { url, kind: 'postgres', stop: async () => undefined };
  const db = await startPglite();
  return { url: db.url, kind: 'pglite', stop: () => db.stop() };
}

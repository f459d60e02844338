// Child process that serves a PGlite database on the PostgreSQL wire protocol (127.0.0.1, a free port),
// started by pglite.ts. Env: REDLINE_PGLITE_TEMPLATE (an initialised data directory, created on first
// use and reused: initdb in WASM takes seconds), REDLINE_PGLITE_DATA (this run's copy),
// REDLINE_PGLITE_CONNECTIONS (most concurrent client connections). Prints `ready <port>` when serving.
import { cpSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

const template = process.env.REDLINE_PGLITE_TEMPLATE ?? '';
const dataDir = process.env.REDLINE_PGLITE_DATA ?? '';
const maxConnections = Number(process.env.REDLINE_PGLITE_CONNECTIONS ?? 20);

async function ensureTemplate(): Promise<void> {
  if (existsSync(join(template, 'PG_VERSION'))) return;
  // Initialise next to the template and rename, so concurrent first runs never see half a directory.
  const scratch = mkdtempSync(join(dirname(template), 'init-'));
  const db = await PGlite.create(scratch);
  await db.close();
  try {
    renameSync(scratch, template);
  } catch {
    rmSync(scratch, { recursive: true, force: true }); // another process won the race
  }
}

await ensureTemplate();
cpSync(template, dataDir, { recursive: true });
const db = await PGlite.create(dataDir);
const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections });
await server.start();
const port = Number(server.getServerConn().split(':').pop());
process.stdout.write(`ready ${port}\n`);
const stop = (): void => {
  void server
    .stop()
    .then(() => db.close())
    .finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// The demo service owns us: when it goes, so do we.
process.stdin.resume();
process.stdin.once('end', stop);

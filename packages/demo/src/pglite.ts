// A real PostgreSQL for the demo that needs no install: PGlite (PostgreSQL compiled to WASM) served
// on the wire protocol by @electric-sql/pglite-socket in a child process, queried with `pg`. Shared by
// the demo's database bottlenecks (pool-starvation here; n-plus-one and slow-query use it too).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A running PGlite server. */
export interface PgliteServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** Stops the server and removes this run's data directory. */
  stop(): Promise<void>;
}

/** Options of {@link startPglite}. */
export interface StartPgliteOptions {
  /** Most concurrent client connections the server accepts (default 20). */
  maxConnections?: number;
  /** How long to wait for the server, ms (default 120 000: the first run initialises a database in WASM). */
  timeoutMs?: number;
}

/** Where the initialised data directory is kept between runs (one per PGlite version). */
function templateDir(): string {
  // The package does not export its package.json: find it above the resolved entry point.
  let dir = dirname(createRequire(import.meta.url).resolve('@electric-sql/pglite'));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  const version = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  const root = join(tmpdir(), 'redline-demo-pglite');
  mkdirSync(root, { recursive: true });
  return join(root, `template-${version}`);
}

/**
 * Starts PGlite in a child process on a free loopback port and resolves once it serves. The child
 * gets no NODE_OPTIONS, so Redline's probe (and tracing preload) stays in the demo service: the
 * database is not the process under test. The first call on a machine initialises a data directory
 * (seconds); later calls copy it.
 */
export async function startPglite(opts: StartPgliteOptions = {}): Promise<PgliteServer> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const template = templateDir();
  const data = join(mkdtempSync(join(tmpdir(), 'redline-demo-pgdata-')), 'data');
  const env: NodeJS.ProcessEnv = { ...process.env, REDLINE_PGLITE_TEMPLATE: template, REDLINE_PGLITE_DATA: data, REDLINE_PGLITE_CONNECTIONS: String(opts.maxConnections ?? 20) };
  delete env.NODE_OPTIONS;
  for (const k of Object.keys(env)) if (k.startsWith('REDLINE_PROBE') || k.startsWith('OTEL_')) delete env[k];
  const script = fileURLToPath(new URL('./pglite-server.js', import.meta.url));
  const child = spawn(process.execPath, [script], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`PGlite did not start within ${timeoutMs} ms: ${stderr}`));
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`PGlite exited with ${code} before serving: ${stderr}`));
    });
  });
  let stopped: Promise<void> | undefined;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      });
      return stopped;
    },
  };
}

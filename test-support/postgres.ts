// A throw-away PostgreSQL cluster for tests and benches: initdb into a temp dir, start `postgres` on a
// free loopback port with trust auth and no durability, remove everything on stop(). Uses Debian's
// server binaries (/usr/lib/postgresql/<version>/bin, from the `postgresql` package that .ci/run
// installs). initdb refuses to run as root, so as root the binaries run as the `postgres` user.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandAs, freePort, killOnExit, runAsUser, stopChild, waitForLog, type RunAs } from './throwaway.ts';

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** The server's `max_connections` (default 100). Superuser-reserved slots (3) count inside it. */
  maxConnections?: number;
  /** A database to create besides `postgres` (default: use `postgres`). */
  database?: string;
  /** More `-c name=value` server settings, e.g. `{ log_min_duration_statement: '0' }`. */
  settings?: Record<string, string>;
  /** How long to wait for initdb and start-up together, in ms (default 60 000). */
  timeoutMs?: number;
}

/** A running throw-away cluster. The superuser `user` connects without a password. */
export interface PostgresServer {
  host: string;
  port: number;
  user: string;
  database: string;
  /** `postgres://user@host:port/database` */
  url: string;
  /** The server's major version, e.g. 15. */
  version: number;
  /** The temp directory holding the cluster (removed by stop()). */
  dir: string;
  /** Stops the server (fast shutdown, then SIGKILL after 5 s) and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** The directory holding `initdb` and `postgres`: $REDLINE_PG_BIN, else the newest Debian version. */
export function findPostgresBin(): string {
  const fromEnv = process.env.REDLINE_PG_BIN;
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error(`no PostgreSQL server binaries under ${root}/<version>/bin: install them with \`apt-get install -y postgresql\` (or set REDLINE_PG_BIN)`);
  }
  return join(root, newest, 'bin');
}

function runAs(): RunAs {
  return runAsUser('postgres', 'running as root, but there is no `postgres` user to run PostgreSQL as (the postgresql package creates it)');
}

function runOrThrow(as: RunAs, bin: string, args: string[], timeoutMs: number): void {
  const [cmd, argv] = commandAs(as, bin, args);
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C' } });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
}

/**
 * Starts a fresh PostgreSQL cluster on 127.0.0.1 and a free port: trust auth, superuser `postgres`,
 * fsync, synchronous commit and full-page writes off. Call `stop()` (e.g. in `after()`).
 * Throws if the server binaries are missing or the server does not start within `timeoutMs`.
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PostgresServer> {
  const maxConnections = opts.maxConnections ?? 100;
  if (!Number.isInteger(maxConnections) || maxConnections < 5 || maxConnections > 10_000) {
    throw new RangeError(`maxConnections must be an integer in 5..10000, got ${maxConnections}`);
  }
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const bin = findPostgresBin();
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'redline-pg-'));
  const dataDir = join(dir, 'data');
  if (as.prefix.length > 0) chownSync(dir, as.uid, as.gid);
  try {
    runOrThrow(as, join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C', '--no-instructions'], timeoutMs);
    const version = Number(spawnSync(join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.match(/(\d+)(?:\.\d+)?/)?.[1] ?? 0);
    const settings: Record<string, string> = {
      listen_addresses: '127.0.0.1',
      unix_socket_directories: dir,
      max_connections: String(maxConnections),
      fsync: 'off',
      synchronous_commit: 'off',
      full_page_writes: 'off',
      shared_buffers: '32MB',
      logging_collector: 'off',
      ...opts.settings,
    };
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      const args = ['-D', dataDir, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
      const [cmd, argv] = commandAs(as, join(bin, 'postgres'), args);
      const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
      const forget = killOnExit(child, dir);
      // SIGINT is PostgreSQL's "fast shutdown": disconnects clients, no checkpoint wait worth mentioning.
      const halt = (): Promise<void> => stopChild(child, 'SIGINT');
      try {
        await waitForLog(child, 'database system is ready to accept connections', 'PostgreSQL', timeoutMs);
      } catch (err) {
        forget();
        await halt();
        // Another process may have taken the port between freePort() and listen(): try a new one.
        if (attempt < 3 && err instanceof Error && /could not bind|Address already in use/.test(err.message)) continue;
        throw err;
      }
      const database = opts.database ?? 'postgres';
      if (database !== 'postgres') {
        try {
          runOrThrow(as, join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', database], timeoutMs);
        } catch (err) {
          forget();
          await halt();
          throw err;
        }
      }
      let stopped: Promise<void> | undefined;
      const stop = (): Promise<void> => {
        stopped ??= (async () => {
          await halt();
          forget();
          rmSync(dir, { recursive: true, force: true });
        })();
        return stopped;
      };
      const host = '127.0.0.1';
      return { host, port, user: 'postgres', database, url: `postgres://postgres@${host}:${port}/${database}`, version, dir, stop };
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// A throw-away PostgreSQL cluster for tests and benches: initdb into a temp dir, start `postgres` on a
// free loopback port with trust auth and no durability, remove everything on stop(). Uses Debian's
// server binaries (/usr/lib/postgresql/<version>/bin, from the `postgresql` package that .ci/run
// installs). initdb refuses to run as root, so as root the binaries run as the `postgres` user.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

interface RunAs {
  uid: number;
  gid: number;
  /** Prefix that runs a command as that user (empty when we already are not root). */
  prefix: string[];
}

function runAs(): RunAs {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? -1, prefix: [] };
  const id = (flag: string): number => {
    const r = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error('running as root, but there is no `postgres` user to run PostgreSQL as (the postgresql package creates it)');
    return Number(r.stdout.trim());
  };
  // setpriv execs in place (no extra parent process), so the child we signal is postgres itself.
  return { uid: id('-u'), gid: id('-g'), prefix: ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'] };
}

function command(as: RunAs, bin: string, args: string[]): [string, string[]] {
  const all = [...as.prefix, bin, ...args];
  return [all[0] as string, all.slice(1)];
}

function runOrThrow(as: RunAs, bin: string, args: string[], timeoutMs: number): void {
  const [cmd, argv] = command(as, bin, args);
  const r = spawnSync(cmd, argv, { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, LC_ALL: 'C' } });
  if (r.status !== 0) throw new Error(`${bin} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${(r.stderr || r.stdout).trim().slice(-2000)}`);
}

const live = new Set<{ child: ChildProcess; dir: string }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test that crashes must not leave a postmaster behind holding the port and the temp dir.
  process.once('exit', () => {
    for (const s of live) {
      s.child.kill('SIGKILL');
      rmSync(s.dir, { recursive: true, force: true });
    }
  });
}

/** Waits for the log line that says the server accepts connections; rejects if it exits first. */
function waitReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => finish(new Error(`PostgreSQL did not become ready within ${timeoutMs}ms:\n${log.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString('utf8');
      if (log.length > 64 * 1024) log = log.slice(-32 * 1024);
      if (log.includes('database system is ready to accept connections')) finish();
    };
    const onExit = (code: number | null, signal: string | null): void => finish(new Error(`PostgreSQL exited during start-up (${signal ?? `code ${code}`}):\n${log.slice(-2000)}`));
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      // Keep draining the log so a chatty server never blocks on a full pipe.
      child.stderr?.resume();
      if (err) reject(err);
      else resolve();
    };
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGINT'); // "fast shutdown": disconnects clients, no checkpoint wait worth mentioning
  });
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
      const [cmd, argv] = command(as, join(bin, 'postgres'), args);
      const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
      const entry = { child, dir };
      live.add(entry);
      installExitHook();
      try {
        await waitReady(child, timeoutMs);
      } catch (err) {
        live.delete(entry);
        await stopChild(child);
        // Another process may have taken the port between freePort() and listen(): try a new one.
        if (attempt < 3 && err instanceof Error && /could not bind|Address already in use/.test(err.message)) continue;
        throw err;
      }
      const database = opts.database ?? 'postgres';
      if (database !== 'postgres') {
        try {
          runOrThrow(as, join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', database], timeoutMs);
        } catch (err) {
          live.delete(entry);
          await stopChild(child);
          throw err;
        }
      }
      let stopped: Promise<void> | undefined;
      const stop = (): Promise<void> => {
        stopped ??= (async () => {
          await stopChild(child);
          live.delete(entry);
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

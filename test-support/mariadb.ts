// A throw-away MariaDB server for the mysql2 tests: mariadb-install-db into a temp dir, mariadbd on a
// free loopback port without grant tables (any user connects), removed on stop(). Debian's
// `mariadb-server` package provides the binaries; as root they run as the `mysql` user.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandAs, freePort, killOnExit, runAsUser, stopChild, waitForLog } from './throwaway.ts';

/** A running throw-away MariaDB server; connect as `root` without a password. */
export interface MariaDbServer {
  host: string;
  port: number;
  user: string;
  /** Most client connections the server accepts. */
  maxConnections: number;
  stop(): Promise<void>;
}

/** Whether the MariaDB server binaries are installed (`apt-get install -y mariadb-server`). */
export function hasMariaDb(): boolean {
  return existsSync('/usr/sbin/mariadbd') && existsSync('/usr/bin/mariadb-install-db');
}

/** Starts a fresh MariaDB on 127.0.0.1 and a free port; throws when the binaries are missing or it does not start. */
export async function startMariaDb(opts: { maxConnections?: number; timeoutMs?: number } = {}): Promise<MariaDbServer> {
  if (!hasMariaDb()) throw new Error('MariaDB is not installed: apt-get install -y mariadb-server');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const maxConnections = opts.maxConnections ?? 100;
  const as = runAsUser('mysql', 'running as root, but there is no `mysql` user to run MariaDB as (the mariadb-server package creates it)');
  const dir = mkdtempSync(join(tmpdir(), 'redline-mariadb-'));
  if (as.prefix.length > 0) chownSync(dir, as.uid, as.gid);
  const dataDir = join(dir, 'data');
  try {
    const [cmd, args] = commandAs(as, 'mariadb-install-db', ['--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db']);
    const init = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
    if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${(init.stderr || init.stdout).slice(-2000)}`);
    const port = await freePort();
    const [scmd, sargs] = commandAs(as, '/usr/sbin/mariadbd', [
      '--no-defaults', `--datadir=${dataDir}`, `--port=${port}`, '--bind-address=127.0.0.1',
      `--socket=${join(dir, 'sock')}`, `--pid-file=${join(dir, 'pid')}`, '--skip-grant-tables', '--skip-log-bin',
      '--innodb-buffer-pool-size=16M', `--max-connections=${maxConnections}`,
    ]);
    const child: ChildProcess = spawn(scmd, sargs, { stdio: ['ignore', 'ignore', 'pipe'] });
    const forget = killOnExit(child, dir);
    try {
      await waitForLog(child, 'ready for connections', 'MariaDB', timeoutMs);
    } catch (err) {
      forget();
      await stopChild(child);
      throw err;
    }
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped ??= (async () => {
        await stopChild(child);
        forget();
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    };
    return { host: '127.0.0.1', port, user: 'root', maxConnections, stop };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

// A throw-away MariaDB server for the mysql2 tests: mariadb-install-db into a temp dir, mariadbd on a
// free loopback port without grant tables (any user connects), removed on stop(). Debian's
// `mariadb-server` package provides the binaries; as root they run as the `mysql` user.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A running throw-away MariaDB server; connect as `root` without a password. */
export interface MariaDbServer {
  host: string;
  port: number;
  user: string;
  /** Most client connections the server accepts. */
  maxConnections: number;
  stop(): Promise<void>;
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

/** Whether the MariaDB server binaries are installed (`apt-get install -y mariadb-server`). */
export function hasMariaDb(): boolean {
  return existsSync('/usr/sbin/mariadbd') && existsSync('/usr/bin/mariadb-install-db');
}

/** Starts a fresh MariaDB on 127.0.0.1 and a free port; throws when the binaries are missing or it does not start. */
export async function startMariaDb(opts: { maxConnections?: number; timeoutMs?: number } = {}): Promise<MariaDbServer> {
  if (!hasMariaDb()) throw new Error('MariaDB is not installed: apt-get install -y mariadb-server');
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const maxConnections = opts.maxConnections ?? 100;
  const isRoot = process.getuid?.() === 0;
  const prefix = isRoot ? ['setpriv', '--reuid=mysql', '--regid=mysql', '--init-groups', '--'] : [];
  const dir = mkdtempSync(join(tmpdir(), 'redline-mariadb-'));
  if (isRoot) {
    const id = (flag: string): number => Number(spawnSync('id', [flag, 'mysql'], { encoding: 'utf8' }).stdout.trim());
    chownSync(dir, id('-u'), id('-g'));
  }
  const dataDir = join(dir, 'data');
  const run = (argv: string[]): [string, string[]] => {
    const all = [...prefix, ...argv];
    return [all[0] as string, all.slice(1)];
  };
  try {
    const [cmd, args] = run(['mariadb-install-db', '--no-defaults', `--datadir=${dataDir}`, '--auth-root-authentication-method=normal', '--skip-test-db']);
    const init = spawnSync(cmd, args, { encoding: 'utf8', timeout: timeoutMs });
    if (init.status !== 0) throw new Error(`mariadb-install-db failed: ${(init.stderr || init.stdout).slice(-2000)}`);
    const port = await freePort();
    const [scmd, sargs] = run([
      '/usr/sbin/mariadbd', '--no-defaults', `--datadir=${dataDir}`, `--port=${port}`, '--bind-address=127.0.0.1',
      `--socket=${join(dir, 'sock')}`, `--pid-file=${join(dir, 'pid')}`, '--skip-grant-tables', '--skip-log-bin',
      '--innodb-buffer-pool-size=16M', `--max-connections=${maxConnections}`,
    ]);
    const child: ChildProcess = spawn(scmd, sargs, { stdio: ['ignore', 'ignore', 'pipe'] });
    const onExit = (): void => {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', onExit);
    await new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => reject(new Error(`MariaDB did not start within ${timeoutMs}ms:\n${log.slice(-2000)}`)), timeoutMs);
      child.stderr?.on('data', (chunk: Buffer) => {
        log = (log + chunk.toString('utf8')).slice(-32 * 1024);
        if (log.includes('ready for connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`MariaDB exited during start-up (code ${code}):\n${log.slice(-2000)}`));
      });
    });
    let stopped: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopped ??= new Promise<void>((resolve) => {
        process.off('exit', onExit);
        const done = (): void => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (child.exitCode !== null || child.signalCode !== null) return done();
        const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(kill);
          done();
        });
        child.kill('SIGTERM');
      });
      return stopped;
    };
    return { host: '127.0.0.1', port, user: 'root', maxConnections, stop };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

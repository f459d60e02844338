// What the throw-away servers of the tests and benches share (PostgreSQL, MariaDB, Varnish,
// redis-server): a free loopback port, running a daemon as its own user when we are root, waiting for
// it to be ready, stopping it, and not leaving it behind when a test process dies.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';

/** A TCP port that was free on 127.0.0.1 a moment ago (another process may still take it). */
export function freePort(): Promise<number> {
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

/** Who a daemon runs as: as root, the named system user (database servers refuse root); else ourselves. */
export interface RunAs {
  uid: number;
  gid: number;
  /** Prefix that runs a command as that user (empty when we are not root). */
  prefix: string[];
}

/**
 * As root: `user` (its ids, and a `setpriv` prefix, which execs in place, so the child we signal is the
 * daemon itself). Otherwise our own ids and no prefix. Throws when root and the user does not exist.
 */
export function runAsUser(user: string, missing = `running as root, but there is no \`${user}\` user to run the server as`): RunAs {
  const uid = process.getuid?.() ?? -1;
  if (uid !== 0) return { uid, gid: process.getgid?.() ?? -1, prefix: [] };
  const id = (flag: string): number => {
    const r = spawnSync('id', [flag, user], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(missing);
    return Number(r.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g'), prefix: ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--init-groups', '--'] };
}

/** `[command, args]` for spawn, with the run-as prefix in front. */
export function commandAs(as: RunAs, bin: string, args: readonly string[]): [string, string[]] {
  const all = [...as.prefix, bin, ...args];
  return [all[0] as string, all.slice(1)];
}

/**
 * Waits until the child's stderr contains `ready`; rejects on timeout or when the child exits first,
 * with the end of the log. Keeps draining the pipe afterwards so a chatty server never blocks on it.
 */
export function waitForLog(child: ChildProcess, ready: string, label: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => finish(new Error(`${label} did not become ready within ${timeoutMs}ms:\n${log.slice(-2000)}`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString('utf8');
      if (log.length > 64 * 1024) log = log.slice(-32 * 1024);
      if (log.includes(ready)) finish();
    };
    const onExit = (code: number | null, signal: string | null): void => finish(new Error(`${label} exited during start-up (${signal ?? `code ${code}`}):\n${log.slice(-2000)}`));
    const finish = (err?: Error): void => {
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      child.stderr?.resume();
      if (err) reject(err);
      else resolve();
    };
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:`port`. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.end();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Polls until 127.0.0.1:`port` accepts connections. Rejects after `timeoutMs`, or as soon as the child
 * (when given) exits, with `describe()` (e.g. its stderr) in the message.
 */
export async function waitForPort(port: number, label: string, timeoutMs: number, child?: ChildProcess, describe: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child !== undefined && child.exitCode !== null) throw new Error(`${label} exited with ${child.exitCode}: ${describe().trim().slice(0, 2000)}`);
    if (await portOpen(port)) return;
    if (Date.now() > deadline) throw new Error(`${label} did not listen on ${port} within ${timeoutMs} ms: ${describe().trim().slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends `signal` and waits for the child to exit, SIGKILLing it after `graceMs`. Returns at once if it already exited. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill(signal);
  });
}

const live = new Set<{ child: ChildProcess; dir: string | undefined }>();
let exitHookInstalled = false;

/**
 * Kills `child` (and removes `dir`) if this process exits while it still runs: a test that crashes must
 * not leave a server behind holding a port and a temp dir. Returns the function that forgets it again.
 */
export function killOnExit(child: ChildProcess, dir?: string): () => void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const s of live) {
        s.child.kill('SIGKILL');
        if (s.dir !== undefined) rmSync(s.dir, { recursive: true, force: true });
      }
    });
  }
  const entry = { child, dir };
  live.add(entry);
  return () => {
    live.delete(entry);
  };
}

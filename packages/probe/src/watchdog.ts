import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The watchdog's program. It holds the read end of a pipe from the runner and kills the target's
 * process group when that pipe closes without the runner first writing `x` (disarm): the runner
 * exited without stopping the target (SIGKILL, SIGHUP, a crash). It ignores SIGINT/SIGTERM/SIGHUP
 * so a dying terminal session cannot take it down before it has done its job.
 */
const WATCHDOG_SOURCE = `
const pgid = Number(process.argv[1]);
let armed = true;
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {});
const alive = () => { try { process.kill(-pgid, 0); return true; } catch (e) { return e.code === 'EPERM'; } };
const fire = () => {
  if (!armed) process.exit(0);
  armed = false;
  try { process.kill(-pgid, 'SIGTERM'); } catch {}
  const deadline = Date.now() + 5000;
  const poll = setInterval(() => {
    if (!alive()) process.exit(0);
    if (Date.now() > deadline) { try { process.kill(-pgid, 'SIGKILL'); } catch {} process.exit(0); }
  }, 50);
};
process.stdin.on('data', (d) => { if (String(d).includes('x')) armed = false; });
process.stdin.on('end', fire);
process.stdin.on('error', fire);
process.stdin.resume();
`;

/** A running watchdog; `disarm()` ends it without touching the target. */
export interface Watchdog {
  readonly pid: number | undefined;
  disarm(): void;
}

/**
 * Starts a watchdog process for the target's process group `pgid`. The target runs detached (its
 * own process group, so a stop reaches everything behind `sh -c`), so nothing in the kernel ties
 * its life to the runner's: this small process does. It neither keeps the runner alive (its pipe
 * and handle are unref'd) nor ever touches the target while the runner lives.
 */
export function startWatchdog(pgid: number): Watchdog {
  const child: ChildProcess = spawn(process.execPath, ['-e', WATCHDOG_SOURCE, String(pgid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
    env: {},
  });
  child.on('error', () => undefined);
  child.stdin?.on('error', () => undefined);
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  let done = false;
  return {
    pid: child.pid,
    disarm() {
      if (done) return;
      done = true;
      child.stdin?.end('x');
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';

/**
 * The watchdog's program, a POSIX shell script (about 1 MB of memory, where a Node process takes
 * 40 MB). It holds the read end of a pipe from the runner and kills the target's process group
 * (`$1`) when that pipe closes without the runner first writing `x` (disarm): the runner exited
 * without stopping the target (SIGKILL, SIGHUP, a crash). SIGTERM first, SIGKILL after 5 s. It
 * ignores SIGINT/SIGTERM/SIGHUP so a dying terminal session cannot take it down first.
 */
const WATCHDOG_SCRIPT = `trap '' INT TERM HUP
IFS= read -r line
[ "$line" = x ] && exit 0
kill -TERM "-$1" 2>/dev/null || exit 0
i=0
while [ $i -lt 100 ]; do
  kill -0 "-$1" 2>/dev/null || exit 0
  sleep 0.05
  i=$((i + 1))
done
kill -KILL "-$1" 2>/dev/null
exit 0
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
  const child: ChildProcess = spawn('/bin/sh', ['-c', WATCHDOG_SCRIPT, 'redline-watchdog', String(pgid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
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
      child.stdin?.end('x\n');
    },
  };
}

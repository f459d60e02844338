import { closeSync, openSync, readSync } from 'node:fs';
import type { Clock } from './clock.js';

/**
 * A {@link Clock} of the time, ms, the calling thread has spent runnable but waiting for a CPU
 * (the run delay of Linux's `/proc/thread-self/schedstat`, in ns there). Give it to a limiter as
 * `stallClock` so that latency a busy machine adds (the process waiting for a core) is not read as
 * queueing in the service. Returns `undefined` where the file does not exist (not Linux, or no
 * schedstats). Keeps one file descriptor open for the life of the process; each `now()` is one
 * `pread`, and the limiter reads it once per sampling window.
 */
export function runQueueClock(path = '/proc/thread-self/schedstat'): Clock | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  const buf = Buffer.alloc(96);
  const now = (): number => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    // "<on-cpu ns> <run-delay ns> <timeslices>\n"
    const text = buf.toString('latin1', 0, n);
    const first = text.indexOf(' ');
    return Number(text.slice(first + 1, text.indexOf(' ', first + 1))) / 1e6;
  };
  try {
    if (Number.isFinite(now())) return { now };
  } catch {
    // unreadable: fall through
  }
  closeSync(fd);
  return undefined;
}

import { pbkdf2, pbkdf2Sync } from 'node:crypto';
import type { Bottleneck } from '../bottleneck.js';

/** CPU time one password hash takes, in ms: four of them at once fill the default thread pool. */
const HASH_CPU_MS = 50;

/** PBKDF2 iterations that take about `ms` of CPU on this machine. */
function calibrateIterations(ms: number): number {
  const probe = 2000;
  pbkdf2Sync('warm', 'up', probe, 32, 'sha256');
  const cpuMs = (): number => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const start = cpuMs();
  let runs = 0;
  while (cpuMs() - start < 30) {
    pbkdf2Sync('calibrate', 'salt', probe, 32, 'sha256');
    runs++;
  }
  return Math.max(probe, Math.round(((runs * probe) / (cpuMs() - start)) * ms));
}

/** The planted problem: every request derives a key with async PBKDF2, which runs on the libuv thread pool. */
export function hashPassword(password: string, iterations: number): Promise<string> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, 'per-user-salt', iterations, 32, 'sha256', (err, key) => (err ? reject(err) : resolve(key.toString('hex'))));
  });
}

/** Thread-pool saturation: the main thread idles while requests queue for the 4 libuv threads. */
export function createThreadpool(): Bottleneck {
  const iterations = calibrateIterations(HASH_CPU_MS);
  let n = 0;
  return {
    async handle() {
      const digest = await hashPassword(`user-${++n}`, iterations);
      return { user: n, digest: digest.slice(0, 12) };
    },
    async close() {},
  };
}

import type { Bottleneck } from '../bottleneck.js';

/** Connections in the pool, how long each request holds one, and how long a waiter waits before failing. */
const POOL_SIZE = 4;
const HOLD_MS = 40;
const ACQUIRE_TIMEOUT_MS = 10_000;

interface Waiter {
  resolve: (conn: number) => void;
  timer: NodeJS.Timeout;
}

/**
 * A deliberately small database-style pool. Waiters queue with an acquire timeout (one timer each),
 * as generic pools do, which is how the probe sees them pile up.
 */
export class TinyPool {
  readonly #free: number[] = Array.from({ length: POOL_SIZE }, (_, i) => i);
  readonly #waiters: Waiter[] = [];

  /** Waits for a free connection; rejects after ACQUIRE_TIMEOUT_MS. */
  acquire(): Promise<number> {
    const conn = this.#free.pop();
    if (conn !== undefined) return Promise.resolve(conn);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(new Error('pool acquire timeout'));
        }, ACQUIRE_TIMEOUT_MS),
      };
      this.#waiters.push(waiter);
    });
  }

  /** Hands the connection to the next waiter, or back to the pool. */
  release(conn: number): void {
    const next = this.#waiters.shift();
    if (next === undefined) {
      this.#free.push(conn);
      return;
    }
    clearTimeout(next.timer);
    next.resolve(conn);
  }

  /** Fails every waiter (shutdown). */
  drain(): void {
    for (const w of this.#waiters.splice(0)) clearTimeout(w.timer);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The planted problem: holds a pooled connection for the whole request, including slow post-processing. */
export async function loadOrderWithConnection(pool: TinyPool): Promise<{ conn: number }> {
  const conn = await pool.acquire();
  try {
    await sleep(HOLD_MS / 2); // the query
    await sleep(HOLD_MS / 2); // post-processing that should not hold the connection
    return { conn };
  } finally {
    pool.release(conn);
  }
}

/** Pool starvation: every request runs {@link loadOrderWithConnection} on a pool of POOL_SIZE. */
export function createPoolStarvation(): Bottleneck {
  const pool = new TinyPool();
  return {
    handle() {
      return loadOrderWithConnection(pool);
    },
    async close() {
      pool.drain();
    },
  };
}
